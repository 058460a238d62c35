// SPDX-License-Identifier: Apache-2.0
// The Evolis driver (printer/) against the simulated printer (sim/) over loopback TCP: two
// independent readings of the Evolis programming guide, meeting on the wire. Every status and
// fault the printer can be in, how the driver reports it, and how it recovers.

#include <unioncard/printer/evolis.hpp>
#include <unioncard/sim/evolis_printer.hpp>

#include <gtest/gtest.h>

#include <mutex>

namespace ev = unioncard::printer::evolis;
namespace pr = unioncard::printer;
namespace sim = unioncard::sim::evolis;

namespace {

// Stands in for the encoder reader and the output folder.
class Recorder final : public sim::PrinterEvents {
public:
    bool cardAtContactless(const std::string& serial, std::string& error) override {
        std::lock_guard lock(m_mutex);
        if (refuseEncoder) {
            error = "reader unplugged";
            return false;
        }
        atReader = serial;
        arrivals.push_back(serial);
        return true;
    }
    void cardLeftContactless(const std::string& serial) override {
        std::lock_guard lock(m_mutex);
        EXPECT_EQ(serial, atReader);
        atReader.clear();
    }
    void cardLeft(const sim::CardOutcome& outcome) override {
        std::lock_guard lock(m_mutex);
        outcomes.push_back(outcome);
    }
    std::mutex m_mutex;
    bool refuseEncoder = false;
    std::string atReader;
    std::vector<std::string> arrivals;
    std::vector<sim::CardOutcome> outcomes;
};

pr::Raster face(std::uint8_t grey) {
    pr::Raster r{ev::kFaceWidth, ev::kFaceHeight, 300, {}};
    r.rgb.assign(static_cast<std::size_t>(r.width) * r.height * 3, grey);
    return r;
}

class EvolisDriverSim : public ::testing::Test {
protected:
    void start(sim::PrinterOptions options = {}) {
        m_printer = std::make_unique<sim::EvolisPrinterSim>(options, m_events);
        m_server = std::make_unique<sim::PrinterServer>(*m_printer);
        std::string error;
        ASSERT_TRUE(m_server->start("127.0.0.1", 0, error)) << error;
    }
    std::unique_ptr<ev::EvolisPrinter> connect(ev::DriverOptions options = {}) {
        options.replyTimeout = std::chrono::milliseconds(3000);
        auto p = ev::openPrinter(fmt("tcp://127.0.0.1:{}"), options);
        EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
        return p.ok() ? std::move(p).value() : nullptr;
    }
    std::string fmt(const char* pattern) {
        std::string s(pattern);
        s.replace(s.find("{}"), 2, std::to_string(m_server->port()));
        return s;
    }
    static pr::PrinterStatus status(ev::EvolisPrinter& p) {
        auto s = p.status();
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        return s.ok() ? *s : pr::PrinterStatus{};
    }

    Recorder m_events;
    std::unique_ptr<sim::EvolisPrinterSim> m_printer;
    std::unique_ptr<sim::PrinterServer> m_server;
};

} // namespace

TEST_F(EvolisDriverSim, ReadyPrinterReportsItsInfoAndCounters) {
    start();
    auto p = connect();
    ASSERT_TRUE(p);
    auto s = status(*p);
    EXPECT_EQ(s.state, pr::PrinterState::Ready);
    EXPECT_EQ(s.fault, pr::PrinterFault::None);
    EXPECT_FALSE(s.cardInside);
    auto info = p->info();
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->model, "Evolis Primacy 2 (simulated)");
    EXPECT_EQ(info->ribbon, "ymcko");
    auto c = p->counters();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->cardsInserted, 0u);
    EXPECT_EQ(c->ribbonCardsLeft, 200u); // 1000 panels, 5 a side
}

