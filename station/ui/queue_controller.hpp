// SPDX-License-Identifier: Apache-2.0
#pragma once

// The queue screen: applications waiting for a card, filtered by organisation and searched by
// name or number; the first N of what is shown become the batch. The preview of the chosen
// application's card face comes from the "cardface" image provider.

#include "station_context.hpp"

#include <QAbstractListModel>
#include <QStringList>

namespace unioncard::station::ui {

class QueueModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum RoleNames {
        ApplicationId = Qt::UserRole + 1,
        FullName,
        MemberId,
        Organisation,
        State,
        HoldReason,
        CardNumber,
        CreatedAt,
    };
    using QAbstractListModel::QAbstractListModel;
    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    void reset(std::vector<QueuedApplication> rows);
    const std::vector<QueuedApplication>& rows() const { return m_rows; }

private:
    std::vector<QueuedApplication> m_rows;
};

class QueueController : public QObject {
    Q_OBJECT
    Q_PROPERTY(QueueModel* model READ model CONSTANT)
    /// The organisations with something queued, by name.
    Q_PROPERTY(QStringList organisations READ organisations NOTIFY changed)
    /// "" for all.
    Q_PROPERTY(QString organisation READ organisation WRITE setOrganisation NOTIFY changed)
    Q_PROPERTY(QString search READ search WRITE setSearch NOTIFY changed)
    /// Rows shown (queued and held that match).
    Q_PROPERTY(int count READ count NOTIFY changed)
    /// Of those, the ones that can go into a batch (queued, not held).
    Q_PROPERTY(int ready READ ready NOTIFY changed)
    Q_PROPERTY(QString selectedId READ selectedId NOTIFY selectionChanged)
    Q_PROPERTY(QString selectedName READ selectedName NOTIFY selectionChanged)
    /// "image://cardface/application/<id>" for the chosen one, "" if none.
    Q_PROPERTY(QString previewSource READ previewSource NOTIFY selectionChanged)

public:
    explicit QueueController(StationContext& context, QObject* parent = nullptr);

    QueueModel* model() { return &m_model; }
    QStringList organisations() const { return m_organisations; }
    QString organisation() const { return m_organisation; }
    void setOrganisation(const QString& name);
    QString search() const { return m_search; }
    void setSearch(const QString& text);
    int count() const { return m_model.rowCount(); }
    int ready() const;
    QString selectedId() const { return m_selected; }
    QString selectedName() const;
    QString previewSource() const;

    Q_INVOKABLE void refresh();
    Q_INVOKABLE void select(const QString& applicationId);
    /// The ids of the first `count` queued applications shown, oldest first.
    Q_INVOKABLE QStringList batchIds(int count) const;

signals:
    void changed();
    void selectionChanged();

private:
    StationContext& m_context;
    QueueModel m_model;
    std::vector<QueuedApplication> m_all;
    QStringList m_organisations;
    QString m_organisation, m_search, m_selected;
    void apply();
};

} // namespace unioncard::station::ui
