// SPDX-License-Identifier: Apache-2.0
#include "reports_controller.hpp"

#include "home_controller.hpp"

#include <unioncard/card/card_number.hpp>

#include <map>

namespace unioncard::station::ui {

ReportsController::ReportsController(StationContext& context, QObject* parent)
    : QObject(parent), m_context(context) {}

void ReportsController::setDays(int days) {
    if (days != m_days && days >= 0) {
        m_days = days;
        refresh();
    }
}

void ReportsController::refresh() {
    m_byOrganisation.clear();
    m_late.clear();
    auto cards = m_context.store.cards();
    auto apps = m_context.store.applications();
    if (!cards || !apps) {
        emit changed();
        return;
    }
    std::map<std::string, const registry::Application*> appOf;
    for (const auto& q : *apps) {
        appOf[q.application.id] = &q.application;
    }
    const auto now = nowSeconds();
    std::map<std::string, std::vector<CardRow>> byOrg;
    for (const auto& c : *cards) {
        auto a = appOf.find(c.applicationId);
        byOrg[a == appOf.end() ? std::string() : a->second->organisationName].push_back(c);
        if (c.state == CardState::Produced && c.producedAt &&
            now - *c.producedAt > std::chrono::days(m_days)) {
            auto n = card::CardNumber::parse(c.cardNumber);
            m_late.append(QVariantMap{
                {"number", n ? qs(n->formatted()) : qs(c.cardNumber)},
                {"name", a == appOf.end() ? QString() : qs(a->second->fullName)},
                {"organisation", a == appOf.end() ? QString() : qs(a->second->organisationName)},
                {"producedAt", toDateTime(*c.producedAt).date()},
                {"days", static_cast<int>(
                             std::chrono::floor<std::chrono::days>(now - *c.producedAt).count())}});
        }
    }
    const DayCounts all = countDay(*cards, now);
    m_produced = all.produced;
    m_handedOver = all.handedOver;
    m_waiting = all.waitingForHandover;
    for (const auto& [org, rows] : byOrg) {
        const DayCounts n = countDay(rows, now);
        if (n.produced + n.handedOver + n.spoiled + n.waitingForHandover == 0) {
            continue;
        }
        m_byOrganisation.append(QVariantMap{{"organisation", qs(org)},
                                            {"produced", n.produced},
                                            {"handedOver", n.handedOver},
                                            {"spoiled", n.spoiled},
                                            {"waiting", n.waitingForHandover}});
    }
    emit changed();
}

} // namespace unioncard::station::ui
