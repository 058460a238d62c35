// SPDX-License-Identifier: Apache-2.0
#pragma once

// A simulated Evolis card printer with a contactless encoder station: the printer's side of the
// Evolis command language ("Evolis Card Printers Programming Guide" A5013 Rev. E; page numbers
// below are that PDF's), written from the guide on its own, without the driver's code
// (printer/src/evolis), so that the two are independent readings of one document.
//
// The printer: a feeder with a count of blank cards, a ribbon with panels left, a contactless
// station, a print head, an output hopper, a reject box and a cover. Commands arrive as bytes
// (ESC name;p1;...;pn CR, p. 4; Db carries binary panel data of a fixed length, p. 14); every
// command is answered by one line ending in CR: "OK", the data a read asks for, or "ERR
// <WORDS>" (the answers' texts are the project's GUESS, docs/printing.md).
//
// Several connections may talk to it at once (one Session each); a card belongs to the session
// that fed it, and while it is in the printer the others are answered ERR BUSY for anything that
// moves a card. A card whose session went away (the station crashed, the cable was pulled, or
// the printer lost power) is reported by Rlr as ERR CARD until it is rejected (Ser).
//
// Faults are injected by options (a jam at a step, the ribbon running out after N cards, the
// cover open, power lost at a step) and cleared by operator actions (closeCover, loadCards,
// replaceRibbon, clearJam), which the program maps to signals.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::sim::evolis {

/// Where in a card's journey a fault is injected.
enum class Step { Feed, Contactless, Print, Eject };
std::optional<Step> stepFromName(std::string_view name); ///< feed, contactless, print, eject
std::string_view stepName(Step step);

struct PrinterOptions {
    std::string model = "Evolis Primacy 2 (simulated)";
    std::string serial = "SIM0000001";
    std::string firmware = "unioncard-sim 1.0";
    std::string ribbon = "ymcko";
    int cards = 100;                          ///< blank cards in the feeder
    int ribbonPanels = 1000;                  ///< panels on the ribbon (a YMCKO card side takes 5)
    std::optional<Step> jamAt = std::nullopt; ///< the first card jams at this step (once)
    std::optional<int> ribbonOutAfter =
        std::nullopt;       ///< the ribbon runs out after this many printed cards
    bool coverOpen = false; ///< the cover starts open
    std::optional<Step> powerLossAt = std::nullopt; ///< the printer loses power at this step (once)
    double cardsPerHour = 0;                        ///< realistic timing: 0 is as fast as possible
};

/// One downloaded panel, as received (guide p. 14: 648 dots a line, 1016 lines).
struct PrintedPanel {
    char side = 'f';  ///< 'f' front (Sr), 'b' back (Sv)
    char panel = 'k'; ///< y m c k o
    int levels = 2;   ///< 2, 32, 64 or 128
    std::vector<std::uint8_t> data;
};

/// What happened to a card, told when it leaves the printer.
struct CardOutcome {
    std::string serial; ///< the blank chip's UID, hex
    std::string where;  ///< "ejected" (output hopper) or "rejected" (reject box)
    std::string reason; ///< why it was rejected, or empty
    std::vector<PrintedPanel> panels;
    bool printed = false; ///< the print sequence completed
};

/// The printer's surroundings: the encoder reader and the output folder (the program's), or a
/// recorder (tests').
class PrinterEvents {
public:
    virtual ~PrinterEvents() = default;
    /// A card arrived at the contactless station: put its chip on the encoder reader. Return
    /// false (with why) if that failed; the card then stays in the printer.
    virtual bool cardAtContactless(const std::string& serial, std::string& error) = 0;
    /// The card left the contactless station (moving on to be printed, or leaving the printer).
    virtual void cardLeftContactless(const std::string& serial) = 0;
    /// The card left the printer.
    virtual void cardLeft(const CardOutcome& outcome) = 0;
};

/// A fresh chip serial: a 7-byte UID starting 04 (NXP), from OpenSSL's RAND_bytes, in hex.
std::string newCardSerial();

/// Parses the byte stream of one connection into commands. Never throws; a command it cannot
/// parse is answered ERR CMD and the parser resynchronises on the next ESC.
class CommandParser {
public:
    struct Command {
        std::string name;
        std::vector<std::string> params;
        std::vector<std::uint8_t> data; ///< Db's binary panel
    };
    /// Feeds bytes; appends each complete command (or a parse error, name "" and the reason in
    /// params[0]) to `out`.
    void feed(std::span<const std::uint8_t> bytes, std::vector<Command>& out);

private:
    enum class State { Idle, Header, Data, DataEnd } m_state = State::Idle;
    std::string m_header;
    Command m_current;
    std::size_t m_need = 0;
};

