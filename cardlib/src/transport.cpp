// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/transport.hpp>

namespace unioncard::card {

std::string_view toString(FaultCode code) {
    switch (code) {
    case FaultCode::ServiceDown:
        return "service-down";
    case FaultCode::NoReader:
        return "no-reader";
    case FaultCode::ReaderRemoved:
        return "reader-removed";
    case FaultCode::NoCard:
        return "no-card";
    case FaultCode::CardRemoved:
        return "card-removed";
    case FaultCode::CardUnpowered:
        return "card-unpowered";
    case FaultCode::ReaderBusy:
        return "reader-busy";
    case FaultCode::Timeout:
        return "timeout";
    case FaultCode::Cancelled:
        return "cancelled";
    case FaultCode::ProtocolError:
        return "protocol-error";
    case FaultCode::CardError:
        return "card-error";
    case FaultCode::Unknown:
        return "unknown";
    }
    return "unknown";
}

// The words a station or verifier shows next to the fault. English here; the UIs translate
// through Qt Linguist keyed on the FaultCode, not on this text.
std::string_view actionFor(FaultCode code) {
    switch (code) {
    case FaultCode::ServiceDown:
        return "The smart-card service is not running. Call staff to restart it.";
    case FaultCode::NoReader:
        return "The card reader is not connected. Check its cable, or call staff.";
    case FaultCode::ReaderRemoved:
        return "The card reader was disconnected. Plug it back in and try again.";
    case FaultCode::NoCard:
        return "Place the card on the reader.";
    case FaultCode::CardRemoved:
        return "The card was moved away too early. Place it on the reader again and hold it "
               "still.";
    case FaultCode::CardUnpowered:
        return "The card does not answer. Take it off the reader and place it again.";
    case FaultCode::ReaderBusy:
        return "Another program is using the reader. Wait a moment and try again.";
    case FaultCode::Timeout:
        return "The reader took too long. Try again.";
    case FaultCode::Cancelled:
        return "Cancelled. Start again when ready.";
    case FaultCode::ProtocolError:
        return "The card answered in an unexpected way. Try again; if it repeats, the card may "
               "not be a union card. Call staff.";
    case FaultCode::CardError:
        return "The card refused the operation. Call staff.";
    case FaultCode::Unknown:
        return "Something went wrong with the reader. Try again; if it repeats, call staff.";
    }
    return "Something went wrong with the reader. Call staff.";
}

} // namespace unioncard::card
