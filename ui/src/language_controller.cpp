// SPDX-License-Identifier: Apache-2.0
#include <unioncard/ui/language_controller.hpp>

#include <QCoreApplication>
#include <QQmlEngine>

namespace unioncard::ui {

namespace {

QLocale localeOf(const QString& language) {
    // English with day-first dates and a 24-hour clock, as the union's staff read them.
    return language == QLatin1String("en") ? QLocale(QLocale::English, QLocale::UnitedKingdom)
                                           : QLocale(QLocale::Russian, QLocale::Russia);
}

} // namespace

LanguageController::LanguageController(QQmlEngine* engine, QStringList catalogues, QObject* parent)
    : QObject(parent), m_engine(engine), m_catalogues(std::move(catalogues)) {
    setLanguage(QStringLiteral("ru"));
}

LanguageController::~LanguageController() {
    for (auto& translator : m_installed)
        QCoreApplication::removeTranslator(translator.get());
}

QStringList LanguageController::languages() const {
    return {QStringLiteral("ru"), QStringLiteral("en")};
}

bool LanguageController::setLanguage(const QString& language) {
    if (!languages().contains(language))
        return false;
    if (language == m_language)
        return true;

    for (auto& translator : m_installed)
        QCoreApplication::removeTranslator(translator.get());
    m_installed.clear();
    for (const auto& catalogue : m_catalogues) {
        auto translator = std::make_unique<QTranslator>();
        const auto file = QStringLiteral(":/i18n/%1_%2.qm").arg(catalogue, language);
        if (!translator->load(file)) {
            qWarning("unioncard-ui: no translation catalogue %s", qPrintable(file));
            continue;
        }
        QCoreApplication::installTranslator(translator.get());
        m_installed.push_back(std::move(translator));
    }
    m_language = language;
    m_locale = localeOf(language);
    QLocale::setDefault(m_locale);
    if (m_engine != nullptr) {
        m_engine->setUiLanguage(language);
        m_engine->retranslate();
    }
    emit languageChanged();
    return true;
}

QString LanguageController::formatTime(const QDateTime& at) const {
    return m_locale.toString(at.toLocalTime().time(), QStringLiteral("HH:mm"));
}

QString LanguageController::formatDateTime(const QDateTime& at) const {
    const auto local = at.toLocalTime();
    return m_locale.toString(local.date(), QLocale::ShortFormat) + QLatin1Char(' ') +
           formatTime(local);
}

QString LanguageController::formatDate(const QDate& day) const {
    return m_locale.toString(day, QLocale::LongFormat);
}

QString LanguageController::formatNumber(qint64 value) const {
    return m_locale.toString(value);
}

QString LanguageController::formatAge(qint64 seconds) const {
    if (seconds < 60)
        return tr("less than a minute");
    if (seconds < 3600)
        return tr("%n minute(s)", nullptr, static_cast<int>(seconds / 60));
    if (seconds < 86400)
        return tr("%n hour(s)", nullptr, static_cast<int>(seconds / 3600));
    return tr("%n day(s)", nullptr, static_cast<int>(seconds / 86400));
}

} // namespace unioncard::ui
