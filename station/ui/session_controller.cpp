// SPDX-License-Identifier: Apache-2.0
#include "session_controller.hpp"

#include <unioncard/card/pcsc/pcsc.hpp>

#include <QMetaObject>
#include <QPointer>
#include <utility>

namespace unioncard::station::ui {

SessionController::SessionController(StationContext& context, QObject* parent)
    : QObject(parent), m_context(context) {}

QString SessionController::role() const {
    return m_context.who ? qs(std::string(toString(m_context.who->role))) : QString();
}

void SessionController::setError(const QString& code, const QString& detail) {
    m_error = code;
    m_errorDetail = detail;
}

bool SessionController::signIn(const QString& operatorId, const QString& pin) {
    if (operatorId.trimmed().isEmpty() || pin.isEmpty()) {
        setError("wrong_pin", {});
        emit changed();
        return false;
    }
    auto who = m_context.store.signIn(operatorId.trimmed().toStdString(), pin.toStdString());
    if (!who) {
        const std::string& code = who.error().code;
        setError(code.empty() ? QStringLiteral("wrong_pin") : qs(code), qs(who.error().message));
        emit changed();
        return false;
    }
    m_context.who = who.value();
    setError({}, {});
    emit changed();
    return true;
}

void SessionController::signInWithCard(const QString& pin) {
    if (pin.isEmpty()) {
        setError("pin_first", {});
        emit changed();
        return;
    }
    if (!m_context.services.desk || m_waiting) {
        if (!m_context.services.desk) {
            setError("reader", "this station has no desk reader");
            emit changed();
        }
        return;
    }
    m_waiting = true;
    m_cardPin = pin;
    setError({}, {});
    emit changed();
    auto desk = m_context.services.desk;
    m_worker.post([this, desk](std::stop_token stop) {
        QString uid, fault;
        auto connection = desk->waitForCard(stop);
        if (!connection) {
            fault = connection.error().code == card::FaultCode::Cancelled
                        ? QStringLiteral("cancelled")
                        : qs(connection.error().message);
        } else if (auto read = card::pcsc::readUid(**connection); read) {
            uid = qs(card::toHex(read.value()));
        } else {
            fault = qs(read.error().message);
        }
        QMetaObject::invokeMethod(
            this, [this, uid, fault] { cardRead(uid, fault); }, Qt::QueuedConnection);
    });
}

void SessionController::cardRead(const QString& uidHex, const QString& fault) {
    m_waiting = false;
    const QString pin = std::exchange(m_cardPin, QString());
    if (fault == "cancelled") {
        emit changed();
        return;
    }
    if (!fault.isEmpty()) {
        setError("no_card", fault);
        emit changed();
        return;
    }
    auto who = m_context.store.signInByCard(uidHex.toStdString(), pin.toStdString());
    if (!who) {
        const std::string& code = who.error().code;
        setError(code.empty() ? QStringLiteral("unknown_card") : qs(code), qs(who.error().message));
        emit changed();
        return;
    }
    m_context.who = who.value();
    setError({}, {});
    emit changed();
}

void SessionController::cancelCard() {
    m_worker.cancel();
}

void SessionController::signOut() {
    m_worker.cancel();
    m_context.who.reset();
    m_waiting = false;
    m_cardPin.clear();
    setError({}, {});
    emit changed();
}

} // namespace unioncard::station::ui
