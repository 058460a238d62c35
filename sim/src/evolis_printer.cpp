// SPDX-License-Identifier: Apache-2.0
// The simulated Evolis printer: command parser and state machine. Page numbers: "Evolis Card
// Printers Programming Guide" A5013 Rev. E. Answers' texts: GUESS, as in docs/printing.md.

#include <unioncard/sim/evolis_printer.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <sstream>
#include <thread>

namespace unioncard::sim::evolis {

namespace {

constexpr std::uint8_t kEsc = 0x1B; // start character (p. 4)
constexpr std::uint8_t kCr = 0x0D;  // stop character (p. 4)
constexpr std::size_t kMaxHeader = 512;
constexpr int kLineDots = 648; // p. 14: the download is always 648 x 1016 dots
constexpr int kLines = 1016;

int bitsFor(int levels) {
    switch (levels) { // Db p2 (p. 14)
    case 2:
        return 1;
    case 32:
        return 5;
    case 64:
        return 6;
    case 128:
        return 7;
    default:
        return 0;
    }
}

std::optional<int> toInt(std::string_view text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> parts;
    std::string current;
    for (char c : text) {
        if (c == ';') {
            parts.push_back(current);
            current.clear();
        } else {
            current += c;
        }
    }
    parts.push_back(current);
    return parts;
}

} // namespace

std::optional<Step> stepFromName(std::string_view name) {
    if (name == "feed") {
        return Step::Feed;
    }
    if (name == "contactless") {
        return Step::Contactless;
    }
    if (name == "print") {
        return Step::Print;
    }
    if (name == "eject") {
        return Step::Eject;
    }
    return std::nullopt;
}

std::string_view stepName(Step step) {
    switch (step) {
    case Step::Feed:
        return "feed";
    case Step::Contactless:
        return "contactless";
    case Step::Print:
        return "print";
    case Step::Eject:
        return "eject";
    }
    return "?";
}

std::string newCardSerial() {
    unsigned char uid[7] = {0x04};
    if (RAND_bytes(uid + 1, 6) != 1) {
        // No randomness: a fixed serial would collide; this is an environment failure.
        std::abort();
    }
    std::string hex;
    char buffer[3];
    for (unsigned char b : uid) {
        std::snprintf(buffer, sizeof buffer, "%02X", b);
        hex += buffer;
    }
    return hex;
}

// --------------------------------------------------------------------------------- parser

void CommandParser::feed(std::span<const std::uint8_t> bytes, std::vector<Command>& out) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const std::uint8_t b = bytes[i];
        switch (m_state) {
        case State::Idle:
            // A command starts with ESC; after a CR the ESC may be left out (p. 4, note), so a
            // letter starts one too. NUL padding, CR and LF between commands are skipped.
            if (b == kEsc) {
                m_state = State::Header;
                m_header.clear();
            } else if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z')) {
                m_state = State::Header;
                m_header.assign(1, static_cast<char>(b));
            }
            break;
        case State::Header:
            if (b == kCr) {
                auto parts = split(m_header);
                m_current = Command{parts.front(), {parts.begin() + 1, parts.end()}, {}};
                out.push_back(std::move(m_current));
                m_current = {};
                m_state = State::Idle;
                break;
            }
            if (b == kEsc) { // a new command before the end of this one: drop this one
                out.push_back(Command{"", {"a command was cut short by another ESC"}, {}});
                m_header.clear();
                break;
            }
            m_header += static_cast<char>(b);
            if (m_header.size() > kMaxHeader) {
                out.push_back(Command{"", {"a command longer than 512 bytes"}, {}});
                m_state = State::Idle;
                break;
            }
            // Db;panel;levels; then binary data of a length fixed by levels (p. 14).
            if (b == ';' && m_header.rfind("Db;", 0) == 0 &&
                std::count(m_header.begin(), m_header.end(), ';') == 3) {
                auto parts = split(m_header.substr(0, m_header.size() - 1));
                const auto levels = toInt(parts[2]);
                const int bits = levels ? bitsFor(*levels) : 0;
                if (bits == 0) {
                    out.push_back(Command{"", {"Db with levels " + parts[2]}, {}});
                    m_state = State::Idle;
                    break;
                }
                m_current = Command{"Db", {parts[1], parts[2]}, {}};
                m_need = static_cast<std::size_t>(kLineDots) * kLines * bits / 8;
                m_current.data.reserve(m_need);
                m_state = State::Data;
            }
            break;
        case State::Data: {
            const std::size_t take = std::min(m_need - m_current.data.size(), bytes.size() - i);
            m_current.data.insert(m_current.data.end(), bytes.begin() + static_cast<long>(i),
                                  bytes.begin() + static_cast<long>(i + take));
            i += take - 1;
            if (m_current.data.size() == m_need) {
                m_state = State::DataEnd;
            }
            break;
        }
        case State::DataEnd:
            if (b == kCr) {
                out.push_back(std::move(m_current));
            } else {
                out.push_back(Command{"", {"Db data longer than its levels allow"}, {}});
            }
            m_current = {};
            m_state = State::Idle;
            break;
        }
    }
}

