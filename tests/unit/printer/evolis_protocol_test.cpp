// SPDX-License-Identifier: Apache-2.0
// The Evolis command language as values (guide A5013 Rev. E pages in the comments), and the
// printer/encoder pairing profiles in firmware-config/printers/.

#include <unioncard/printer/evolis.hpp>
#include <unioncard/printer/printer_profile.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ev = unioncard::printer::evolis;
namespace pr = unioncard::printer;
namespace fs = std::filesystem;

namespace {

std::string text(const std::vector<std::uint8_t>& bytes) {
    return std::string(bytes.begin(), bytes.end());
}

pr::Raster face(std::array<std::uint8_t, 3> rgb) {
    pr::Raster r{ev::kFaceWidth, ev::kFaceHeight, 300, {}};
    r.rgb.resize(static_cast<std::size_t>(r.width) * r.height * 3);
    for (std::size_t i = 0; i < r.rgb.size(); i += 3) {
        r.rgb[i] = rgb[0];
        r.rgb[i + 1] = rgb[1];
        r.rgb[i + 2] = rgb[2];
    }
    return r;
}

} // namespace

TEST(EvolisProtocol, CommandsAreEscNameSeparatedParametersCr) {
    // p. 4: (ESC) command ; parameter ... (CR)
    EXPECT_EQ(text(ev::encodeCommand("Sic")), "\x1bSic\r");
    EXPECT_EQ(text(ev::encodeCommand("Rco", {"c"})), "\x1bRco;c\r");
    EXPECT_EQ(text(ev::encodeCommand("Pc", {"y", "=", "10"})), "\x1bPc;y;=;10\r");
}

TEST(EvolisProtocol, PanelSizesFollowTheGuidesFormula) {
    // p. 14: 648 x 1016 dots x bits a dot / 8.
    EXPECT_EQ(ev::panelBytes(2), 82296u);
    EXPECT_EQ(ev::panelBytes(32), 411480u);
    EXPECT_EQ(ev::panelBytes(64), 493776u);
    EXPECT_EQ(ev::panelBytes(128), 576072u);
    EXPECT_EQ(ev::panelBytes(16), 0u);
}

TEST(EvolisProtocol, BitmapCommandCarriesTheBinaryPanel) {
    std::vector<std::uint8_t> data(ev::panelBytes(2), 0x0D); // CR bytes inside the data
    const auto bytes = ev::encodeBitmap(ev::Panel::Black, 2, data);
    const std::string head = "\x1b"
                             "Db;k;2;";
    ASSERT_EQ(bytes.size(), head.size() + data.size() + 1);
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + static_cast<long>(head.size())), head);
    EXPECT_EQ(bytes.back(), 0x0D);
}

TEST(EvolisProtocol, RepliesAndTheirFaults) {
    EXPECT_EQ(ev::parseReply("OK").kind, ev::Reply::Kind::Ok);
    EXPECT_EQ(ev::parseReply("ERR COVER OPEN").kind, ev::Reply::Kind::Error);
    EXPECT_EQ(ev::parseReply("1.7.2").kind, ev::Reply::Kind::Data);
    EXPECT_EQ(ev::faultOfError("ERR COVER OPEN"), pr::PrinterFault::CoverOpen);
    EXPECT_EQ(ev::faultOfError("ERR FEEDER EMPTY"), pr::PrinterFault::FeederEmpty);
    EXPECT_EQ(ev::faultOfError("ERR RIBBON"), pr::PrinterFault::RibbonOut);
    EXPECT_EQ(ev::faultOfError("ERR MECHANICAL"), pr::PrinterFault::CardJam);
    EXPECT_EQ(ev::faultOfError("ERR CARD"), pr::PrinterFault::CardInside);
    EXPECT_EQ(ev::faultOfError("ERR BUSY"), pr::PrinterFault::Busy);
    EXPECT_EQ(ev::faultOfError("ERR ENCODER"), pr::PrinterFault::EncoderError);
    EXPECT_EQ(ev::faultOfError("ERR CMD"), pr::PrinterFault::CommandRefused);
    EXPECT_EQ(ev::faultOfError("ERR SOMETHING NEW"), pr::PrinterFault::ProtocolError);
}

