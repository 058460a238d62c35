// SPDX-License-Identifier: Apache-2.0
#pragma once

// "image://cardface/application/<id>" and "image://cardface/card/<number>": the card's front
// face drawn by the printer module's renderer, as the printer will print it (the QR of a card
// still to be made is a placeholder). Asked for on the UI thread (Image.asynchronous false),
// where the UI's connection to the station's file lives.

#include <unioncard/printer/renderer.hpp>

#include <QQuickImageProvider>
#include <functional>
#include <memory>
#include <optional>

namespace unioncard::station::ui {

class CardFaceProvider : public QQuickImageProvider {
public:
    using FieldsOf = std::function<std::optional<printer::CardFields>(const QString& id)>;
    CardFaceProvider(std::shared_ptr<const printer::CardRenderer> renderer, FieldsOf fieldsOf);
    QImage requestImage(const QString& id, QSize* size, const QSize& requestedSize) override;

private:
    std::shared_ptr<const printer::CardRenderer> m_renderer;
    FieldsOf m_fieldsOf;
};

} // namespace unioncard::station::ui
