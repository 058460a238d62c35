// SPDX-License-Identifier: Apache-2.0
#include "handover_controller.hpp"

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/pcsc/pcsc.hpp>
#include <unioncard/registry/model.hpp>

#include <nlohmann/json.hpp>

#include <QMetaObject>

namespace unioncard::station::ui {

HandoverController::HandoverController(StationContext& context, QObject* parent)
    : QObject(parent), m_context(context) {}

QString HandoverController::number() const {
    if (!m_row) {
        return {};
    }
    auto n = card::CardNumber::parse(m_row->cardNumber);
    return n ? qs(n->formatted()) : qs(m_row->cardNumber);
}

QString HandoverController::maskedNumber() const {
    if (!m_row) {
        return {};
    }
    auto n = card::CardNumber::parse(m_row->cardNumber);
    return n ? qs(n->masked()) : QString();
}

QString HandoverController::cardFace() const {
    return m_row ? QStringLiteral("image://cardface/card/") + qs(m_row->cardNumber) : QString();
}

bool HandoverController::canHandOver() const {
    return m_row && m_context.who && m_context.who->role != Role::Auditor &&
           (m_row->state == CardState::Produced || m_row->state == CardState::Refused);
}

bool HandoverController::canRefuse() const {
    return m_row && m_context.who && m_context.who->role != Role::Auditor &&
           m_row->state == CardState::Produced;
}

bool HandoverController::canReportLost() const {
    return m_row && m_context.who && m_context.who->role == Role::Supervisor &&
           m_row->state == CardState::HandedOver;
}

bool HandoverController::canReplace() const {
    return m_row && m_context.who && m_context.who->role == Role::Supervisor &&
           (m_row->state == CardState::HandedOver || m_row->state == CardState::Lost);
}

void HandoverController::fail(const QString& code, const QString& detail) {
    m_state = "error";
    m_error = code;
    m_errorDetail = detail;
    emit changed();
}

void HandoverController::reset() {
    m_desk.cancel();
    m_state = "idle";
    m_row.reset();
    m_recorded.clear();
    m_error.clear();
    m_errorDetail.clear();
    emit changed();
}

void HandoverController::waitForCard() {
    if (!m_context.services.desk) {
        fail("reader", "this station has no desk reader");
        return;
    }
    m_desk.cancel();
    m_state = "waiting";
    m_row.reset();
    m_recorded.clear();
    m_error.clear();
    m_errorDetail.clear();
    emit changed();
    const StationServices& services = m_context.services;
    m_desk.post([this, &services](std::stop_token stop) {
        QString digits, error, detail;
        auto connection = services.desk->waitForCard(stop);
        if (!connection) {
            error = connection.error().code == card::FaultCode::Cancelled ? "cancelled" : "reader";
            detail = qs(connection.error().message);
        } else if (auto keys = services.keys->masterKeys({"record-read"}); !keys) {
            error = "reader";
            detail = qs(keys.error().message);
        } else {
            // As a verifier reads it: the card's own read key, the record, its number.
            auto uid = card::pcsc::readUid(**connection);
            card::desfire::Desfire chip(**connection);
            auto read =
                card::desfire::readRecord(chip, services.profile, keys.value(),
                                          {uid ? std::optional(uid.value()) : std::nullopt});
            if (!read) {
                error = "not_union_card";
                detail = qs(read.error().message);
            } else if (auto view = card::inspectRecord(read->record); !view || !view->record) {
                error = "not_union_card";
            } else {
                digits = qs(view->record->number.digits());
            }
        }
        QMetaObject::invokeMethod(
            this, [this, digits, error, detail] { cardRead(digits, error, detail); },
            Qt::QueuedConnection);
    });
}

void HandoverController::cancel() {
    m_desk.cancel();
}

void HandoverController::cardRead(const QString& digits, const QString& error,
                                  const QString& detail) {
    if (error == "cancelled") {
        if (m_state == "waiting") { // not when a typed number was looked up meanwhile
            m_state = "idle";
            emit changed();
        }
        return;
    }
    if (!error.isEmpty()) {
        fail(error, detail);
        return;
    }
    show(digits.toStdString());
}

bool HandoverController::show(const std::string& digits) {
    auto row = m_context.store.cardByNumber(digits);
    if (!row || !*row) {
        m_row.reset();
        auto n = card::CardNumber::parse(digits);
        fail("not_ours", n ? qs(n->masked()) : QString());
        return false;
    }
    m_row = **row;
    m_memberName.clear();
    m_organisation.clear();
    if (auto app = m_context.store.application(m_row->applicationId); app && *app) {
        m_memberName = qs((*app)->application.fullName);
        m_organisation = qs((*app)->application.organisationName);
    }
    m_state = "found";
    m_error.clear();
    m_errorDetail.clear();
    emit changed();
    return true;
}

bool HandoverController::lookUp(const QString& text) {
    m_desk.cancel();
    auto n = card::CardNumber::parse(text.toStdString());
    if (!n) {
        fail("bad_number", qs(n.error().message));
        return false;
    }
    m_recorded.clear();
    return show(n->digits());
}

bool HandoverController::recordEvent(registry::EventKind kind, const QString& reason) {
    if (!m_row || !m_context.who) {
        return false;
    }
    if (auto e = m_context.store.record(m_row->cardNumber, kind, reason.toStdString(),
                                        m_context.who->id, nowSeconds())) {
        fail("refused_by_rules", qs(e->message));
        return false;
    }
    m_recorded = qs(std::string(registry::toString(kind)));
    show(m_row->cardNumber);
    m_state = "recorded";
    emit changed();
    deliver();
    return true;
}

bool HandoverController::confirmHandover() {
    return canHandOver() && recordEvent(registry::EventKind::HandedOver, {});
}

bool HandoverController::refuse(const QString& reason) {
    if (!canRefuse() || reason.trimmed().isEmpty()) {
        return false;
    }
    return recordEvent(registry::EventKind::Refused, reason.trimmed());
}

bool HandoverController::reportLost() {
    return canReportLost() && recordEvent(registry::EventKind::Lost, {});
}

bool HandoverController::replace(const QString& reason, const QString& secondId,
                                 const QString& secondPin) {
    if (!canReplace() || reason.trimmed().isEmpty()) {
        return false;
    }
    const std::string what =
        nlohmann::json{{"card", m_row->cardNumber}, {"reason", reason.trimmed().toStdString()}}
            .dump();
    if (auto refused = m_context.store.approveBySecond(
            TwoPersonAct::Replace, m_context.who->id, secondId.trimmed().toStdString(),
            secondPin.toStdString(), what, nowSeconds())) {
        fail(refused->code == "second_person" ? QStringLiteral("second_person")
                                              : QStringLiteral("wrong_pin"),
             qs(refused->message));
        return false;
    }
    auto id = m_context.store.replace(m_row->cardNumber, reason.trimmed().toStdString(),
                                      m_context.who->id, nowSeconds());
    if (!id) {
        fail("refused_by_rules", qs(id.error().message));
        return false;
    }
    m_recorded = "replaced";
    show(m_row->cardNumber);
    m_state = "recorded";
    emit changed();
    deliver();
    return true;
}

void HandoverController::deliver() {
    m_delivered = false;
    if (!m_context.services.openRegistry) {
        emit changed();
        return;
    }
    m_delivering = true;
    emit changed();
    const StationServices& services = m_context.services;
    m_registry.post([this, &services](std::stop_token) {
        bool delivered = false;
        if (auto store = services.openStore()) {
            if (auto client = services.openRegistry()) {
                (void)store->outbox().retryNow();
                (void)store->outbox().deliver(client.value());
            }
            auto st = store->outbox().status();
            delivered = st && st->waiting == 0;
        }
        QMetaObject::invokeMethod(
            this,
            [this, delivered] {
                m_delivering = false;
                m_delivered = delivered;
                emit changed();
            },
            Qt::QueuedConnection);
    });
}

} // namespace unioncard::station::ui