TEST_F(EvolisDriverSim, FeedsEncodesPrintsBothSidesAndEjects) {
    start();
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    ASSERT_EQ(m_events.arrivals.size(), 1u);
    EXPECT_EQ(m_events.atReader, m_events.arrivals[0]);
    EXPECT_EQ(m_events.atReader.size(), 14u); // a 7-byte UID in hex
    EXPECT_EQ(m_events.atReader.substr(0, 2), "04");
    EXPECT_TRUE(status(*p).cardInside);

    auto printed = p->printCard(face(128), face(255));
    ASSERT_TRUE(printed.ok()) << printed.error().message;
    EXPECT_EQ(printed->panels, 7); // YMCKO front, K O back
    // 3 dye panels at 32 levels + 4 one-bit panels, plus the commands around them.
    const std::uint64_t panels = 3 * 411480 + 4 * 82296;
    EXPECT_GT(printed->bytesSent, panels);
    EXPECT_LT(printed->bytesSent, panels + 200);

    ASSERT_EQ(m_events.outcomes.size(), 1u);
    const auto& out = m_events.outcomes[0];
    EXPECT_EQ(out.serial, m_events.arrivals[0]);
    EXPECT_EQ(out.where, "ejected");
    EXPECT_TRUE(out.printed);
    ASSERT_EQ(out.panels.size(), 7u);
    EXPECT_EQ(out.panels[0].panel, 'y');
    EXPECT_EQ(out.panels[5].side, 'b');
    EXPECT_EQ(out.panels[5].panel, 'k');
    EXPECT_TRUE(m_events.atReader.empty());

    auto s = status(*p);
    EXPECT_EQ(s.state, pr::PrinterState::Ready);
    EXPECT_FALSE(s.cardInside);
    auto c = p->counters();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->cardsInserted, 1u);
    EXPECT_EQ(c->panelsPrinted, 7u);
    EXPECT_EQ(c->ribbonCardsLeft, 198u); // two YMCKO sets used: front and back
    EXPECT_EQ(m_printer->snapshot().hopper, 1);
}

TEST_F(EvolisDriverSim, EmptyFeederSaysLoadCardsAndRecoversWhenLoaded) {
    start({.cards = 0});
    auto p = connect();
    ASSERT_TRUE(p);
    auto s = status(*p);
    EXPECT_EQ(s.state, pr::PrinterState::Fault);
    EXPECT_EQ(s.fault, pr::PrinterFault::FeederEmpty);
    auto fed = p->feedToContactless();
    ASSERT_FALSE(fed.ok());
    EXPECT_EQ(fed.error().code, pr::PrinterFault::FeederEmpty);
    EXPECT_NE(fed.error().message.find("Load blank cards into the feeder"), std::string::npos);
    m_printer->loadCards(5);
    EXPECT_EQ(status(*p).state, pr::PrinterState::Ready);
    EXPECT_TRUE(p->feedToContactless().ok());
}

TEST_F(EvolisDriverSim, OpenCoverStopsEverythingUntilClosed) {
    start({.coverOpen = true});
    auto p = connect();
    ASSERT_TRUE(p);
    EXPECT_EQ(status(*p).fault, pr::PrinterFault::CoverOpen);
    auto fed = p->feedToContactless();
    ASSERT_FALSE(fed.ok());
    EXPECT_EQ(fed.error().code, pr::PrinterFault::CoverOpen);
    EXPECT_NE(fed.error().message.find("Close the printer's cover"), std::string::npos);
    m_printer->closeCover();
    EXPECT_EQ(status(*p).state, pr::PrinterState::Ready);
}

TEST_F(EvolisDriverSim, RibbonRunsOutRejectsTheCardAndRecoversWithANewRibbon) {
    start({.ribbonOutAfter = 1});
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    ASSERT_TRUE(p->printCard(face(0), std::nullopt).ok());
    auto s = status(*p);
    EXPECT_EQ(s.fault, pr::PrinterFault::RibbonOut);
    EXPECT_FALSE(s.ribbonLow); // out, not low
    ASSERT_TRUE(p->feedToContactless().ok());
    auto printed = p->printCard(face(0), std::nullopt);
    ASSERT_FALSE(printed.ok());
    EXPECT_EQ(printed.error().code, pr::PrinterFault::RibbonOut);
    EXPECT_TRUE(printed.error().cardRejected);
    EXPECT_EQ(m_events.outcomes.back().where, "rejected");
    m_printer->replaceRibbon(1000);
    EXPECT_EQ(status(*p).state, pr::PrinterState::Ready);
}

TEST_F(EvolisDriverSim, RibbonLowIsAWarningNotAFault) {
    start({.ribbonPanels = 50}); // 10 cards
    auto p = connect({.ribbonLowCards = 20});
    ASSERT_TRUE(p);
    auto s = status(*p);
    EXPECT_EQ(s.state, pr::PrinterState::Ready);
    EXPECT_TRUE(s.ribbonLow);
}

