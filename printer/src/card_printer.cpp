// SPDX-License-Identifier: Apache-2.0
// Fault names and the operator's actions: the one table the station, the CLI and the docs use.

#include <unioncard/printer/card_printer.hpp>

namespace unioncard::printer {

std::string_view faultName(PrinterFault fault) {
    switch (fault) {
    case PrinterFault::None:
        return "none";
    case PrinterFault::Busy:
        return "busy";
    case PrinterFault::FeederEmpty:
        return "feeder_empty";
    case PrinterFault::RibbonOut:
        return "ribbon_out";
    case PrinterFault::CoverOpen:
        return "cover_open";
    case PrinterFault::CardJam:
        return "card_jam";
    case PrinterFault::CardInside:
        return "card_inside";
    case PrinterFault::NoCard:
        return "no_card";
    case PrinterFault::Offline:
        return "offline";
    case PrinterFault::EncoderError:
        return "encoder_error";
    case PrinterFault::BadImage:
        return "bad_image";
    case PrinterFault::CommandRefused:
        return "command_refused";
    case PrinterFault::ProtocolError:
        return "protocol_error";
    }
    return "unknown";
}

std::string_view operatorAction(PrinterFault fault) {
    switch (fault) {
    case PrinterFault::None:
        return "Nothing to do.";
    case PrinterFault::Busy:
        return "Wait until the printer has finished the card it is working on, then try again.";
    case PrinterFault::FeederEmpty:
        return "Load blank cards into the feeder.";
    case PrinterFault::RibbonOut:
        return "Replace the ribbon (open the cover, put in a new ribbon, close the cover).";
    case PrinterFault::CoverOpen:
        return "Close the printer's cover.";
    case PrinterFault::CardJam:
        return "Open the cover, take out the stuck card, close the cover, then press Recover.";
    case PrinterFault::CardInside:
        return "Press Recover: the card left in the printer goes to the reject box; destroy it.";
    case PrinterFault::NoCard:
        return "Start again from feeding a card.";
    case PrinterFault::Offline:
        return "Check that the printer is switched on and its cable (USB or network) is plugged "
               "in, then press Recover.";
    case PrinterFault::EncoderError:
        return "Check that the printer's encoder reader is connected and paired in the printer's "
               "configuration; the card goes to the reject box.";
    case PrinterFault::BadImage:
        return "The card design does not fit this printer; call support with the message.";
    case PrinterFault::CommandRefused:
    case PrinterFault::ProtocolError:
        return "Switch the printer off and on, press Recover; if it happens again, call support "
               "with the message.";
    }
    return "Call support.";
}

std::string_view stateName(PrinterState state) {
    switch (state) {
    case PrinterState::Ready:
        return "ready";
    case PrinterState::Busy:
        return "busy";
    case PrinterState::Fault:
        return "fault";
    case PrinterState::Offline:
        return "offline";
    }
    return "unknown";
}

} // namespace unioncard::printer
