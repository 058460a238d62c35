// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import UnionCard.Ui

// Sign-in: the operator's id and PIN on the keypad, or the PIN and then the staff card on the
// desk reader (a card alone is not enough: its UID can be copied).
Rectangle {
    id: page
    objectName: "signInPage"
    color: Theme.background
    property string pin: ""

    function submit() {
        if (station.session.signIn(idField.text, page.pin))
            page.pin = ""
        else
            page.pin = ""
    }

    RowLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacingLarge
        spacing: Theme.spacingLarge

        ColumnLayout {
            Layout.fillWidth: true
            Layout.alignment: Qt.AlignTop
            spacing: Theme.spacing
            PageTitle { text: qsTr("Sign in"); Layout.fillWidth: true }
            BodyText { text: qsTr("Type your operator number and PIN, or type your PIN and tap your staff card on the desk reader."); Layout.fillWidth: true }
            BodyText { text: qsTr("Operator number") }
            TextField {
                id: idField
                objectName: "operatorField"
                Layout.fillWidth: true
                Layout.preferredHeight: Theme.touchTarget
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontLarge
                inputMethodHints: Qt.ImhPreferLowercase | Qt.ImhNoAutoUppercase
                Accessible.name: qsTr("Operator number")
                KeyNavigation.tab: keypad
                Component.onCompleted: forceActiveFocus()
            }
            BodyText { text: qsTr("PIN") }
            Text {
                objectName: "pinDots"
                text: page.pin.length > 0 ? "●".repeat(page.pin.length) : " "
                font.pixelSize: Theme.fontTitle
                color: Theme.text
                Accessible.role: Accessible.StaticText
                Accessible.name: qsTr("%n digit(s) of the PIN typed", "", page.pin.length)
            }
            BodyText {
                objectName: "signInError"
                visible: station.session.error.length > 0
                color: Theme.offline
                font.bold: true
                Layout.fillWidth: true
                text: {
                    switch (station.session.error) {
                    case "wrong_pin": return qsTr("The operator number or the PIN is wrong. Try again.")
                    case "unknown_card": return qsTr("This card is not a staff card of this station, or the PIN is wrong.")
                    case "pin_first": return qsTr("Type your PIN first, then tap your staff card.")
                    case "wait": return qsTr("Too many wrong PINs. Wait a minute and try again.")
                    case "locked": return qsTr("Too many wrong PINs: this operator is locked. Ask a supervisor to unlock it.")
                    case "no_card": return qsTr("The card could not be read. Tap it again and hold it still.")
                    case "reader": return qsTr("The desk reader is not available. Sign in with your PIN.")
                    default: return ""
                    }
                }
            }
            BigButton {
                objectName: "cardSignIn"
                text: station.session.waitingForCard ? qsTr("Waiting for the staff card… (cancel)")
                                                     : qsTr("Sign in with the staff card")
                color: Theme.secondary
                Layout.fillWidth: true
                onClicked: {
                    if (station.session.waitingForCard) {
                        station.session.cancelCard()
                    } else {
                        station.session.signInWithCard(page.pin)
                        page.pin = ""
                    }
                }
            }
            BigButton {
                objectName: "trainingStaffCard"
                visible: station.trainer !== null && station.session.waitingForCard
                text: qsTr("Training: tap the supervisor's staff card")
                color: Theme.training
                fontSize: Theme.fontBody
                Layout.fillWidth: true
                onClicked: if (station.trainer) station.trainer.tapSupervisorCard()
            }
        }
        Keypad {
            id: keypad
            objectName: "pinKeypad"
            acceptText: qsTr("Sign in")
            acceptEnabled: page.pin.length > 0 && idField.text.length > 0
            Layout.alignment: Qt.AlignVCenter
            onDigit: (d) => { if (page.pin.length < 12) page.pin += d }
            onErase: page.pin = page.pin.slice(0, -1)
            onClear: page.pin = ""
            onAccepted: page.submit()
        }
    }
}
