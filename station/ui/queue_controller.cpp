// SPDX-License-Identifier: Apache-2.0
#include "queue_controller.hpp"

#include <algorithm>
#include <set>

namespace unioncard::station::ui {

int QueueModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QVariant QueueModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() < 0 || index.row() >= rowCount()) {
        return {};
    }
    const auto& q = m_rows[static_cast<std::size_t>(index.row())];
    switch (role) {
    case ApplicationId:
        return qs(q.application.id);
    case FullName:
        return qs(q.application.fullName);
    case MemberId:
        return qs(q.application.memberId);
    case Organisation:
        return qs(q.application.organisationName);
    case State:
        return qs(q.state);
    case HoldReason:
        return qs(q.holdReason);
    case CardNumber:
        return qs(q.application.cardNumber.value_or(""));
    case CreatedAt:
        return toDateTime(q.application.createdAt);
    default:
        return {};
    }
}

QHash<int, QByteArray> QueueModel::roleNames() const {
    return {{ApplicationId, "applicationId"}, {FullName, "fullName"},  {MemberId, "memberId"},
            {Organisation, "organisation"},   {State, "state"},        {HoldReason, "holdReason"},
            {CardNumber, "cardNumber"},       {CreatedAt, "createdAt"}};
}

void QueueModel::reset(std::vector<QueuedApplication> rows) {
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

QueueController::QueueController(StationContext& context, QObject* parent)
    : QObject(parent), m_context(context) {}

void QueueController::refresh() {
    m_all.clear();
    std::set<std::string> orgs;
    if (auto apps = m_context.store.applications()) {
        for (auto& q : *apps) {
            if (q.state == "queued" || q.state == "held") {
                orgs.insert(q.application.organisationName);
                m_all.push_back(std::move(q));
            }
        }
    }
    m_organisations.clear();
    for (const auto& o : orgs) {
        m_organisations << qs(o);
    }
    apply();
}

void QueueController::apply() {
    std::vector<QueuedApplication> shown;
    const QString needle = m_search.trimmed();
    QString digits = needle;
    digits.remove(QChar(' '));
    for (const auto& q : m_all) {
        if (!m_organisation.isEmpty() && qs(q.application.organisationName) != m_organisation) {
            continue;
        }
        if (!needle.isEmpty()) {
            const bool match =
                qs(q.application.fullName).contains(needle, Qt::CaseInsensitive) ||
                qs(q.application.memberId).contains(needle, Qt::CaseInsensitive) ||
                qs(q.application.id).contains(needle, Qt::CaseInsensitive) ||
                (!digits.isEmpty() && qs(q.application.cardNumber.value_or("")).contains(digits));
            if (!match) {
                continue;
            }
        }
        shown.push_back(q);
    }
    m_model.reset(std::move(shown));
    const auto& rows = m_model.rows();
    if (!m_selected.isEmpty() &&
        std::none_of(rows.begin(), rows.end(), [this](const QueuedApplication& q) {
            return qs(q.application.id) == m_selected;
        })) {
        m_selected.clear();
        emit selectionChanged();
    }
    emit changed();
}

void QueueController::setOrganisation(const QString& name) {
    if (name != m_organisation) {
        m_organisation = name;
        apply();
    }
}

void QueueController::setSearch(const QString& text) {
    if (text != m_search) {
        m_search = text;
        apply();
    }
}

int QueueController::ready() const {
    const auto& rows = m_model.rows();
    return static_cast<int>(std::count_if(
        rows.begin(), rows.end(), [](const QueuedApplication& q) { return q.state == "queued"; }));
}

QString QueueController::selectedName() const {
    for (const auto& q : m_model.rows()) {
        if (qs(q.application.id) == m_selected) {
            return qs(q.application.fullName);
        }
    }
    return {};
}

QString QueueController::previewSource() const {
    return m_selected.isEmpty() ? QString()
                                : QStringLiteral("image://cardface/application/") + m_selected;
}

void QueueController::select(const QString& applicationId) {
    if (applicationId != m_selected) {
        m_selected = applicationId;
        emit selectionChanged();
    }
}

QStringList QueueController::batchIds(int count) const {
    QStringList ids;
    for (const auto& q : m_model.rows()) {
        if (ids.size() >= count) {
            break;
        }
        if (q.state == "queued") {
            ids << qs(q.application.id);
        }
    }
    return ids;
}

} // namespace unioncard::station::ui
