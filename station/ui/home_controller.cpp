// SPDX-License-Identifier: Apache-2.0
#include "home_controller.hpp"

#include <QMetaObject>
#include <utility>

namespace unioncard::station::ui {

namespace {

bool sameDay(card::Seconds a, card::Seconds b) {
    return std::chrono::floor<std::chrono::days>(a) == std::chrono::floor<std::chrono::days>(b);
}

QDateTime toDateTime(registry::TimePoint at) {
    return QDateTime::fromMSecsSinceEpoch(
        std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
}

} // namespace

DayCounts countDay(const std::vector<CardRow>& cards, card::Seconds now) {
    DayCounts n;
    for (const auto& c : cards) {
        if (c.producedAt && sameDay(*c.producedAt, now)) {
            ++n.produced;
        }
        if (c.handedOverAt && sameDay(*c.handedOverAt, now)) {
            ++n.handedOver;
        }
        if (c.state == CardState::Spoiled && sameDay(c.updatedAt, now)) {
            ++n.spoiled;
        }
        if (c.state == CardState::Refused && sameDay(c.updatedAt, now)) {
            ++n.refused;
        }
        if (c.state == CardState::Produced) {
            ++n.waitingForHandover;
        }
    }
    return n;
}

HomeController::HomeController(StationContext& context, QObject* parent)
    : QObject(parent), m_context(context) {
    connect(&m_timer, &QTimer::timeout, this, &HomeController::refresh);
    m_timer.start(m_refreshSeconds * 1000);
}

void HomeController::setRefreshSeconds(int seconds) {
    if (seconds == m_refreshSeconds) {
        return;
    }
    m_refreshSeconds = seconds;
    if (seconds > 0) {
        m_timer.start(seconds * 1000);
    } else {
        m_timer.stop();
    }
    emit changed();
}

void HomeController::readStore() {
    auto& store = m_context.store;
    m_queued = m_held = 0;
    if (auto apps = store.applications()) {
        for (const auto& q : *apps) {
            m_queued += q.state == "queued";
            m_held += q.state == "held";
        }
    }
    if (auto cards = store.cards()) {
        m_day = countDay(*cards, nowSeconds());
    }
    auto blanks = store.stock("blank_cards");
    m_blankCards = blanks ? static_cast<int>(blanks.value()) : 0;
    if (auto st = store.outbox().status()) {
        m_waiting = static_cast<int>(st->waiting);
        m_unreachable = st->waiting > 0 && st->lastErrorAt &&
                        (!st->lastSuccessAt || *st->lastErrorAt >= *st->lastSuccessAt);
        m_waitingSince = st->oldestWaitingSince ? toDateTime(*st->oldestWaitingSince) : QDateTime();
        m_registryError = m_unreachable ? qs(st->lastError) : QString();
    }
}

void HomeController::refresh() {
    readStore();
    emit changed();
    if (m_worker.busy()) {
        m_again = true; // the last look is still on its way: look again when it is back
        return;
    }
    const StationServices& services = m_context.services;
    const bool deliver = m_waiting > 0 && static_cast<bool>(services.openRegistry);
    m_worker.post([this, &services, deliver](std::stop_token) {
        DeviceReport r;
        if (services.openPrinter) {
            auto printer = services.openPrinter();
            if (!printer) {
                r.printerState = "offline";
                r.printerFault = qs(std::string(printer::faultName(printer.error().code)));
            } else {
                if (auto st = (*printer)->status()) {
                    r.printerState = qs(std::string(printer::stateName(st->state)));
                    r.printerFault = st->fault == printer::PrinterFault::None
                                         ? QString()
                                         : qs(std::string(printer::faultName(st->fault)));
                    r.ribbonLow = st->ribbonLow;
                } else {
                    r.printerState = "offline";
                    r.printerFault = qs(std::string(printer::faultName(st.error().code)));
                }
                if (auto c = (*printer)->counters(); c && c->ribbonCardsLeft) {
                    r.ribbonLeft = static_cast<int>(*c->ribbonCardsLeft);
                }
                if (auto i = (*printer)->info()) {
                    r.printerModel = qs(i->model);
                }
            }
        }
        if (deliver) {
            // Its own connection to the station's file: the outbox is written as it delivers.
            if (auto store = services.openStore()) {
                if (auto client = services.openRegistry()) {
                    (void)store->outbox().retryNow();
                    (void)store->outbox().deliver(client.value());
                } else {
                    // Not reachable at all: the outbox records nothing, the screen says why.
                }
                r.delivered = true;
            }
        }
        QMetaObject::invokeMethod(
            this, [this, r] { devicesAnswered(r); }, Qt::QueuedConnection);
    });
}

void HomeController::devicesAnswered(const DeviceReport& r) {
    if (m_context.services.openPrinter) {
        m_printerState = r.printerState;
        m_printerFault = r.printerFault;
        m_ribbonLow = r.ribbonLow;
        m_ribbonLeft = r.ribbonLeft;
        m_printerModel = r.printerModel;
    }
    if (r.delivered) {
        readStore();
    }
    emit changed();
    emit refreshed();
    if (std::exchange(m_again, false)) {
        refresh();
    }
}

} // namespace unioncard::station::ui