class EvolisPrinterSim {
public:
    EvolisPrinterSim(PrinterOptions options, PrinterEvents& events);

    /// A connection's view of the printer.
    using SessionId = int;
    SessionId openSession();
    /// The connection went away: a card it held stays in the printer, unowned.
    void closeSession(SessionId id);
    /// Bytes from a connection; returns the answers to send back (possibly empty).
    std::string receive(SessionId id, std::span<const std::uint8_t> bytes);
    /// Handles one parsed command; returns its answer without CR.
    std::string execute(SessionId id, const CommandParser::Command& command);

    /// True once the printer has lost power (an injected fault): the server must drop every
    /// connection and stop; saveState() has what a restart needs.
    bool poweredOff() const;

    // Operator actions.
    void closeCover();
    void openCover();
    void loadCards(int cards);
    void replaceRibbon(int panels);

    /// The printer's non-volatile state (counters, feeder, ribbon, the card inside and where),
    /// as JSON-like text for a restart after a power loss; loadState reads it back.
    std::string saveState() const;
    bool loadState(std::string_view text, std::string& error);

    struct Snapshot {
        int feeder = 0;
        int ribbonPanels = 0;
        int rejectBox = 0;
        int hopper = 0;
        bool coverOpen = false;
        bool jammed = false;
        std::string cardSerial; ///< the card inside, or empty
        std::string cardPlace;  ///< contactless, printing, exit, feed, or empty
        std::uint64_t cardsInserted = 0;
        std::uint64_t panelsPrinted = 0;
        std::uint64_t bytesReceived = 0;
    };
    Snapshot snapshot() const;

private:
    enum class Place { None, Feed, Contactless, Printing, Exit };
    struct Card {
        std::string serial;
        Place place = Place::None;
        std::optional<SessionId> owner;
        bool atReader = false;
        std::vector<PrintedPanel> panels;
    };

    std::string standing(SessionId id) const;
    std::optional<std::string> mechanismBlocked(SessionId id, bool needCard) const;
    bool injectAt(Step step, bool& powerLoss, bool& jam);
    void leave(const std::string& where, const std::string& reason, bool printed);
    void moveFromReader();
    void pause(double fractionOfCard);
    int panelsPerSide() const;

    PrinterOptions m_options;
    PrinterEvents& m_events;
    mutable std::mutex m_mutex;
    std::map<SessionId, CommandParser> m_sessions;
    SessionId m_nextSession = 1;
    int m_feeder;
    int m_ribbonPanels;
    int m_rejectBox = 0;
    int m_hopper = 0;
    bool m_coverOpen;
    bool m_jammed = false;
    bool m_poweredOff = false;
    bool m_jamUsed = false;
    bool m_powerLossUsed = false;
    std::optional<Card> m_card;
    bool m_inSequence = false;
    char m_side = 'f';
    int m_cardsPrinted = 0;
    std::uint64_t m_cardsInserted = 0;
    std::uint64_t m_panelsPrinted = 0;
    std::uint64_t m_bytesReceived = 0;
};

/// Serves the printer on a TCP address (loopback for the lab), any number of connections, on its
/// own thread, until stop() or a power loss.
class PrinterServer {
public:
    explicit PrinterServer(EvolisPrinterSim& printer);
    ~PrinterServer();
    PrinterServer(const PrinterServer&) = delete;
    PrinterServer& operator=(const PrinterServer&) = delete;

    /// Binds host:port (port 0 picks one) and starts serving. False with `error` if it cannot.
    bool start(const std::string& host, std::uint16_t port, std::string& error);
    std::uint16_t port() const { return m_port; }
    /// Closes every connection and the listening socket, and waits for the thread.
    void stop();
    /// Blocks until the server ends (stop() from another thread, or a power loss).
    void wait();
    /// Drops every client connection at once, keeping the listener (a pulled cable, for tests).
    void dropConnections();

private:
    void run();

    EvolisPrinterSim& m_printer;
    int m_listen = -1;
    int m_wake[2] = {-1, -1};
    std::uint16_t m_port = 0;
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace unioncard::sim::evolis