// -------------------------------------------------------------------------------- printer

EvolisPrinterSim::EvolisPrinterSim(PrinterOptions options, PrinterEvents& events)
    : m_options(std::move(options)), m_events(events), m_feeder(m_options.cards),
      m_ribbonPanels(m_options.ribbonPanels), m_coverOpen(m_options.coverOpen) {}

EvolisPrinterSim::SessionId EvolisPrinterSim::openSession() {
    std::lock_guard lock(m_mutex);
    const SessionId id = m_nextSession++;
    m_sessions.emplace(id, CommandParser{});
    return id;
}

void EvolisPrinterSim::closeSession(SessionId id) {
    std::lock_guard lock(m_mutex);
    m_sessions.erase(id);
    if (m_card && m_card->owner == id) {
        m_card->owner.reset(); // the card stays where it is, nobody's
        m_inSequence = false;
    }
}

bool EvolisPrinterSim::poweredOff() const {
    std::lock_guard lock(m_mutex);
    return m_poweredOff;
}

void EvolisPrinterSim::closeCover() {
    std::lock_guard lock(m_mutex);
    m_coverOpen = false;
    m_jammed = false; // the operator opened the cover to clear the jam and closed it again
}

void EvolisPrinterSim::openCover() {
    std::lock_guard lock(m_mutex);
    m_coverOpen = true;
}

void EvolisPrinterSim::loadCards(int cards) {
    std::lock_guard lock(m_mutex);
    m_feeder = cards;
}

void EvolisPrinterSim::replaceRibbon(int panels) {
    std::lock_guard lock(m_mutex);
    m_ribbonPanels = panels;
    m_options.ribbonOutAfter.reset(); // the injected fault was the old ribbon's
}

int EvolisPrinterSim::panelsPerSide() const {
    // Pr ribbon types (p. 25): a YMCKO side takes a set of 5 panels, YMCKO-K 6 for the card,
    // a monochrome ribbon 1.
    if (m_options.ribbon == "ymcko") {
        return 5;
    }
    if (m_options.ribbon == "ymckok") {
        return 6;
    }
    return 1;
}

EvolisPrinterSim::Snapshot EvolisPrinterSim::snapshot() const {
    std::lock_guard lock(m_mutex);
    Snapshot s;
    s.feeder = m_feeder;
    s.ribbonPanels = m_ribbonPanels;
    s.rejectBox = m_rejectBox;
    s.hopper = m_hopper;
    s.coverOpen = m_coverOpen;
    s.jammed = m_jammed;
    if (m_card) {
        s.cardSerial = m_card->serial;
        s.cardPlace = m_card->place == Place::Feed          ? "feed"
                      : m_card->place == Place::Contactless ? "contactless"
                      : m_card->place == Place::Printing    ? "printing"
                                                            : "exit";
    }
    s.cardsInserted = m_cardsInserted;
    s.panelsPrinted = m_panelsPrinted;
    s.bytesReceived = m_bytesReceived;
    return s;
}

std::string EvolisPrinterSim::receive(SessionId id, std::span<const std::uint8_t> bytes) {
    std::vector<CommandParser::Command> commands;
    {
        std::lock_guard lock(m_mutex);
        m_bytesReceived += bytes.size();
        auto it = m_sessions.find(id);
        if (it == m_sessions.end() || m_poweredOff) {
            return {};
        }
        it->second.feed(bytes, commands);
    }
    std::string answers;
    for (const auto& c : commands) {
        std::string answer = execute(id, c);
        if (poweredOff()) {
            return answers; // no answer: the power went before it
        }
        answers += answer;
        answers += static_cast<char>(kCr);
    }
    return answers;
}

