// SPDX-License-Identifier: Apache-2.0
pragma Singleton
import QtQuick

// The words for the codes the controllers give (printer faults, card steps and states, errors),
// in the language on screen. Pass `language.language` as the last argument so that a binding
// is evaluated again when the language changes.
QtObject {
    function fault(name, lang) {
        switch (name) {
        case "feeder_empty": return qsTr("The feeder is empty. Load blank cards into the feeder.")
        case "ribbon_out": return qsTr("The ribbon is finished. Put in a new ribbon.")
        case "cover_open": return qsTr("The printer's cover is open. Close the cover.")
        case "card_jam": return qsTr("A card is stuck. Open the printer, take the card out, close it.")
        case "card_inside": return qsTr("A card is left in the printer. It will be rejected.")
        case "offline": return qsTr("The printer does not answer. Check its power and cable.")
        case "busy": return qsTr("The printer is busy. Wait a moment.")
        case "encoder_error": return qsTr("The encoder does not see the card. Call the supervisor.")
        case "": return ""
        default: return qsTr("The printer reports a problem (%1). Call the supervisor.").arg(name)
        }
    }
    function printerState(state, lang) {
        switch (state) {
        case "ready": return qsTr("Ready")
        case "busy": return qsTr("Printing")
        case "fault": return qsTr("Needs attention")
        case "offline": return qsTr("Not connected")
        default: return qsTr("Checking…")
        }
    }
    function step(name, lang) {
        switch (name) {
        case "feeding": return qsTr("Taking a blank card")
        case "encoding": return qsTr("Writing the chip")
        case "verifying": return qsTr("Checking the chip")
        case "printing": return qsTr("Printing the faces")
        default: return ""
        }
    }
    function cardState(name, lang) {
        switch (name) {
        case "produced": return qsTr("Ready for handover")
        case "handed_over": return qsTr("Handed over")
        case "refused": return qsTr("Refused")
        case "spoiled": return qsTr("Spoiled")
        case "lost": return qsTr("Lost")
        case "revoked": return qsTr("Revoked")
        case "replaced": return qsTr("Replaced")
        default: return name
        }
    }
    function role(name, lang) {
        switch (name) {
        case "supervisor": return qsTr("Supervisor")
        case "auditor": return qsTr("Auditor")
        default: return qsTr("Operator")
        }
    }
}