TEST(EvolisProtocol, EveryFaultHasANameAndAnActionInWords) {
    for (int f = 0; f <= static_cast<int>(pr::PrinterFault::ProtocolError); ++f) {
        const auto fault = static_cast<pr::PrinterFault>(f);
        EXPECT_NE(pr::faultName(fault), "unknown");
        EXPECT_GT(pr::operatorAction(fault).size(), 10u);
    }
    EXPECT_EQ(pr::operatorAction(pr::PrinterFault::FeederEmpty),
              "Load blank cards into the feeder.");
}

TEST(EvolisProtocol, WhiteFaceInksNothingButTheOverlay) {
    auto panels = ev::facePanels(face({255, 255, 255}),
                                 {ev::Panel::Yellow, ev::Panel::Black, ev::Panel::Overlay});
    ASSERT_TRUE(panels.ok());
    ASSERT_EQ(panels->size(), 3u);
    for (const auto& p : *panels) {
        ASSERT_EQ(p.data.size(), ev::panelBytes(p.levels));
        const std::uint8_t want = p.panel == ev::Panel::Overlay ? 0xFF : 0x00;
        EXPECT_TRUE(std::all_of(p.data.begin(), p.data.end(), [&](auto b) { return b == want; }))
            << ev::panelLetter(p.panel);
    }
}

TEST(EvolisProtocol, RedIsFullYellowAndMagentaNoCyan) {
    auto panels =
        ev::facePanels(face({255, 0, 0}), {ev::Panel::Yellow, ev::Panel::Magenta, ev::Panel::Cyan});
    ASSERT_TRUE(panels.ok());
    EXPECT_EQ((*panels)[0].data[0], 0xFF); // 31 = 11111, packed: every bit set
    EXPECT_EQ((*panels)[1].data[0], 0xFF);
    EXPECT_EQ((*panels)[2].data[0], 0x00);
}

TEST(EvolisProtocol, BlackGoesToResinNotToTheDyes) {
    auto r = face({255, 255, 255});
    // Face pixel (0, 647) is line 0, dot 0: the first bit of the K panel.
    const auto at = 3 * (static_cast<std::size_t>(647) * r.width + 0);
    r.rgb[at] = r.rgb[at + 1] = r.rgb[at + 2] = 0;
    auto panels = ev::facePanels(r, {ev::Panel::Cyan, ev::Panel::Black});
    ASSERT_TRUE(panels.ok());
    EXPECT_EQ((*panels)[1].data[0], 0x80);
    EXPECT_EQ(std::count((*panels)[1].data.begin(), (*panels)[1].data.end(), 0), 82295);
    EXPECT_EQ((*panels)[0].data[0], 0x00);
}

TEST(EvolisProtocol, WrongFaceSizeIsBadImage) {
    pr::Raster small{900, 580, 300, std::vector<std::uint8_t>(900 * 580 * 3, 255)};
    auto panels = ev::facePanels(small, {ev::Panel::Black});
    ASSERT_FALSE(panels.ok());
    EXPECT_EQ(panels.error().code, pr::PrinterFault::BadImage);
    auto wrongDpi = face({255, 255, 255});
    wrongDpi.dpi = 600;
    EXPECT_FALSE(ev::facePanels(wrongDpi, {ev::Panel::Black}).ok());
}

TEST(EvolisProtocol, TheRenderersCardSizeIsCentredOnTheBitmap) {
    // 85.60 x 53.98 mm at 300 dpi: 1011 x 638, all black.
    pr::Raster card{1011, 638, 300, std::vector<std::uint8_t>(1011 * 638 * 3, 0)};
    auto panels = ev::facePanels(card, {ev::Panel::Black});
    ASSERT_TRUE(panels.ok()) << panels.error().message;
    const auto& k = (*panels)[0].data;
    // Line 0 is face column 0, left of the card (offset 2): white. Line 2, dot 5 (face row
    // 642, inside the card, offset 5): black.
    EXPECT_EQ(k[0], 0x00);
    EXPECT_NE(k[2 * 81] & 0x04, 0); // dot 5 of line 2: bit 2 of its first byte
    EXPECT_EQ(k[2 * 81] & 0xF8, 0); // dots 0-4: below the card's bottom edge
}

