// SPDX-License-Identifier: Apache-2.0
// unioncard-station-ui: the issuing station's kiosk. The composition root: it opens the
// station's file and keys, chooses the devices (the PC/SC readers and the printer the station's
// settings name, or the whole station simulated in process with --simulated) and hands them to
// the controllers; the screens are QML on top (station/ui/qml).
//
// Exit status: 0 done, 1 failed (the reason on stderr), 2 wrong usage or setup. Secrets as for
// unioncard-station: UNIONCARD_STATION_PASSPHRASE (or UNIONCARD_PASSPHRASE),
// UNIONCARD_CARD_KEYS_PASSPHRASE, UNIONCARD_TOKEN_PIN for a PKCS#11 token.

#include "real_station.hpp"
#include "sim_station.hpp"
#include "station_app.hpp"

#include <unioncard/base/program.hpp>
#include <unioncard/printer/renderer.hpp>
#include <unioncard/ui/language_controller.hpp>
#include <unioncard/ui/page_host.hpp>
#include <unioncard/ui/self_test.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQmlEngine>
#include <QQuickItem>
#include <QTemporaryDir>
#include <QtQml/QQmlExtensionPlugin>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unistd.h>

Q_IMPORT_QML_PLUGIN(UnionCard_UiPlugin)
Q_IMPORT_QML_PLUGIN(UnionCard_StationPlugin)

namespace {

using namespace unioncard::station::ui;
namespace fs = std::filesystem;

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

// Signs the simulated supervisor in and shows a page: for screenshots and the self-test.
void showPage(StationApp& app, SimulatedStation& sim, QObject* shell, const QString& page) {
    if (page == "signin") {
        return;
    }
    app.session()->signIn(SimulatedOperators::supervisorId, SimulatedOperators::supervisorPin);
    app.home()->setRefreshSeconds(0);
    if (page == "batch") {
        app.batch()->start(app.queue()->batchIds(3));
        while (app.batch()->running()) {
            QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        }
    }
    if (page == "queue") {
        app.queue()->refresh();
        const QStringList ids = app.queue()->batchIds(1);
        if (!ids.isEmpty()) {
            app.queue()->select(ids.front());
        }
    }
    if (page == "handover") {
        const auto numbers = sim.producedNumbers();
        if (numbers.empty()) {
            app.batch()->start(app.queue()->batchIds(1));
            while (app.batch()->running()) {
                QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
            }
        }
        const auto made = sim.producedNumbers();
        if (!made.empty()) {
            app.handover()->lookUp(QString::fromStdString(made.front()));
        }
    }
    if (shell) {
        shell->setProperty("page", page);
    }
}

// A screenshot against its golden: the same size, and at most 1.5% of the pixels differing by
// more than 48 in a channel (antialiasing, the expiry date on a card drawn today).
int compareWithGolden(const QImage& shot, const QString& golden) {
    if (qEnvironmentVariable("UNIONCARD_UPDATE_GOLDEN") == "1") {
        return shot.save(golden) ? kOk : kFailed;
    }
    QImage want(golden);
    if (want.isNull()) {
        std::cerr << "unioncard-station-ui: no golden " << golden.toStdString()
                  << " (UNIONCARD_UPDATE_GOLDEN=1 makes it)\n";
        return kFailed;
    }
    const QImage a = shot.convertToFormat(QImage::Format_RGB32);
    const QImage b = want.convertToFormat(QImage::Format_RGB32);
    if (a.size() != b.size()) {
        std::cerr << "unioncard-station-ui: the screenshot's size differs from the golden's\n";
        return kFailed;
    }
    qint64 differing = 0;
    for (int y = 0; y < a.height(); ++y) {
        const auto* pa = reinterpret_cast<const QRgb*>(a.constScanLine(y));
        const auto* pb = reinterpret_cast<const QRgb*>(b.constScanLine(y));
        for (int x = 0; x < a.width(); ++x) {
            const int d = std::max({std::abs(qRed(pa[x]) - qRed(pb[x])),
                                    std::abs(qGreen(pa[x]) - qGreen(pb[x])),
                                    std::abs(qBlue(pa[x]) - qBlue(pb[x]))});
            differing += d > 48;
        }
    }
    const double share = static_cast<double>(differing) / (a.width() * a.height());
    if (share > 0.015) {
        std::cerr << fmt::format("unioncard-station-ui: {:.2f}% of the pixels differ from {}\n",
                                 share * 100, golden.toStdString());
        return kFailed;
    }
    return kOk;
}

} // namespace

