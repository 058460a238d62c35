// SPDX-License-Identifier: Apache-2.0
#include "card_face_provider.hpp"

namespace unioncard::station::ui {

CardFaceProvider::CardFaceProvider(std::shared_ptr<const printer::CardRenderer> renderer,
                                   FieldsOf fieldsOf)
    : QQuickImageProvider(QQuickImageProvider::Image), m_renderer(std::move(renderer)),
      m_fieldsOf(std::move(fieldsOf)) {}

QImage CardFaceProvider::requestImage(const QString& id, QSize* size, const QSize& requestedSize) {
    QImage image;
    if (m_renderer && m_fieldsOf) {
        if (auto fields = m_fieldsOf(id)) {
            if (auto face = m_renderer->render(printer::Side::Front, *fields)) {
                image = face->image;
            }
        }
    }
    if (image.isNull()) {
        // Nothing to draw: a card-shaped grey (85.6 x 54 mm at the preview's scale).
        image = QImage(1011, 638, QImage::Format_RGB888);
        image.fill(QColor("#B0BEC5"));
    }
    if (size) {
        *size = image.size();
    }
    if (requestedSize.isValid() && !requestedSize.isEmpty()) {
        image = image.scaled(requestedSize, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    }
    return image;
}

} // namespace unioncard::station::ui