TEST(EvolisProtocol, PrinterAddresses) {
    auto tcp = ev::parsePrinterAddress("tcp://127.0.0.1:9100");
    ASSERT_TRUE(tcp.ok());
    EXPECT_EQ(tcp->host, "127.0.0.1");
    EXPECT_EQ(tcp->port, 9100);
    auto usb = ev::parsePrinterAddress("usb:///dev/usb/lp0");
    ASSERT_TRUE(usb.ok());
    EXPECT_EQ(usb->device, "/dev/usb/lp0");
    EXPECT_FALSE(ev::parsePrinterAddress("tcp://host").ok());
    EXPECT_FALSE(ev::parsePrinterAddress("tcp://host:0").ok());
    EXPECT_FALSE(ev::parsePrinterAddress("tcp://host:99999").ok());
    EXPECT_FALSE(ev::parsePrinterAddress("ipp://host/").ok());
}

TEST(PrinterProfile, TheShippedProfilesLoad) {
    auto all = pr::loadPrinterProfiles(fs::path(UNIONCARD_FIRMWARE_CONFIG_DIR) / "printers");
    ASSERT_TRUE(all.ok()) << all.error();
    ASSERT_GE(all->size(), 2u);
    auto lab = pr::loadPrinterProfile(fs::path(UNIONCARD_FIRMWARE_CONFIG_DIR) / "printers" /
                                      "lab-printer.toml");
    ASSERT_TRUE(lab.ok()) << lab.error();
    EXPECT_EQ(lab->encoderReader, "Printer encoder");
    EXPECT_EQ(lab->ribbon, "ymcko");
    EXPECT_EQ(lab->widthDots, 1016);
}

TEST(PrinterProfile, SaysWhatIsWrong) {
    const fs::path dir =
        fs::temp_directory_path() / ("printer-profile-" + std::to_string(getpid()));
    fs::create_directories(dir);
    auto check = [&](const std::string& body, const std::string& expected) {
        std::ofstream(dir / "p.toml") << body;
        auto p = pr::loadPrinterProfile(dir / "p.toml");
        ASSERT_FALSE(p.ok()) << body;
        EXPECT_NE(p.error().find(expected), std::string::npos) << p.error();
    };
    const std::string good = "model = \"m\"\nlanguage = \"evolis\"\nconnection = \"tcp://h:1\"\n";
    check(good, "exactly one of");
    check(good + "[encoder]\nreader = \"r\"\nserial = \"s\"\n", "exactly one of");
    check(
        "model = \"m\"\nlanguage = \"zpl\"\nconnection = \"tcp://h:1\"\n[encoder]\nreader=\"r\"\n",
        "language");
    check("model = \"m\"\nlanguage = \"evolis\"\nconnection = \"lpt1\"\n[encoder]\nreader=\"r\"\n",
          "connection");
    check(good + "[encoder]\nreader = \"r\"\n[ribbon]\ntype = \"hologram\"\n", "ribbon.type");
    check(good + "[encoder]\nreader = \"r\"\n[card]\ndpi = 600\n", "300 dpi");
    check(good + "[encoder]\nreader = 5\n", "wrong type");
    check("model = ", "not TOML");
    std::ofstream(dir / "p.toml") << good << "[encoder]\nserial = \"ABC\"\n";
    auto ok = pr::loadPrinterProfile(dir / "p.toml");
    ASSERT_TRUE(ok.ok()) << ok.error();
    EXPECT_EQ(ok->encoderSerial, "ABC");
    fs::remove_all(dir);
}
