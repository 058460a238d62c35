// SPDX-License-Identifier: Apache-2.0
#include "batch_controller.hpp"

#include <unioncard/card/card_number.hpp>

#include <QMetaObject>

namespace unioncard::station::ui {

namespace {

QString grouped(const std::string& digits) {
    if (auto n = card::CardNumber::parse(digits)) {
        return qs(n->formatted());
    }
    return qs(digits);
}

} // namespace

BatchController::BatchController(StationContext& context, QObject* parent)
    : QObject(parent), m_context(context) {
    m_stepTimer.setInterval(300);
    connect(&m_stepTimer, &QTimer::timeout, this, &BatchController::lookAtPrinter);
}

BatchController::~BatchController() {
    if (m_thread.joinable()) {
        m_thread.request_stop();
        m_pauseWake.notify_all();
        m_thread.join();
    }
}

double BatchController::fraction() const {
    return m_total == 0 ? 0.0 : static_cast<double>(m_total - m_left) / m_total;
}

QString BatchController::currentFace() const {
    return m_currentNumber.isEmpty()
               ? QString()
               : QStringLiteral("image://cardface/card/") + QString(m_currentNumber).remove(' ');
}

bool BatchController::start(const QStringList& applicationIds) {
    if (m_running || !m_context.who || m_context.who->role == Role::Auditor ||
        applicationIds.isEmpty()) {
        return false;
    }
    if (m_thread.joinable()) {
        m_thread.join(); // the last batch's thread has ended: it reported its end
    }
    std::vector<std::string> ids;
    for (const auto& id : applicationIds) {
        ids.push_back(id.toStdString());
    }
    m_running = true;
    m_finished = m_cancelled = false;
    m_total = m_left = static_cast<int>(ids.size());
    m_done = m_spoiled = 0;
    m_secondsLeft = -1;
    m_fault.clear();
    m_faultDetail.clear();
    m_error.clear();
    m_errorDetail.clear();
    m_spoiledCards.clear();
    m_startedAt = nowSeconds();
    {
        std::lock_guard lock(m_pauseMutex);
        m_pauseRequested = false;
    }
    m_paused = false;
    m_stepTimer.start();
    emit changed();

    const std::string operatorId = m_context.who->id;
    const StationServices& services = m_context.services;
    m_thread = std::jthread([this, &services, ids, operatorId](std::stop_token stop) {
        auto post = [this](Update u) {
            QMetaObject::invokeMethod(
                this, [this, u = std::move(u)] { apply(u); }, Qt::QueuedConnection);
        };
        auto failed = [&](const char* code, const std::string& detail) {
            Update u;
            u.end = true;
            u.error = code;
            u.errorDetail = qs(detail);
            u.report.notStarted = ids.size();
            post(std::move(u));
        };
        auto store = services.openStore();
        if (!store) {
            return failed("store", store.error().message);
        }
        if (!services.openPrinter || !services.keys) {
            return failed("no_printer", "no printer is configured");
        }
        auto masterKeys = services.keys->masterKeys({});
        if (!masterKeys) {
            return failed("keys", masterKeys.error().message);
        }
        auto printer = services.openPrinter();
        if (!printer) {
            return failed("no_printer", printer.error().message);
        }
        IssuerConfig config;
        config.stationId = services.stationId;
        config.profile = &services.profile;
        config.masterKeys = &masterKeys.value();
        config.keys = services.keys.get();
        config.trust = services.trust.get();
        config.printer = printer->get();
        config.renderer = services.renderer.get();
        config.encoder = services.encoder;
        config.regionName = services.regionName;
        // After a power cut the batch opens the printer again by itself.
        std::unique_ptr<printer::CardPrinter> reopened;
        config.reconnectPrinter = [&]() -> printer::CardPrinter* {
            auto again = services.openPrinter();
            if (!again) {
                return nullptr;
            }
            reopened = std::move(again).value();
            return reopened.get();
        };
        Issuer issuer(store.value(), config);
        // Cards a crash left in the printer first (docs/station.md "After a crash").
        if (auto recovered = issuer.recover(operatorId); !recovered) {
            return failed("store", recovered.error().message);
        }
        BatchHooks hooks;
        hooks.progress = [&](const Progress& p) {
            post(Update{p, false, {}, {}, {}});
        };
        hooks.waitWhilePaused = [this](std::stop_token s) {
            waitWhilePaused(s);
        };
        Update end;
        end.report = issuer.runBatch(ids, operatorId, stop, hooks);
        end.end = true;
        // Tell the registry at once, over this thread's connection.
        if (services.openRegistry) {
            if (auto client = services.openRegistry()) {
                (void)store->outbox().retryNow();
                (void)store->outbox().deliver(client.value());
            }
        }
        post(std::move(end));
    });
    return true;
}

void BatchController::waitWhilePaused(std::stop_token stop) {
    std::unique_lock lock(m_pauseMutex);
    if (m_pauseRequested) {
        QMetaObject::invokeMethod(
            this,
            [this] {
                m_paused = true;
                emit changed();
            },
            Qt::QueuedConnection);
    }
    m_pauseWake.wait(lock, stop, [this] { return !m_pauseRequested; });
}

void BatchController::pause() {
    if (!m_running) {
        return;
    }
    std::lock_guard lock(m_pauseMutex);
    m_pauseRequested = true;
}

void BatchController::resume() {
    {
        std::lock_guard lock(m_pauseMutex);
        m_pauseRequested = false;
    }
    m_pauseWake.notify_all();
    if (m_paused) {
        m_paused = false;
        emit changed();
    }
}

void BatchController::cancel() {
    if (m_running) {
        m_thread.request_stop();
        m_pauseWake.notify_all();
    }
}

void BatchController::clear() {
    if (m_running) {
        return;
    }
    m_finished = m_cancelled = false;
    m_total = m_done = m_spoiled = m_left = 0;
    m_secondsLeft = -1;
    m_spoiledCards.clear();
    m_error.clear();
    m_errorDetail.clear();
    emit changed();
}

void BatchController::apply(const Update& u) {
    const Progress& p = u.end && u.progress.current.empty() ? Progress{} : u.progress;
    if (!u.end || !u.progress.current.empty()) {
        m_done = static_cast<int>(p.done);
        m_spoiled = static_cast<int>(p.spoiled);
        m_left = static_cast<int>(p.left);
        m_secondsLeft = p.timeLeft ? static_cast<int>(p.timeLeft->count()) : -1;
        m_fault = p.paused ? qs(std::string(printer::faultName(*p.paused))) : QString();
        m_faultDetail = qs(p.action);
    }
    if (u.end) {
        m_running = false;
        m_paused = false;
        m_finished = true;
        m_cancelled = u.report.cancelled;
        m_done = static_cast<int>(u.report.produced);
        m_spoiled = static_cast<int>(u.report.spoiled);
        m_left = static_cast<int>(u.report.notStarted);
        m_secondsLeft = -1;
        m_fault.clear();
        m_faultDetail.clear();
        m_error = u.error;
        m_errorDetail = u.errorDetail;
        m_stepTimer.stop();
        m_currentNumber.clear();
        m_currentName.clear();
        m_currentStep.clear();
        emit stepChanged();
    }
    // The spoiled cards of this batch, with their reasons, from the station's file.
    m_spoiledCards.clear();
    if (auto cards = m_context.store.cards(CardState::Spoiled)) {
        for (const auto& c : *cards) {
            if (c.updatedAt >= m_startedAt) {
                m_spoiledCards.append(QVariantMap{{"number", grouped(c.cardNumber)},
                                                  {"reason", qs(c.spoilReason)},
                                                  {"fate", qs(c.cardFate)}});
            }
        }
    }
    emit changed();
    if (u.end) {
        emit batchFinished();
    }
}

void BatchController::lookAtPrinter() {
    // Each step is written before it starts: the card in a production state is the one in the
    // printer, and its state is the step it is at.
    QString number, name, step;
    for (CardState s :
         {CardState::Feeding, CardState::Encoding, CardState::Verifying, CardState::Printing}) {
        auto cards = m_context.store.cards(s);
        if (cards && !cards->empty()) {
            const auto& c = cards->back();
            number = grouped(c.cardNumber);
            step = qs(std::string(toString(s)));
            if (auto app = m_context.store.application(c.applicationId); app && *app) {
                name = qs((*app)->application.fullName);
            }
            break;
        }
    }
    if (number != m_currentNumber || step != m_currentStep) {
        m_currentNumber = number;
        m_currentName = name;
        m_currentStep = step;
        emit stepChanged();
    }
}

} // namespace unioncard::station::ui
