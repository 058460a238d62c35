// SPDX-License-Identifier: Apache-2.0
// unioncard-verifier-ui: the verifier desk's kiosk. main() is the composition root: it picks
// the reader (a PC/SC reader, or simulated cards in training), opens the desk's store and
// builds the controller the QML screens bind to.
//
//   unioncard-verifier-ui --training [--mode event|merchant]     simulated cards, nothing real
//   unioncard-verifier-ui --db verifier.db --reader Verifier      a desk set up with
//                                                                 `unioncard-verifier init`
//   unioncard-verifier-ui --self-test                             every page offscreen, both
//                                                                 languages; non-zero on a warning
//   unioncard-verifier-ui --screenshot PAGE --lang ru|en --out FILE.png

#include "sounds.hpp"
#include "training_desk.hpp"

#include <unioncard/base/program.hpp>
#include <unioncard/registry/client.hpp>
#include <unioncard/ui/language_controller.hpp>
#include <unioncard/ui/page_host.hpp>
#include <unioncard/ui/self_test.hpp>

#include <CLI/CLI.hpp>

#include <QEventLoop>
#include <QFile>
#include <QGuiApplication>
#include <QQmlEngine>
#include <QQuickView>
#include <QTimer>
#include <QtQml/qqmlextensionplugin.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

Q_IMPORT_QML_PLUGIN(UnionCard_UiPlugin)
Q_IMPORT_QML_PLUGIN(UnionCard_VerifierPlugin)