std::string EvolisPrinterSim::standing(SessionId id) const {
    // Rlr (p. 34): GUESS, the standing condition, most urgent first.
    if (m_coverOpen) {
        return "ERR COVER OPEN";
    }
    if (m_jammed) {
        return "ERR MECHANICAL";
    }
    if (m_card && m_card->owner && *m_card->owner != id) {
        return "ERR BUSY";
    }
    if (m_card && !m_card->owner) {
        return "ERR CARD";
    }
    if (m_ribbonPanels < panelsPerSide() ||
        (m_options.ribbonOutAfter && m_cardsPrinted >= *m_options.ribbonOutAfter)) {
        return "ERR RIBBON";
    }
    if (m_feeder <= 0 && !m_card) {
        return "ERR FEEDER EMPTY";
    }
    return "OK";
}

std::optional<std::string> EvolisPrinterSim::mechanismBlocked(SessionId id, bool needCard) const {
    if (m_coverOpen) {
        return "ERR COVER OPEN";
    }
    if (m_jammed) {
        return "ERR MECHANICAL";
    }
    if (m_card && m_card->owner && *m_card->owner != id) {
        return "ERR BUSY";
    }
    if (needCard && !m_card) {
        return "ERR NO CARD";
    }
    return std::nullopt;
}

bool EvolisPrinterSim::injectAt(Step step, bool& powerLoss, bool& jam) {
    powerLoss = false;
    jam = false;
    if (m_options.powerLossAt == step && !m_powerLossUsed) {
        m_powerLossUsed = true;
        m_poweredOff = true;
        powerLoss = true;
        return true;
    }
    if (m_options.jamAt == step && !m_jamUsed) {
        m_jamUsed = true;
        m_jammed = true;
        jam = true;
        return true;
    }
    return false;
}

