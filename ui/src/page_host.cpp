// SPDX-License-Identifier: Apache-2.0
#include <unioncard/ui/page_host.hpp>

#include <QEventLoop>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QQuickItem>
#include <QTimer>

namespace unioncard::ui {

void prepareEngine(QQmlEngine& engine) {
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
}

PageHost::PageHost(QQmlEngine& engine, QSize size) : m_engine(engine), m_size(size) {}

PageHost::~PageHost() {
    delete m_root;
}

bool PageHost::load(const QUrl& url, const QVariantMap& initialProperties, QString* error) {
    QQmlComponent component(&m_engine, url);
    QObject* object =
        component.isReady() ? component.createWithInitialProperties(initialProperties) : nullptr;
    if (object == nullptr) {
        if (error != nullptr)
            *error = component.errorString().trimmed();
        return false;
    }
    m_root = object;
    if (auto* window = qobject_cast<QQuickWindow*>(object)) {
        m_window = window;
    } else if (auto* item = qobject_cast<QQuickItem*>(object)) {
        m_ownWindow = std::make_unique<QQuickWindow>();
        m_window = m_ownWindow.get();
        item->setParentItem(m_window->contentItem());
        item->setSize(m_size);
    } else {
        if (error != nullptr)
            *error = QStringLiteral("%1 is neither an Item nor a Window").arg(url.toString());
        return false;
    }
    m_window->resize(m_size);
    m_window->show();
    return true;
}

void PageHost::settle(int milliseconds) {
    QEventLoop loop;
    QTimer::singleShot(milliseconds, &loop, &QEventLoop::quit);
    loop.exec();
}

QImage PageHost::grab() {
    return m_window != nullptr ? m_window->grabWindow() : QImage();
}

} // namespace unioncard::ui
