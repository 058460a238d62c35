// SPDX-License-Identifier: Apache-2.0
// The simulated Evolis printer without sockets: its command parser (guide A5013 Rev. E p. 4
// framing, p. 14 bitmaps) and its state machine, driven with raw commands.

#include <unioncard/sim/evolis_printer.hpp>

#include <gtest/gtest.h>

#include <random>

namespace sim = unioncard::sim::evolis;

namespace {

class NoEvents final : public sim::PrinterEvents {
public:
    bool cardAtContactless(const std::string&, std::string&) override { return true; }
    void cardLeftContactless(const std::string&) override {}
    void cardLeft(const sim::CardOutcome& o) override { outcomes.push_back(o); }
    std::vector<sim::CardOutcome> outcomes;
};

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

std::vector<sim::CommandParser::Command> parse(const std::vector<std::uint8_t>& in,
                                               std::size_t chunk) {
    sim::CommandParser parser;
    std::vector<sim::CommandParser::Command> out;
    for (std::size_t i = 0; i < in.size(); i += chunk) {
        parser.feed(std::span(in).subspan(i, std::min(chunk, in.size() - i)), out);
    }
    return out;
}

} // namespace

TEST(EvolisSimParser, SplitsCommandsWhateverTheChunking) {
    auto in = bytes("\x1bRco;c\r\x1bSic\r\x1bPc;y;=;10\r");
    for (std::size_t chunk : {1u, 2u, 5u, 100u}) {
        auto cmds = parse(in, chunk);
        ASSERT_EQ(cmds.size(), 3u) << chunk;
        EXPECT_EQ(cmds[0].name, "Rco");
        EXPECT_EQ(cmds[0].params, std::vector<std::string>{"c"});
        EXPECT_EQ(cmds[1].name, "Sic");
        EXPECT_EQ(cmds[2].params.size(), 3u);
    }
}

TEST(EvolisSimParser, StartCharacterMayBeLeftOutAfterCr) {
    // p. 4: "the Start Character is not compulsory after the CR character".
    auto cmds = parse(bytes("\x1bSs\rSr\r"), 3);
    ASSERT_EQ(cmds.size(), 2u);
    EXPECT_EQ(cmds[1].name, "Sr");
}

TEST(EvolisSimParser, BitmapDataMayHoldCrAndEsc) {
    std::vector<std::uint8_t> in = bytes("\x1b"
                                         "Db;k;2;");
    std::vector<std::uint8_t> data(82296);
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<std::uint8_t>(i % 3 == 0 ? 0x0D : i % 3 == 1 ? 0x1B : i);
    }
    in.insert(in.end(), data.begin(), data.end());
    in.push_back(0x0D);
    auto more = bytes("\x1bSe\r");
    in.insert(in.end(), more.begin(), more.end());
    for (std::size_t chunk : {std::size_t{7}, std::size_t{4096}, in.size()}) {
        auto cmds = parse(in, chunk);
        ASSERT_EQ(cmds.size(), 2u);
        EXPECT_EQ(cmds[0].name, "Db");
        EXPECT_EQ(cmds[0].data, data);
        EXPECT_EQ(cmds[1].name, "Se");
    }
}

TEST(EvolisSimParser, BadInputIsAnErrorNeverACrash) {
    auto cmds = parse(bytes("\x1b"
                            "Db;k;3;xxxx\r"),
                      1);
    ASSERT_FALSE(cmds.empty());
    EXPECT_EQ(cmds[0].name, ""); // 3 levels: not a mode of p. 14
    EXPECT_EQ(parse(std::vector<std::uint8_t>(600, 'A'), 1).at(0).name, "");
    std::mt19937 random(4);
    std::vector<std::uint8_t> noise(200000);
    for (auto& b : noise) {
        b = static_cast<std::uint8_t>(random());
    }
    (void)parse(noise, 333); // must simply return
}

TEST(EvolisSimPrinter, AnswersReadsAndRefusesWhatItCannotDo) {
    NoEvents events;
    sim::EvolisPrinterSim printer({.cards = 1}, events);
    const auto s = printer.openSession();
    auto run = [&](std::string_view command) {
        auto answer = printer.receive(s, bytes(command));
        EXPECT_FALSE(answer.empty());
        return answer.substr(0, answer.size() - 1);
    };
    EXPECT_EQ(run("\x1bRco;c\r"), "0");
    EXPECT_EQ(run("\x1bRlr;p\r"), "NO CARD");
    EXPECT_EQ(run("\x1bXyz\r"), "ERR CMD");
    EXPECT_EQ(run("\x1bSe\r"), "ERR NO CARD");
    EXPECT_EQ(run("\x1bSr\r"), "ERR CMD"); // outside a sequence
    EXPECT_EQ(run("\x1bSic\r"), "OK");
    EXPECT_EQ(run("\x1bRlr;p\r"), "ERR CARD");
    EXPECT_EQ(run("\x1bSic\r"), "ERR CARD"); // one card at a time
    EXPECT_EQ(run("\x1bSs\r"), "OK");
    // An unknown panel letter: the data (length fixed by the levels) is taken, then refused.
    std::string unknownPanel = "\x1b"
                               "Db;q;2;";
    unknownPanel += std::string(82296, '\0') + "\r";
    EXPECT_EQ(run(unknownPanel), "ERR PARAM");
    EXPECT_EQ(run("\x1bSe\r"), "OK");
    ASSERT_EQ(events.outcomes.size(), 1u);
    EXPECT_EQ(run("\x1bRlr\r"), "ERR FEEDER EMPTY");
    printer.openCover();
    EXPECT_EQ(run("\x1bRlr\r"), "ERR COVER OPEN");
    EXPECT_EQ(run("\x1bSic\r"), "ERR COVER OPEN");
}

TEST(EvolisSimPrinter, StateSurvivesAPowerLoss) {
    NoEvents events;
    sim::EvolisPrinterSim printer({.cards = 3, .powerLossAt = sim::Step::Feed}, events);
    const auto s = printer.openSession();
    EXPECT_EQ(printer.receive(s, bytes("\x1bSic\r")), ""); // no answer: the power went
    EXPECT_TRUE(printer.poweredOff());
    sim::EvolisPrinterSim restarted({.cards = 3, .powerLossAt = sim::Step::Feed}, events);
    std::string error;
    ASSERT_TRUE(restarted.loadState(printer.saveState(), error)) << error;
    const auto snap = restarted.snapshot();
    EXPECT_EQ(snap.feeder, 2);
    EXPECT_EQ(snap.cardPlace, "feed");
    EXPECT_EQ(snap.cardSerial, printer.snapshot().cardSerial);
    const auto t = restarted.openSession();
    EXPECT_EQ(restarted.receive(t, bytes("\x1bRlr\r")), "ERR CARD\r");
    EXPECT_EQ(restarted.receive(t, bytes("\x1bSer\r")), "OK\r");
    EXPECT_FALSE(restarted.poweredOff()); // the injected loss happened once
    EXPECT_FALSE(restarted.loadState("garbage", error));
}