void EvolisPrinterSim::pause(double fractionOfCard) {
    if (m_options.cardsPerHour <= 0) {
        return;
    }
    const double seconds = 3600.0 / m_options.cardsPerHour * fractionOfCard;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

void EvolisPrinterSim::moveFromReader() {
    if (m_card && m_card->atReader) {
        m_events.cardLeftContactless(m_card->serial);
        m_card->atReader = false;
    }
}

void EvolisPrinterSim::leave(const std::string& where, const std::string& reason, bool printed) {
    moveFromReader();
    CardOutcome outcome{m_card->serial, where, reason, std::move(m_card->panels), printed};
    (where == "rejected" ? m_rejectBox : m_hopper) += 1;
    m_card.reset();
    m_inSequence = false;
    m_events.cardLeft(outcome);
}

std::string EvolisPrinterSim::execute(SessionId id, const CommandParser::Command& c) {
    std::lock_guard lock(m_mutex);
    const auto& p = c.params;
    const auto param = [&](std::size_t i) {
        return i < p.size() ? p[i] : std::string();
    };
    if (c.name.empty()) {
        return "ERR CMD";
    }
    bool powerLoss = false;
    bool jam = false;

    // ----------------------------------------------------------------- reads (pp. 31-38)
    if (c.name == "Rtp") {
        return m_options.model;
    }
    if (c.name == "Rsn") {
        return m_options.serial;
    }
    if (c.name == "Rfv") {
        return m_options.firmware;
    }
    if (c.name == "Rr") {
        return m_options.ribbon;
    }
    if (c.name == "Rco") { // p. 31
        if (param(0) == "c") {
            return std::to_string(m_cardsInserted);
        }
        if (param(0) == "p") {
            return std::to_string(m_panelsPrinted);
        }
        if (param(0) == "l") {
            bool out = m_options.ribbonOutAfter && m_cardsPrinted >= *m_options.ribbonOutAfter;
            int left = out ? 0 : m_ribbonPanels / panelsPerSide();
            if (m_options.ribbonOutAfter && !out) {
                left = std::min(left, *m_options.ribbonOutAfter - m_cardsPrinted);
            }
            return std::to_string(left);
        }
        return "ERR PARAM";
    }
    if (c.name == "Rlr") { // p. 34
        if (param(0) == "p") {
            return m_card ? "ERR CARD" : "NO CARD";
        }
        return standing(id);
    }
    // ------------------------------------------------ parameters (pp. 19-30): accepted as set
    if (c.name.size() >= 2 && c.name[0] == 'P') {
        if (c.name == "Pr" && !param(0).empty()) {
            m_options.ribbon = param(0);
        }
        return "OK";
    }
    // -------------------------------------------------------- sequences (pp. 40-45, 59, 43)
    if (c.name == "Sic") {
        if (auto blocked = mechanismBlocked(id, false)) {
            return *blocked;
        }
        if (m_card) {
            return "ERR CARD"; // one card at a time: the one inside must go first
        }
        if (m_feeder <= 0) {
            return "ERR FEEDER EMPTY";
        }
        --m_feeder;
        ++m_cardsInserted;
        m_card = Card{newCardSerial(), Place::Feed, id, false, {}};
        pause(0.10);
        if (injectAt(Step::Feed, powerLoss, jam)) {
            return powerLoss ? "" : "ERR MECHANICAL";
        }
        std::string error;
        if (!m_events.cardAtContactless(m_card->serial, error)) {
            m_card->place = Place::Contactless;
            return "ERR ENCODER";
        }
        m_card->place = Place::Contactless;
        m_card->atReader = true;
        pause(0.05);
        return "OK";
    }
    if (c.name == "Ss") { // p. 44
        if (auto blocked = mechanismBlocked(id, false)) {
            return *blocked;
        }
        if (m_ribbonPanels < panelsPerSide() ||
            (m_options.ribbonOutAfter && m_cardsPrinted >= *m_options.ribbonOutAfter)) {
            return "ERR RIBBON";
        }
        if (!m_card) {
            // GUESS: with no card waiting, the sequence takes one from the feeder (Pmi;F, p. 22).
            if (m_feeder <= 0) {
                return "ERR FEEDER EMPTY";
            }
            --m_feeder;
            ++m_cardsInserted;
            m_card = Card{newCardSerial(), Place::Printing, id, false, {}};
        } else if (!m_card->owner) {
            return "ERR CARD"; // a card nobody owns: it must be rejected first
        }
        if (m_card->place == Place::Contactless && injectAt(Step::Contactless, powerLoss, jam)) {
            return powerLoss ? "" : "ERR MECHANICAL"; // stuck leaving the contactless station
        }
        moveFromReader();
        m_card->place = Place::Printing;
        m_inSequence = true;
        m_side = 'f';
        return "OK";
    }
    if (c.name == "Sr" || c.name == "Sv") { // pp. 43, 45
        if (!m_inSequence || !m_card || m_card->owner != id) {
            return "ERR CMD";
        }
        m_side = c.name == "Sr" ? 'f' : 'b';
        return "OK";
    }
    if (c.name == "Db") { // p. 14
        if (!m_inSequence || !m_card || m_card->owner != id) {
            return "ERR CMD";
        }
        const auto levels = toInt(param(1));
        const std::string panel = param(0);
        if (panel.size() != 1 || std::string_view("ymcko").find(panel[0]) == std::string::npos ||
            !levels || bitsFor(*levels) == 0) {
            return "ERR PARAM";
        }
        if ((panel == "k" || panel == "o") != (*levels == 2)) {
            return "ERR PARAM"; // K and O are 2 levels, Y M C more (p. 14)
        }
        m_card->panels.push_back(PrintedPanel{m_side, panel[0], *levels, c.data});
        pause(0.02);
        return "OK";
    }
    if (c.name == "Se") { // p. 42: ends the sequence, prints the rest, ejects the card
        if (auto blocked = mechanismBlocked(id, true)) {
            return *blocked;
        }
        if (m_card->owner != id) {
            return "ERR CARD";
        }
        if (!m_inSequence) {
            // GUESS: Se without a sequence ejects the card unprinted.
            if (injectAt(Step::Eject, powerLoss, jam)) {
                m_card->place = Place::Exit;
                return powerLoss ? "" : "ERR MECHANICAL";
            }
            pause(0.05);
            leave("ejected", "", false);
            return "OK";
        }
        if (injectAt(Step::Print, powerLoss, jam)) {
            // Half the panels went on before the head stopped.
            m_card->panels.resize(m_card->panels.size() / 2);
            m_inSequence = false;
            return powerLoss ? "" : "ERR MECHANICAL";
        }
        int sides = 0;
        for (char s : {'f', 'b'}) {
            sides += std::any_of(m_card->panels.begin(), m_card->panels.end(),
                                 [s](const PrintedPanel& x) { return x.side == s; })
                         ? 1
                         : 0;
        }
        m_panelsPrinted += m_card->panels.size();
        m_ribbonPanels = std::max(0, m_ribbonPanels - sides * panelsPerSide());
        ++m_cardsPrinted;
        m_inSequence = false;
        pause(0.75);
        m_card->place = Place::Exit;
        if (injectAt(Step::Eject, powerLoss, jam)) {
            return powerLoss ? "" : "ERR MECHANICAL";
        }
        pause(0.05);
        leave("ejected", "", true);
        return "OK";
    }
    if (c.name == "Ser") { // p. 42: into the reject box
        if (m_coverOpen) {
            return "ERR COVER OPEN";
        }
        if (m_jammed) {
            return "ERR MECHANICAL";
        }
        if (!m_card) {
            return "ERR NO CARD";
        }
        if (m_card->owner && *m_card->owner != id) {
            return "ERR BUSY";
        }
        const bool printed = !m_card->panels.empty();
        pause(0.05);
        leave("rejected",
              m_card->owner ? "rejected by the host"
                            : "left in the printer (host gone or power lost), rejected on recovery",
              printed);
        return "OK";
    }
    if (c.name == "Srs") { // p. 44: software reset, as at power on
        m_jammed = false;  // GUESS: the mechanism retries and is free again
        m_inSequence = false;
        return "OK";
    }
    return "ERR CMD";
}

// -------------------------------------------------------------------------- power loss

std::string EvolisPrinterSim::saveState() const {
    std::lock_guard lock(m_mutex);
    std::ostringstream out;
    out << "feeder=" << m_feeder << "\nribbon_panels=" << m_ribbonPanels
        << "\nreject_box=" << m_rejectBox << "\nhopper=" << m_hopper
        << "\ncards_inserted=" << m_cardsInserted << "\npanels_printed=" << m_panelsPrinted
        << "\ncards_printed=" << m_cardsPrinted << "\njam_used=" << m_jamUsed
        << "\npower_loss_used=" << m_powerLossUsed << "\ncover_open=" << m_coverOpen
        << "\njammed=" << m_jammed << "\n";
    if (m_card) {
        out << "card_serial=" << m_card->serial
            << "\ncard_place=" << static_cast<int>(m_card->place)
            << "\ncard_at_reader=" << m_card->atReader << "\n";
    }
    return out.str();
}

bool EvolisPrinterSim::loadState(std::string_view text, std::string& error) {
    std::lock_guard lock(m_mutex);
    std::istringstream in{std::string(text)};
    std::map<std::string, std::string> kv;
    for (std::string line; std::getline(in, line);) {
        const auto eq = line.find('=');
        if (eq == std::string::npos) {
            error = "not a printer state line: " + line;
            return false;
        }
        kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
    auto num = [&](const char* key, auto& field) {
        if (auto it = kv.find(key); it != kv.end()) {
            std::uint64_t v = 0;
            auto [end, ec] =
                std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
            if (ec != std::errc() || end != it->second.data() + it->second.size()) {
                error = std::string("bad value for ") + key;
                return false;
            }
            field = static_cast<std::remove_reference_t<decltype(field)>>(v);
        }
        return true;
    };
    int place = 0;
    bool atReader = false;
    if (!num("feeder", m_feeder) || !num("ribbon_panels", m_ribbonPanels) ||
        !num("reject_box", m_rejectBox) || !num("hopper", m_hopper) ||
        !num("cards_inserted", m_cardsInserted) || !num("panels_printed", m_panelsPrinted) ||
        !num("cards_printed", m_cardsPrinted) || !num("jam_used", m_jamUsed) ||
        !num("power_loss_used", m_powerLossUsed) || !num("cover_open", m_coverOpen) ||
        !num("jammed", m_jammed) || !num("card_place", place) || !num("card_at_reader", atReader)) {
        return false;
    }
    if (auto it = kv.find("card_serial"); it != kv.end()) {
        if (place < 1 || place > 4) {
            error = "bad card_place";
            return false;
        }
        m_card = Card{it->second, static_cast<Place>(place), std::nullopt, atReader, {}};
    }
    return true;
}

} // namespace unioncard::sim::evolis
