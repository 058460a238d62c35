// SPDX-License-Identifier: Apache-2.0
#include <unioncard/ui/language_controller.hpp>
#include <unioncard/ui/page_host.hpp>
#include <unioncard/ui/self_test.hpp>

#include <QQmlEngine>
#include <QtGlobal>
#include <cstdio>

namespace unioncard::ui {

namespace {

// The message handler is process-wide; the self-test owns it while it runs.
QStringList* g_problems = nullptr;
QtMessageHandler g_previous = nullptr;

void recordMessage(QtMsgType type, const QMessageLogContext& context, const QString& message) {
    if (g_problems != nullptr && type != QtDebugMsg && type != QtInfoMsg)
        g_problems->append(message);
    if (g_previous != nullptr)
        g_previous(type, context, message);
}

} // namespace

SelfTest::SelfTest(QQmlEngine& engine, LanguageController* language, QSize size)
    : m_engine(engine), m_language(language), m_size(size) {}

void SelfTest::addPage(Page page) {
    m_pages.append(std::move(page));
}

int SelfTest::run() {
    m_problems.clear();
    g_problems = &m_problems;
    g_previous = qInstallMessageHandler(recordMessage);

    const QStringList languages = m_language != nullptr ? m_language->languages() : QStringList{};
    const QStringList passes = languages.isEmpty() ? QStringList{QString()} : languages;
    for (const auto& language : passes) {
        if (m_language != nullptr)
            m_language->setLanguage(language);
        for (const auto& page : m_pages) {
            const auto before = m_problems.size();
            {
                PageHost host(m_engine, m_size);
                QString error;
                if (!host.load(page.url, page.initialProperties, &error)) {
                    m_problems.append(QStringLiteral("%1: %2").arg(page.name, error));
                } else {
                    host.settle(50);
                    if (page.exercise) {
                        page.exercise(host.root());
                        host.settle(50);
                    }
                }
            }
            std::fprintf(stderr, "self-test %-4s %-24s %s\n", qPrintable(language),
                         qPrintable(page.name), m_problems.size() == before ? "ok" : "FAILED");
        }
    }
    if (m_language != nullptr && !languages.isEmpty())
        m_language->setLanguage(languages.front());

    qInstallMessageHandler(g_previous);
    g_problems = nullptr;
    g_previous = nullptr;
    for (const auto& problem : std::as_const(m_problems))
        std::fprintf(stderr, "self-test problem: %s\n", qPrintable(problem));
    std::fprintf(stderr, "self-test: %lld page loads, %lld problems\n",
                 static_cast<long long>(m_pages.size() * passes.size()),
                 static_cast<long long>(m_problems.size()));
    return m_problems.isEmpty() ? 0 : 1;
}

} // namespace unioncard::ui