int main(int argc, char** argv) {
    unioncard::printer::ensureQtRuntimeDir(); // Qt wants a private runtime folder
    CLI::App cli{"unioncard-station-ui: the issuing station's kiosk.\n"
                 "Exit status: 0 done, 1 failed (reason given), 2 wrong usage or setup."};
    unioncard::base::conventions(cli, "unioncard-station-ui",
                                 {"station.toml", "kiosk", {}, {"init"}});
    std::string db = "station.db";
    bool training = false, simulated = false, kiosk = false, window = false, selfTest = false;
    std::string lang = "ru", deskReader, screenshot, out;
    cli.add_option("--db", db, "the station's file")
        ->envname("UNIONCARD_STATION_DB")
        ->capture_default_str();
    cli.add_flag("--training", training,
                 "training mode: marked on every screen (the station's file says so too)");
    cli.add_flag("--simulated", simulated,
                 "the whole station simulated in this process: keys, printer, cards (training)");
    cli.add_flag("--kiosk", kiosk,
                 "full screen, with the on-screen keyboard (as the kiosk session starts it)");
    cli.add_flag("--window", window, "a window (the default without --kiosk)")->excludes("--kiosk");
    cli.add_option("--lang", lang, "the language to start in")
        ->check(CLI::IsMember({"ru", "en"}))
        ->capture_default_str();
    cli.add_option("--desk-reader,--reader", deskReader,
                   "the desk reader (default: the settings' or "
                   "\"Station desk\")");
    cli.add_flag("--self-test", selfTest,
                 "load every page offscreen on a simulated station; exit 1 on any QML warning");
    cli.add_option("--screenshot", screenshot,
                   "draw one page on a simulated station: signin, home, queue, batch, handover, "
                   "reports, settings")
        ->check(
            CLI::IsMember({"signin", "home", "queue", "batch", "handover", "reports", "settings"}));
    cli.add_option("--out", out, "with --screenshot: the PNG to write");
    std::string golden;
    cli.add_option("--golden", golden,
                   "with --screenshot: compare with this PNG (UNIONCARD_UPDATE_GOLDEN=1 rewrites "
                   "it); exit 1 if they differ");
    if (const auto exit = unioncard::base::parseCommandLine(cli, argc, argv))
        return *exit;
    if (!screenshot.empty() && out.empty()) {
        std::cerr << "unioncard-station-ui: --screenshot needs --out FILE.png\n";
        return kUsage;
    }
    if (selfTest && std::getenv("QT_QPA_PLATFORM") == nullptr) {
        setenv("QT_QPA_PLATFORM", "offscreen", 1);
    }
    if (kiosk && std::getenv("QT_IM_MODULE") == nullptr) {
        setenv("QT_IM_MODULE", "qtvirtualkeyboard", 1);
    }
    int qtArgc = 1;
    QGuiApplication qt(qtArgc, argv);
    QGuiApplication::setApplicationName("unioncard-station-ui");

    QTemporaryDir simFolder;
    std::unique_ptr<SimulatedStation> sim;
    StationServices services;
    if (simulated || selfTest || !screenshot.empty()) {
        std::string why;
        SimulatedStationOptions options;
        if (simulated) {
            options.printer.cardsPerHour = 600; // slow enough to watch a batch go by
        }
        sim = SimulatedStation::create(simFolder.path().toStdString(), options, &why);
        if (!sim) {
            std::cerr << "unioncard-station-ui: the simulated station: " << why << "\n";
            return kFailed;
        }
        services = sim->services();
    } else {
        auto real = realStation(db, deskReader, training);
        if (!real) {
            std::cerr << "unioncard-station-ui: " << real.error() << "\n";
            return kUsage;
        }
        services = std::move(real).value();
    }
    QString error;
    auto app = StationApp::create(std::move(services), &error);
    if (!app) {
        std::cerr << "unioncard-station-ui: " << error.toStdString() << "\n";
        return kFailed;
    }

    if (selfTest || !screenshot.empty()) {
        QQmlEngine engine;
        unioncard::ui::prepareEngine(engine);
        unioncard::ui::LanguageController language(&engine, {"ui", "station"});
        language.setLanguage(QString::fromStdString(lang));
        app->install(engine, &language);
        engine.rootContext()->setContextProperty("virtualKeyboard", false);
        const QString base = QStringLiteral("qrc:/qt/qml/UnionCard/Station/");
        if (selfTest) {
            unioncard::ui::SelfTest test(engine, &language, QSize(1280, 800));
            test.addPage({"shell (signed out)", QUrl(base + "StationShell.qml"), {}, {}});
            for (const char* page : {"home", "queue", "batch", "handover", "reports", "settings"}) {
                test.addPage({QString("shell: ") + page,
                              QUrl(base + "StationShell.qml"),
                              {},
                              [&, page](QObject* root) {
                                  showPage(*app, *sim, root, QString(page));
                              }});
            }
            const char* pages[] = {"SignInPage",   "HomePage",    "QueuePage",   "BatchPage",
                                   "HandoverPage", "ReportsPage", "SettingsPage"};
            for (const char* page : pages) {
                test.addPage({page, QUrl(base + page + ".qml"), {}, {}});
            }
            test.addPage({"Main", QUrl(base + "Main.qml"), {}, {}});
            return test.run() == 0 ? kOk : kFailed;
        }
        unioncard::ui::PageHost host(engine, QSize(1280, 800));
        if (!host.load(QUrl(base + "StationShell.qml"), {}, &error)) {
            std::cerr << "unioncard-station-ui: " << error.toStdString() << "\n";
            return kFailed;
        }
        showPage(*app, *sim, host.root(), QString::fromStdString(screenshot));
        host.settle(400);
        const QImage image = host.grab();
        if (image.isNull() || !image.save(QString::fromStdString(out))) {
            std::cerr << "unioncard-station-ui: could not draw or save " << out << "\n";
            return kFailed;
        }
        if (!golden.empty()) {
            return compareWithGolden(image, QString::fromStdString(golden));
        }
        return kOk;
    }

    std::unique_ptr<TrainingDesk> trainer;
    if (sim) {
        trainer = std::make_unique<TrainingDesk>(*sim);
        app->setTrainer(trainer.get());
    }
    QQmlApplicationEngine engine;
    unioncard::ui::prepareEngine(engine);
    unioncard::ui::LanguageController language(&engine, {"ui", "station"});
    language.setLanguage(QString::fromStdString(lang));
    app->install(engine, &language);
    engine.rootContext()->setContextProperty("virtualKeyboard", kiosk);
    engine.load(QUrl("qrc:/qt/qml/UnionCard/Station/Main.qml"));
    if (engine.rootObjects().isEmpty()) {
        return kFailed;
    }
    if (kiosk) {
        if (auto* shown = qobject_cast<QWindow*>(engine.rootObjects().front())) {
            shown->showFullScreen();
        }
    }
    return qt.exec();
}
