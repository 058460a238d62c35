// SPDX-License-Identifier: Apache-2.0
#include "station_app.hpp"

#include "card_face_provider.hpp"

#include <unioncard/card/card_record.hpp>
#include <unioncard/ui/language_controller.hpp>

#include <QQmlContext>
#include <QQmlEngine>

namespace unioncard::station::ui {

std::unique_ptr<StationApp> StationApp::create(StationServices services, QString* error) {
    auto store = services.openStore();
    if (!store) {
        if (error) {
            *error = qs(store.error().message);
        }
        return nullptr;
    }
    auto context = std::make_unique<StationContext>(std::move(services), std::move(store).value());
    return std::unique_ptr<StationApp>(new StationApp(std::move(context)));
}

StationApp::StationApp(std::unique_ptr<StationContext> context)
    : m_context(std::move(context)), m_session(new SessionController(*m_context, this)),
      m_home(new HomeController(*m_context, this)), m_queue(new QueueController(*m_context, this)),
      m_batch(new BatchController(*m_context, this)),
      m_handover(new HandoverController(*m_context, this)),
      m_reports(new ReportsController(*m_context, this)) {
    // What a finished batch or a status changes elsewhere.
    connect(m_batch, &BatchController::batchFinished, this, [this] {
        m_queue->refresh();
        m_home->refresh();
    });
    connect(m_handover, &HandoverController::changed, m_home, [this] {
        if (m_handover->state() == "recorded") {
            m_home->refresh();
        }
    });
    connect(m_session, &SessionController::changed, this, [this] {
        if (m_session->signedIn()) {
            m_home->refresh();
            m_queue->refresh();
            m_reports->refresh();
        } else {
            m_handover->reset();
        }
    });
}

StationApp::~StationApp() {
    // The controllers' threads end before the context they use.
    delete m_batch;
    delete m_handover;
    delete m_home;
    delete m_session;
    delete m_queue;
    delete m_reports;
}

void StationApp::install(QQmlEngine& engine, unioncard::ui::LanguageController* language) {
    engine.rootContext()->setContextProperty("station", this);
    engine.rootContext()->setContextProperty("language", language);
    engine.rootContext()->setContextProperty("virtualKeyboard", false);
    engine.addImageProvider(
        "cardface", new CardFaceProvider(m_context->services.renderer,
                                         [this](const QString& id) { return fieldsOf(id); }));
}

std::optional<printer::CardFields> StationApp::fieldsOf(const QString& id) {
    const QString kind = id.section('/', 0, 0);
    const std::string key = id.section('/', 1).section('?', 0, 0).toStdString();
    auto& store = m_context->store;
    std::optional<registry::Application> app;
    std::string number;
    std::optional<card::Seconds> madeAt;
    if (kind == "application") {
        if (auto q = store.application(key); q && *q) {
            app = (*q)->application;
            number = app->cardNumber.value_or("");
        }
    } else if (kind == "card") {
        if (auto c = store.cardByNumber(key); c && *c) {
            number = (*c)->cardNumber;
            madeAt = (*c)->producedAt ? (*c)->producedAt : std::optional((*c)->createdAt);
            if (auto q = store.application((*c)->applicationId); q && *q) {
                app = (*q)->application;
            }
        }
    }
    if (!app) {
        return std::nullopt;
    }
    printer::CardFields f;
    f.fullName = app->fullName;
    // A number not given yet is shown as its region's prefix and placeholders.
    f.cardNumber = number.size() == 16 ? number : std::string("9643") + "000000000000";
    f.organisation = app->organisationName;
    f.region = m_context->services.regionName;
    const auto from = std::chrono::floor<std::chrono::days>(madeAt.value_or(nowSeconds()));
    const std::chrono::year_month_day ymd{from};
    f.validUntil = card::formatDate(
        std::chrono::sys_days{(ymd.year() + std::chrono::years(5)) / ymd.month() / ymd.day()});
    f.qr = "UC1:PREVIEW";
    return f;
}

} // namespace unioncard::station::ui