TEST_F(EvolisDriverSim, JamMidPrintSendsTheCardToTheRejectBoxAndSaysSo) {
    start({.jamAt = sim::Step::Print});
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    auto printed = p->printCard(face(0), face(0));
    ASSERT_FALSE(printed.ok());
    EXPECT_EQ(printed.error().code, pr::PrinterFault::CardJam);
    EXPECT_TRUE(printed.error().cardRejected);
    EXPECT_NE(printed.error().message.find("reject box"), std::string::npos);
    ASSERT_EQ(m_events.outcomes.size(), 1u);
    EXPECT_EQ(m_events.outcomes[0].where, "rejected");
    EXPECT_FALSE(m_events.outcomes[0].printed == true && m_events.outcomes[0].panels.size() == 7);
    EXPECT_EQ(m_printer->snapshot().rejectBox, 1);
    EXPECT_EQ(status(*p).state, pr::PrinterState::Ready);
    // The next card prints.
    ASSERT_TRUE(p->feedToContactless().ok());
    EXPECT_TRUE(p->printCard(face(0), std::nullopt).ok());
}

TEST_F(EvolisDriverSim, JamWhileFeedingIsReportedAndRecoverRejectsTheCard) {
    start({.jamAt = sim::Step::Feed});
    auto p = connect();
    ASSERT_TRUE(p);
    auto fed = p->feedToContactless();
    ASSERT_FALSE(fed.ok());
    EXPECT_EQ(fed.error().code, pr::PrinterFault::CardJam);
    EXPECT_TRUE(m_events.arrivals.empty()); // never reached the encoder
    auto s = status(*p);
    EXPECT_EQ(s.fault, pr::PrinterFault::CardJam);
    EXPECT_TRUE(s.cardInside);
    auto r = p->recover();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->cardRejected);
    EXPECT_EQ(r->status.state, pr::PrinterState::Ready);
    EXPECT_EQ(m_events.outcomes.at(0).where, "rejected");
}

TEST_F(EvolisDriverSim, JamLeavingTheContactlessStationTakesTheChipOffTheReader) {
    start({.jamAt = sim::Step::Contactless});
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    EXPECT_FALSE(m_events.atReader.empty());
    auto printed = p->printCard(face(0), std::nullopt);
    ASSERT_FALSE(printed.ok());
    EXPECT_EQ(printed.error().code, pr::PrinterFault::CardJam);
    EXPECT_TRUE(printed.error().cardRejected);
    EXPECT_TRUE(m_events.atReader.empty());
    EXPECT_FALSE(m_events.outcomes.at(0).printed);
}

TEST_F(EvolisDriverSim, JamAtTheExitRejectsThePrintedCard) {
    start({.jamAt = sim::Step::Eject});
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    auto printed = p->printCard(face(0), std::nullopt);
    ASSERT_FALSE(printed.ok());
    EXPECT_EQ(printed.error().code, pr::PrinterFault::CardJam);
    EXPECT_TRUE(printed.error().cardRejected);
    EXPECT_EQ(m_events.outcomes.at(0).where, "rejected");
    EXPECT_TRUE(m_events.outcomes.at(0).printed);
}

TEST_F(EvolisDriverSim, JamWithTheCoverOpenWaitsForTheOperator) {
    start({.jamAt = sim::Step::Print});
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    m_printer->openCover(); // the operator opened it mid-job
    auto printed = p->printCard(face(0), std::nullopt);
    ASSERT_FALSE(printed.ok());
    EXPECT_EQ(printed.error().code, pr::PrinterFault::CoverOpen);
    EXPECT_FALSE(printed.error().cardRejected);
    EXPECT_TRUE(status(*p).cardInside);
    m_printer->closeCover();
    auto r = p->recover();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->cardRejected);
}