namespace {

using namespace unioncard;
using namespace unioncard::verifier;
using namespace unioncard::verifier::ui;

const QUrl kMain(QStringLiteral("qrc:/qt/qml/UnionCard/Verifier/qml/Main.qml"));

// Screenshots and the self-test run at a fixed moment, so the pictures do not change by day.
card::Seconds fixedNow() {
    using namespace std::chrono;
    return card::Seconds{sys_days{year{2026} / March / 2}} + hours(8) + minutes(15);
}

QVariantMap properties(TrainingDesk& desk, unioncard::ui::LanguageController& language,
                       const QString& page) {
    return {{QStringLiteral("controller"), QVariant::fromValue<QObject*>(desk.controller.get())},
            {QStringLiteral("language"), QVariant::fromValue<QObject*>(&language)},
            {QStringLiteral("trainer"), QVariant::fromValue<QObject*>(desk.trainer.get())},
            {QStringLiteral("page"), page}};
}

// Taps a simulated card and waits (a bounded while) for its verdict on screen.
bool tapAndWait(TrainingDesk& desk, const QString& card) {
    const int before = desk.controller->tapCount();
    if (!desk.trainer->present(card))
        return false;
    QEventLoop loop;
    QObject::connect(desk.controller.get(), &VerifierController::verdictChanged, &loop, [&] {
        if (desk.controller->tapCount() > before)
            loop.quit();
    });
    QTimer::singleShot(20000, &loop, &QEventLoop::quit);
    loop.exec();
    return desk.controller->tapCount() > before;
}

// The screens worth a picture, each a page and the cards tapped before it is taken.
struct Shot {
    QString name;
    Mode mode;
    QString page;
    QStringList taps;
    QString typed;
};

const QList<Shot>& shots() {
    static const QList<Shot> list = {
        {QStringLiteral("idle"), Mode::Event, QStringLiteral("tap"), {}, {}},
        {QStringLiteral("valid"),
         Mode::Event,
         QStringLiteral("tap"),
         {QStringLiteral("valid")},
         {}},
        {QStringLiteral("duplicate"),
         Mode::Event,
         QStringLiteral("tap"),
         {QStringLiteral("valid"), QStringLiteral("valid")},
         {}},
        {QStringLiteral("revoked"),
         Mode::Event,
         QStringLiteral("tap"),
         {QStringLiteral("revoked")},
         {}},
        {QStringLiteral("unconfirmed"),
         Mode::Event,
         QStringLiteral("tap"),
         {QStringLiteral("unconfirmed")},
         {}},
        {QStringLiteral("merchant"),
         Mode::Merchant,
         QStringLiteral("tap"),
         {QStringLiteral("valid")},
         {}},
        {QStringLiteral("manual"),
         Mode::Event,
         QStringLiteral("manual"),
         {},
         QStringLiteral("964323000000001")},
        {QStringLiteral("manual-mistyped"),
         Mode::Event,
         QStringLiteral("manual"),
         {},
         QStringLiteral("9643230000000019")},
        {QStringLiteral("events"), Mode::Event, QStringLiteral("events"), {}, {}},
    };
    return list;
}

// The share of pixels that differ from the golden by more than a little in any channel.
double differingShare(const QImage& a, const QImage& b) {
    if (a.size() != b.size())
        return 1.0;
    const QImage x = a.convertToFormat(QImage::Format_RGB32);
    const QImage y = b.convertToFormat(QImage::Format_RGB32);
    qint64 differing = 0;
    for (int row = 0; row < x.height(); ++row) {
        const auto* p = reinterpret_cast<const QRgb*>(x.constScanLine(row));
        const auto* q = reinterpret_cast<const QRgb*>(y.constScanLine(row));
        for (int col = 0; col < x.width(); ++col) {
            const int d = std::max({std::abs(qRed(p[col]) - qRed(q[col])),
                                    std::abs(qGreen(p[col]) - qGreen(q[col])),
                                    std::abs(qBlue(p[col]) - qBlue(q[col]))});
            differing += d > 48 ? 1 : 0;
        }
    }
    return static_cast<double>(differing) / (static_cast<double>(x.width()) * x.height());
}

int screenshot(QQmlEngine& engine, unioncard::ui::LanguageController& language, const QString& name,
               const QString& out, const QString& golden) {
    const Shot* shot = nullptr;
    for (const auto& s : shots())
        shot = s.name == name ? &s : shot;
    if (shot == nullptr) {
        QStringList names;
        for (const auto& s : shots())
            names << s.name;
        std::fprintf(stderr, "unioncard-verifier-ui: no screen '%s'; there are: %s\n",
                     qPrintable(name), qPrintable(names.join(QStringLiteral(", "))));
        return 2;
    }
    QString error;
    auto desk = TrainingDesk::create(shot->mode, fixedNow, &error);
    if (!desk) {
        std::fprintf(stderr, "unioncard-verifier-ui: %s\n", qPrintable(error));
        return 1;
    }
    for (const auto& card : shot->taps) {
        if (!tapAndWait(*desk, card)) {
            std::fprintf(stderr, "unioncard-verifier-ui: no verdict for the %s card\n",
                         qPrintable(card));
            return 1;
        }
    }
    unioncard::ui::PageHost host(engine, QSize(1280, 800));
    if (!host.load(kMain, properties(*desk, language, shot->page), &error)) {
        std::fprintf(stderr, "unioncard-verifier-ui: %s\n", qPrintable(error));
        return 1;
    }
    if (!shot->typed.isEmpty()) {
        auto* page = host.root()->findChild<QObject*>(QStringLiteral("manualEntryPage"));
        if (page != nullptr)
            page->setProperty("digits", shot->typed);
    }
    host.settle(300);
    const QImage image = host.grab();
    if (image.isNull() || !image.save(out)) {
        std::fprintf(stderr, "unioncard-verifier-ui: could not write %s\n", qPrintable(out));
        return 1;
    }
    if (golden.isEmpty())
        return 0;
    if (qEnvironmentVariableIntValue("UNIONCARD_UPDATE_GOLDEN") == 1) {
        if (!image.save(golden)) {
            std::fprintf(stderr, "unioncard-verifier-ui: could not write %s\n", qPrintable(golden));
            return 1;
        }
        std::fprintf(stderr, "golden %s updated\n", qPrintable(golden));
        return 0;
    }
    const QImage expected(golden);
    if (expected.isNull()) {
        std::fprintf(
            stderr,
            "unioncard-verifier-ui: no golden %s (make it with UNIONCARD_UPDATE_GOLDEN=1)\n",
            qPrintable(golden));
        return 1;
    }
    // Antialiasing may move a few edge pixels between machines; a changed screen moves many.
    const double share = differingShare(image, expected);
    std::fprintf(stderr, "%s: %.3f%% of the pixels differ from %s\n", qPrintable(name), share * 100,
                 qPrintable(golden));
    return share <= 0.005 ? 0 : 1;
}

int selfTest(QQmlEngine& engine, unioncard::ui::LanguageController& language) {
    QString error;
    auto eventDesk = TrainingDesk::create(Mode::Event, fixedNow, &error);
    auto shopDesk = eventDesk ? TrainingDesk::create(Mode::Merchant, fixedNow, &error) : nullptr;
    if (!eventDesk || !shopDesk) {
        std::fprintf(stderr, "unioncard-verifier-ui: %s\n", qPrintable(error));
        return 1;
    }
    unioncard::ui::SelfTest test(engine, &language, QSize(1280, 800));
    // Every verdict the tap screen can show, in event mode and in a shop.
    for (auto* desk : {eventDesk.get(), shopDesk.get()}) {
        const QString mode = desk->controller->mode();
        test.addPage({mode + QStringLiteral("/tap"), kMain,
                      properties(*desk, language, QStringLiteral("tap")), [desk](QObject*) {
                          for (const auto& card : desk->trainer->cards())
                              tapAndWait(*desk, card);
                          tapAndWait(*desk, QStringLiteral("valid"));
                      }});
    }
    test.addPage({QStringLiteral("manual"), kMain,
                  properties(*eventDesk, language, QStringLiteral("manual")), [](QObject* root) {
                      auto* page = root->findChild<QObject*>(QStringLiteral("manualEntryPage"));
                      for (const char* typed :
                           {"9643", "9643230000000019", "9643230000000001", "1111222233334444"}) {
                          if (page != nullptr)
                              page->setProperty("digits", QString::fromLatin1(typed));
                      }
                  }});
    test.addPage({QStringLiteral("events"),
                  kMain,
                  properties(*eventDesk, language, QStringLiteral("events")),
                  {}});
    return test.run();
}

// A desk set up with `unioncard-verifier init`, on a PC/SC reader.
struct RealDesk {
    std::optional<VerifierStore> store;
    std::shared_ptr<registry::RegistryClient> client;
    std::unique_ptr<VerifierController> controller;
};

std::unique_ptr<RealDesk> openRealDesk(const QString& db, const QString& reader, QString* error) {
    auto fail = [error](const std::string& message) {
        *error = QString::fromStdString(message);
        return std::unique_ptr<RealDesk>();
    };
    if (!QFile::exists(db))
        return fail(db.toStdString() +
                    " does not exist: set the desk up with 'unioncard-verifier init'");
    auto store = VerifierStore::open(db.toStdString());
    if (!store)
        return fail(store.error().message);
    auto desk = std::make_unique<RealDesk>();
    desk->store.emplace(std::move(store).value());
    auto& s = *desk->store;
    const auto pin = card::parseFingerprint(s.setting("root_fingerprint").value_or(""));
    if (!pin)
        return fail("the desk has no root fingerprint: run 'unioncard-verifier init'");
    auto keys = openCardKeys([&](const std::string& k) { return s.setting(k); });
    if (!keys)
        return fail(keys.error());
    auto profile =
        card::desfire::loadProfile(s.setting("profile").value_or(defaultProfileFile().string()));
    if (!profile)
        return fail(profile.error());
    OnlineLookup online;
    // One request at a time on the registry's client, lookups and syncs alike.
    auto syncMutex = std::make_shared<std::mutex>();
    if (auto config = registry::clientConfigFromSettings(
            [&](const std::string& k) { return s.setting(k); })) {
        config->connectTimeout = std::chrono::milliseconds(1500);
        config->readTimeout = std::chrono::milliseconds(3000);
        if (auto client = registry::RegistryClient::create(std::move(*config))) {
            desk->client = std::make_shared<registry::RegistryClient>(std::move(client).value());
            online = [client = desk->client, mutex = syncMutex](const card::CardNumber& number) {
                std::lock_guard lock(*mutex);
                return client->lookup(number);
            };
        }
    }
    VerifierDeps deps{&s,
                      *pin,
                      std::move(profile).value(),
                      std::move(keys).value(),
                      makePcscTapSource(reader.toStdString()),
                      std::move(online),
                      {},
                      false,
                      {},
                      {}, // set below when the desk has a registry
                      std::chrono::minutes(2)};
    if (desk->client) {
        // A sync of its own: another connection to the desk's file (SQLite in WAL mode takes
        // readers and one writer at once) and the registry's client under its lock.
        const std::string file = db.toStdString();
        const card::Bytes rootPin = *pin;
        const int retention = std::atoi(s.setting("retention_days").value_or("30").c_str());
        auto client = desk->client;
        deps.sync = [file, rootPin, retention, client, mutex = syncMutex]() {
            std::lock_guard lock(*mutex);
            auto own = VerifierStore::open(file);
            if (!own) {
                SyncReport failed;
                failed.problems.push_back(own.error().message);
                return failed;
            }
            const auto now =
                std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
            return sync(own.value(), *client, rootPin, now, retention);
        };
    }
    desk->controller = std::make_unique<VerifierController>(std::move(deps));
    return desk;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App cli{"unioncard-verifier-ui: the verifier desk's kiosk.\n"
                 "Exit status: 0 done, 1 failed (reason given), 2 wrong usage or setup."};
    base::conventions(cli, "unioncard-verifier-ui", {"verifier.toml", "kiosk", {}, {"init"}});
    bool training = false, kiosk = false, window = false, selfTestRun = false, silent = false;
    std::string db = "verifier.db", reader = "Verifier", mode = "event", lang = "ru";
    std::string shot, out, golden;
    cli.add_flag("--training", training, "simulated cards, a desk of its own");
    cli.add_option("--db", db, "the desk's file")
        ->envname("UNIONCARD_VERIFIER_DB")
        ->capture_default_str();
    cli.add_option("--reader,--desk-reader", reader, "the PC/SC reader at the desk")
        ->capture_default_str();
    cli.add_option("--mode", mode, "training: event or merchant")
        ->check(CLI::IsMember({"event", "merchant"}))
        ->capture_default_str();
    cli.add_flag("--kiosk", kiosk, "full screen (as the kiosk session starts it)");
    cli.add_flag("--window", window, "a 1280x800 window (the default without --kiosk)")
        ->excludes("--kiosk");
    cli.add_flag("--self-test", selfTestRun, "load every page offscreen; exit 1 on any warning");
    cli.add_option("--screenshot", shot, "save a screen as PNG");
    cli.add_option("--lang", lang, "the language to start in")
        ->check(CLI::IsMember({"ru", "en"}))
        ->capture_default_str();
    cli.add_option("--out", out, "with --screenshot: the PNG to write");
    cli.add_option("--golden", golden,
                   "with --screenshot: compare with this PNG; exit 1 if it differs");
    cli.add_flag("--silent", silent, "no sounds");
    if (const auto exit = base::parseCommandLine(cli, argc, argv))
        return *exit; // before Qt: --help and a wrong flag need no display

    int qtArgc = 1;
    QGuiApplication app(qtArgc, argv);
    QGuiApplication::setApplicationName(QStringLiteral("unioncard-verifier-ui"));
    QQmlEngine engine;
    unioncard::ui::prepareEngine(engine);
    unioncard::ui::LanguageController language(&engine,
                                               {QStringLiteral("ui"), QStringLiteral("verifier")});
    if (!language.setLanguage(QString::fromStdString(lang))) {
        std::fprintf(stderr, "unioncard-verifier-ui: --lang takes ru or en\n");
        return 2;
    }

    if (selfTestRun)
        return selfTest(engine, language);
    if (!shot.empty()) {
        if (out.empty()) {
            std::fprintf(stderr, "unioncard-verifier-ui: --screenshot needs --out FILE.png\n");
            return 2;
        }
        return screenshot(engine, language, QString::fromStdString(shot),
                          QString::fromStdString(out), QString::fromStdString(golden));
    }

    QString error;
    std::unique_ptr<TrainingDesk> trainingDesk;
    std::unique_ptr<RealDesk> realDesk;
    VerifierController* controller = nullptr;
    QObject* trainer = nullptr;
    if (training) {
        const auto m = parseMode(mode);
        if (!m) {
            std::fprintf(stderr, "unioncard-verifier-ui: --mode takes event or merchant\n");
            return 2;
        }
        trainingDesk = TrainingDesk::create(*m, {}, &error);
        if (trainingDesk) {
            controller = trainingDesk->controller.get();
            trainer = trainingDesk->trainer.get();
        }
    } else {
        realDesk = openRealDesk(QString::fromStdString(db), QString::fromStdString(reader), &error);
        if (realDesk) {
            controller = realDesk->controller.get();
            controller->start();
        }
    }
    if (controller == nullptr) {
        std::fprintf(stderr, "unioncard-verifier-ui: %s\n", qPrintable(error));
        return 1;
    }
    std::unique_ptr<Sounds> sounds;
    if (!silent) {
        sounds = std::make_unique<Sounds>();
        QObject::connect(controller, &VerifierController::verdictShown, sounds.get(),
                         &Sounds::play);
    }

    QQuickView view(&engine, nullptr);
    view.setResizeMode(QQuickView::SizeRootObjectToView);
    view.setInitialProperties(
        {{QStringLiteral("controller"), QVariant::fromValue<QObject*>(controller)},
         {QStringLiteral("language"), QVariant::fromValue<QObject*>(&language)},
         {QStringLiteral("trainer"), QVariant::fromValue<QObject*>(trainer)}});
    view.setSource(kMain);
    if (view.status() != QQuickView::Ready) {
        for (const auto& e : view.errors())
            std::fprintf(stderr, "%s\n", qPrintable(e.toString()));
        return 1;
    }
    view.setTitle(QStringLiteral("unioncard verifier"));
    if (kiosk) {
        view.showFullScreen();
    } else {
        view.resize(1280, 800);
        view.show();
    }
    return QGuiApplication::exec();
}
