// SPDX-License-Identifier: Apache-2.0
#pragma once

// One QML page in a window of its own, for the self-test, screenshots and the harnesses.

#include <QImage>
#include <QQuickWindow>
#include <QSize>
#include <QString>
#include <QUrl>
#include <QVariantMap>
#include <memory>

class QQmlEngine;
class QQmlComponent;

namespace unioncard::ui {

/// Adds the QML import path of the modules compiled into the program ("qrc:/qt/qml").
void prepareEngine(QQmlEngine& engine);

class PageHost {
public:
    PageHost(QQmlEngine& engine, QSize size);
    ~PageHost();
    PageHost(const PageHost&) = delete;
    PageHost& operator=(const PageHost&) = delete;

    /// Creates the page (an Item, put in a window of the size; or a Window, resized) and shows
    /// it. False with the errors in words if it could not be created.
    bool load(const QUrl& url, const QVariantMap& initialProperties, QString* error);
    /// Runs the event loop for a while so that bindings, layouts and animations settle.
    void settle(int milliseconds);
    QQuickWindow* window() const { return m_window; }
    QObject* root() const { return m_root; }
    /// The window as drawn (needs a platform that renders: xcb under Xvfb, or offscreen).
    QImage grab();

private:
    QQmlEngine& m_engine;
    QSize m_size;
    std::unique_ptr<QQuickWindow> m_ownWindow;
    QQuickWindow* m_window = nullptr;
    QObject* m_root = nullptr;
};

} // namespace unioncard::ui