TEST_F(EvolisDriverSim, PowerLossMidPrintKeepsTheCardForTheRestartedPrinter) {
    start({.powerLossAt = sim::Step::Print});
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    auto printed = p->printCard(face(0), std::nullopt);
    ASSERT_FALSE(printed.ok());
    EXPECT_EQ(printed.error().code, pr::PrinterFault::Offline);
    m_server->wait();
    EXPECT_TRUE(m_printer->poweredOff());
    EXPECT_EQ(status(*p).state, pr::PrinterState::Offline);
    const std::string state = m_printer->saveState();

    // Power comes back: a new printer process with the old state.
    m_server.reset();
    m_printer = std::make_unique<sim::EvolisPrinterSim>(sim::PrinterOptions{}, m_events);
    std::string error;
    ASSERT_TRUE(m_printer->loadState(state, error)) << error;
    m_server = std::make_unique<sim::PrinterServer>(*m_printer);
    ASSERT_TRUE(m_server->start("127.0.0.1", 0, error)) << error;
    auto again = connect();
    ASSERT_TRUE(again);
    auto s = status(*again);
    EXPECT_EQ(s.fault, pr::PrinterFault::CardInside);
    EXPECT_TRUE(s.cardInside);
    auto r = again->recover();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->cardRejected);
    EXPECT_EQ(r->status.state, pr::PrinterState::Ready);
    EXPECT_EQ(m_events.outcomes.at(0).where, "rejected");
    EXPECT_EQ(m_printer->snapshot().cardsInserted, 1u);
}

TEST_F(EvolisDriverSim, PulledConnectionIsOfflineAndTheCardIsLeftForRecovery) {
    start();
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    m_server->dropConnections();
    auto s = p->status();
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->state, pr::PrinterState::Offline);
    auto printed = p->printCard(face(0), std::nullopt);
    ASSERT_FALSE(printed.ok());
    EXPECT_EQ(printed.error().code, pr::PrinterFault::Offline);
    EXPECT_NE(printed.error().message.find("connection"), std::string::npos);
    // Plugged in again: the card nobody owns is reported and rejected on recovery.
    auto again = connect();
    ASSERT_TRUE(again);
    EXPECT_EQ(status(*again).fault, pr::PrinterFault::CardInside);
    auto r = again->recover();
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->cardRejected);
    EXPECT_TRUE(m_events.atReader.empty());
}

TEST_F(EvolisDriverSim, UnreachablePrinterIsOffline) {
    start();
    const auto port = m_server->port();
    m_server->stop();
    auto p = ev::openPrinter("tcp://127.0.0.1:" + std::to_string(port));
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, pr::PrinterFault::Offline);
}

TEST_F(EvolisDriverSim, ASecondStationSeesThePrinterBusy) {
    start();
    auto a = connect();
    auto b = connect();
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(a->feedToContactless().ok());
    EXPECT_EQ(status(*b).state, pr::PrinterState::Busy);
    auto fed = b->feedToContactless();
    ASSERT_FALSE(fed.ok());
    EXPECT_EQ(fed.error().code, pr::PrinterFault::Busy);
    ASSERT_TRUE(a->eject().ok());
    EXPECT_EQ(status(*b).state, pr::PrinterState::Ready);
    EXPECT_EQ(m_events.outcomes.at(0).where, "ejected");
    EXPECT_FALSE(m_events.outcomes.at(0).printed);
}

TEST_F(EvolisDriverSim, EncoderNotReadyIsAnEncoderError) {
    start();
    m_events.refuseEncoder = true;
    auto p = connect();
    ASSERT_TRUE(p);
    auto fed = p->feedToContactless();
    ASSERT_FALSE(fed.ok());
    EXPECT_EQ(fed.error().code, pr::PrinterFault::EncoderError);
    auto r = p->reject();
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(m_events.outcomes.at(0).where, "rejected");
}

TEST_F(EvolisDriverSim, CancelRejectsTheCardInside) {
    start();
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    auto r = p->cancel();
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->cardRejected);
    EXPECT_EQ(r->status.state, pr::PrinterState::Ready);
    auto nothing = p->cancel();
    ASSERT_TRUE(nothing.ok());
    EXPECT_FALSE(nothing->cardRejected);
}

TEST_F(EvolisDriverSim, AFaceOfTheWrongSizeSendsNothing) {
    start();
    auto p = connect();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feedToContactless().ok());
    const auto before = p->bytesSent();
    pr::Raster portrait{648, 1016, 300, std::vector<std::uint8_t>(648 * 1016 * 3, 255)};
    auto printed = p->printCard(portrait, std::nullopt);
    ASSERT_FALSE(printed.ok());
    EXPECT_EQ(printed.error().code, pr::PrinterFault::BadImage);
    EXPECT_EQ(p->bytesSent(), before);
    EXPECT_TRUE(status(*p).cardInside); // still there, for the station to decide
}
