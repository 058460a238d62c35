// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts
import UnionCard.Ui

// The number typed from the card's face on a big keypad, shown in groups of four. A mistyped
// digit is caught by the check digit here, before anyone is asked.
Rectangle {
    id: page
    required property QtObject controller
    property string digits: ""
    signal done()

    readonly property string problem: controller.checkTyped(digits)
    objectName: "manualEntryPage"
    color: Theme.background

    function problemText() {
        switch (problem) {
        case "": return qsTr("The number is complete. Press Check.")
        case "incomplete": return qsTr("%n of 16 digits", "", digits.length)
        case "check_digit": return qsTr("A digit is wrong: the check digit does not match. Compare each group with the card.")
        case "prefix": return qsTr("Union card numbers start with 9643.")
        case "region": return qsTr("Digits 5 and 6 name no region: check them.")
        case "too_long": return qsTr("Too many digits.")
        }
        return ""
    }

    function submit() {
        if (controller.checkNumber(digits)) {
            digits = ""
            page.done()
        }
    }

    Keys.forwardTo: [keypad]
    RowLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacingLarge
        spacing: Theme.spacingLarge

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: Theme.spacing
            PageTitle { text: qsTr("Type the card number"); Layout.fillWidth: true }
            BodyText {
                Layout.fillWidth: true
                text: qsTr("The 16 digits on the front of the card, below the photo.")
            }
            Rectangle {
                Layout.fillWidth: true
                Layout.preferredHeight: Theme.touchTarget + 32
                radius: Theme.radius
                color: Theme.surface
                border.width: 3
                border.color: page.problem === "" || page.problem === "incomplete" ? Theme.border : Theme.offline
                Text {
                    id: display
                    objectName: "numberDisplay"
                    anchors.centerIn: parent
                    text: page.digits.length > 0 ? page.controller.formatTyped(page.digits) : "____ ____ ____ ____"
                    color: page.digits.length > 0 ? Theme.text : Theme.textMuted
                    font.family: "DejaVu Sans Mono"
                    font.pixelSize: Theme.fontHuge
                    font.bold: true
                    Accessible.role: Accessible.StaticText
                    Accessible.name: qsTr("Number typed: %1").arg(text)
                }
            }
            Text {
                objectName: "numberProblem"
                Layout.fillWidth: true
                text: page.problemText()
                color: page.problem === "" ? Theme.online
                     : page.problem === "incomplete" ? Theme.text : Theme.offline
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontLarge
                font.bold: page.problem !== "incomplete"
                wrapMode: Text.WordWrap
                Accessible.role: Accessible.AlertMessage
                Accessible.name: text
            }
            Item { Layout.fillHeight: true }
            BigButton {
                objectName: "cancelButton"
                text: qsTr("Back")
                color: Theme.secondary
                onClicked: { page.digits = ""; page.done() }
            }
        }
        Keypad {
            id: keypad
            objectName: "keypad"
            focus: true
            Layout.alignment: Qt.AlignVCenter
            acceptEnabled: page.problem === ""
            onDigit: (d) => { if (page.digits.length < 16) page.digits += d }
            onErase: page.digits = page.digits.slice(0, -1)
            onClear: page.digits = ""
            onAccepted: page.submit()
        }
    }
}
