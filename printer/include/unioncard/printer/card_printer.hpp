// SPDX-License-Identifier: Apache-2.0
#pragma once

// A desktop card printer with a built-in contactless encoder (Evolis Primacy, Zebra ZC class), as
// the station sees it: the printer feeds a blank card to its contactless station, where the
// encoder (an ordinary PC/SC reader on the host, paired in firmware-config/printers/) reaches the
// chip; then the printer prints the faces and ejects the card, or rejects a spoiled card to its
// reject box. Every fault carries one typed code and the action the operator has to take.
//
// Drivers implement this over a byte stream (evolis.hpp); nothing here knows Qt, PC/SC or
// sockets.

#include <unioncard/card/result.hpp>
#include <unioncard/printer/raster.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace unioncard::printer {

/// Why a printer cannot do what was asked. One code per thing the operator does differently.
enum class PrinterFault {
    None,           ///< nothing wrong
    Busy,           ///< the printer is working on another job; wait
    FeederEmpty,    ///< no blank cards in the feeder
    RibbonOut,      ///< the ribbon is finished, missing or broken
    CoverOpen,      ///< the printer's cover is open
    CardJam,        ///< a card is stuck in the printer (mechanical error)
    CardInside,     ///< a card is already in the printer (after a power loss or an abandoned job)
    NoCard,         ///< the command needs a card in the printer and there is none
    Offline,        ///< the printer cannot be reached or stopped answering (cable, power, network)
    EncoderError,   ///< the encoder reader does not see the card at the contactless station
    BadImage,       ///< the card face does not have the size or resolution the printer prints
    CommandRefused, ///< the printer refused a command it should accept (driver or firmware bug)
    ProtocolError,  ///< the printer's answer is not one the command language defines
};

/// The fault's stable name for scripts and logs: "feeder_empty", "card_jam", ...
std::string_view faultName(PrinterFault fault);
/// What the operator should do, in words ("Load blank cards into the feeder.").
std::string_view operatorAction(PrinterFault fault);

struct PrinterError {
    PrinterFault code = PrinterFault::ProtocolError;
    std::string message; ///< what happened, in words, with the operator's next step
    /// True when the driver sent the card to the reject box while handling this fault (a jam
    /// mid-print): the card is spoiled and must be taken out of the reject box and destroyed.
    bool cardRejected = false;
};

/// A command that returns nothing.
struct Done {};

enum class PrinterState {
    Ready,   ///< can take a job
    Busy,    ///< working
    Fault,   ///< stopped on `fault`, needs the operator
    Offline, ///< unreachable
};

std::string_view stateName(PrinterState state);

struct PrinterStatus {
    PrinterState state = PrinterState::Offline;
    PrinterFault fault = PrinterFault::Offline;
    bool ribbonLow = false;  ///< ribbon nearly finished: a warning, printing still works
    bool cardInside = false; ///< a card is somewhere in the printer's card path
    std::string detail;      ///< the printer's own words, for the log
};

struct PrinterInfo {
    std::string model;
    std::string serial;
    std::string firmware;
    std::string ribbon; ///< the ribbon type the printer reports ("ymcko", "k", ...)
};

struct PrinterCounters {
    std::uint64_t cardsInserted = 0; ///< the printer's lifetime counter
    std::uint64_t panelsPrinted = 0; ///< the printer's lifetime counter
    /// Cards the mounted ribbon can still print, if the printer says.
    std::optional<std::uint64_t> ribbonCardsLeft;
    /// Bytes this connection sent to and received from the printer.
    std::uint64_t bytesSent = 0;
    std::uint64_t bytesReceived = 0;
};

struct PrintReport {
    std::uint64_t bytesSent = 0; ///< bytes sent for this card (commands and bitmaps)
    int panels = 0;              ///< ribbon panels printed on the card
};

/// What `recover` found and did.
struct RecoverReport {
    bool cardRejected = false; ///< a card left in the printer went to the reject box
    PrinterStatus status;      ///< the status afterwards
};

class CardPrinter {
public:
    virtual ~CardPrinter() = default;

    virtual Result<PrinterInfo, PrinterError> info() = 0;
    virtual Result<PrinterStatus, PrinterError> status() = 0;
    virtual Result<PrinterCounters, PrinterError> counters() = 0;

    /// Takes a blank card from the feeder to the contactless (encoder) station and leaves it
    /// there, so the host can encode it through the paired PC/SC reader.
    virtual Result<Done, PrinterError> feedToContactless() = 0;
    /// Prints the front (and the back, if given) on the card in the printer, then ejects it to
    /// the output hopper. A jam while printing sends the card to the reject box and fails with
    /// CardJam and `cardRejected`.
    virtual Result<PrintReport, PrinterError> printCard(const Raster& front,
                                                        const std::optional<Raster>& back) = 0;
    /// Ejects the card in the printer to the output hopper without printing.
    virtual Result<Done, PrinterError> eject() = 0;
    /// Sends the card in the printer to the reject box (a card that failed encoding).
    virtual Result<Done, PrinterError> reject() = 0;
    /// Abandons the current job: a card in the printer goes to the reject box.
    virtual Result<RecoverReport, PrinterError> cancel() = 0;
    /// After the operator fixed a fault (closed the cover, cleared a jam, restarted the
    /// printer): resets the printer's job state and rejects a card left inside.
    virtual Result<RecoverReport, PrinterError> recover() = 0;
};

} // namespace unioncard::printer
