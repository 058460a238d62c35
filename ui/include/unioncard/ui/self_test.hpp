// SPDX-License-Identifier: Apache-2.0
#pragma once

// `--self-test`: loads every page of a kiosk UI offscreen, in every language, and fails on any
// QML warning or error (a binding to a missing property, a type error, an unknown component).

#include <QList>
#include <QSize>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <QVariantMap>
#include <functional>

class QQmlEngine;

namespace unioncard::ui {

class LanguageController;

class SelfTest {
public:
    struct Page {
        QString name;
        QUrl url;
        QVariantMap initialProperties;
        /// Called after the page is shown: put its controller in the states worth loading.
        std::function<void(QObject* root)> exercise;
    };

    SelfTest(QQmlEngine& engine, LanguageController* language, QSize size);

    void addPage(Page page);
    /// Loads each page in each language; prints one line per page and every warning to stderr.
    /// Returns 0 when nothing was reported, 1 otherwise.
    int run();
    /// The warnings and errors seen by the last run.
    QStringList problems() const { return m_problems; }

private:
    QQmlEngine& m_engine;
    LanguageController* m_language;
    QSize m_size;
    QList<Page> m_pages;
    QStringList m_problems;
};

} // namespace unioncard::ui
