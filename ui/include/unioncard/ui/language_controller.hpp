// SPDX-License-Identifier: Apache-2.0
#pragma once

// The kiosk's language, switchable at runtime: Qt Linguist catalogues compiled into the
// programs (":/i18n/<catalogue>_<language>.qm"), QQmlEngine::retranslate() so every qsTr()
// binding on screen changes at once, and the locale for dates, numbers and plurals.

#include <QDateTime>
#include <QLocale>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTranslator>
#include <memory>
#include <vector>

class QQmlEngine;

namespace unioncard::ui {

class LanguageController : public QObject {
    Q_OBJECT
    /// "ru" or "en".
    Q_PROPERTY(QString language READ language NOTIFY languageChanged)
    Q_PROPERTY(QStringList languages READ languages CONSTANT)
    /// The locale's name ("ru_RU", "en_GB"), for Qt.locale(name) in QML.
    Q_PROPERTY(QString localeName READ localeName NOTIFY languageChanged)

public:
    /// `catalogues`: the base names of the catalogues to load, e.g. {"ui", "verifier"}. The
    /// engine may be null (a controller used from C++ only). Starts in Russian.
    LanguageController(QQmlEngine* engine, QStringList catalogues, QObject* parent = nullptr);
    ~LanguageController() override;

    QString language() const { return m_language; }
    QStringList languages() const;
    QString localeName() const { return m_locale.name(); }
    QLocale locale() const { return m_locale; }

    /// Switches to "ru" or "en": false (and nothing changes) for any other.
    Q_INVOKABLE bool setLanguage(const QString& language);

    /// "14:05" / "2:05 PM".
    Q_INVOKABLE QString formatTime(const QDateTime& at) const;
    /// "21.03.2025 14:05" / "21/03/2025 14:05".
    Q_INVOKABLE QString formatDateTime(const QDateTime& at) const;
    /// "21 марта 2025 г." / "21 March 2025".
    Q_INVOKABLE QString formatDate(const QDate& day) const;
    /// "1 234" / "1,234".
    Q_INVOKABLE QString formatNumber(qint64 value) const;
    /// An age in words with the plural of the language: "3 минуты", "1 hour", "2 days".
    Q_INVOKABLE QString formatAge(qint64 seconds) const;

signals:
    void languageChanged();

private:
    QQmlEngine* m_engine;
    QStringList m_catalogues;
    std::vector<std::unique_ptr<QTranslator>> m_installed;
    QString m_language;
    QLocale m_locale;
};

} // namespace unioncard::ui
