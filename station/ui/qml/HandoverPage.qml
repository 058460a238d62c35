// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import UnionCard.Ui

// Handover: tap the card, see the member, confirm. Refusal with a reason; for supervisors a
// lost card and a replacement, the card found by tapping it or by its number.
Rectangle {
    id: page
    objectName: "handoverPage"
    color: Theme.background
    readonly property var handover: station.handover
    signal navigate(string page)

    Component.onCompleted: if (handover.state === "idle" || handover.state === "recorded") handover.waitForCard()

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacingLarge
        spacing: Theme.spacing

        PageTitle { text: qsTr("Hand a card over"); Layout.fillWidth: true }

        // Waiting for a tap.
        ColumnLayout {
            visible: page.handover.state === "waiting" || page.handover.state === "idle"
            Layout.fillWidth: true
            spacing: Theme.spacing
            Text {
                objectName: "tapPrompt"
                text: qsTr("Ask the member to tap the card on the desk reader")
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontTitle
                color: Theme.text
                wrapMode: Text.WordWrap
                Layout.fillWidth: true
                Accessible.role: Accessible.StaticText
                Accessible.name: text
            }
            BigButton {
                visible: page.handover.state === "idle"
                text: qsTr("Read a card")
                onClicked: page.handover.waitForCard()
            }
            RowLayout {
                visible: station.session.supervisor
                spacing: Theme.spacingSmall
                TextField {
                    id: numberField
                    objectName: "numberField"
                    Layout.preferredWidth: 420
                    Layout.preferredHeight: Theme.touchTarget
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    inputMethodHints: Qt.ImhDigitsOnly
                    placeholderText: qsTr("Card number (lost card)")
                    Accessible.name: qsTr("Card number")
                }
                BigButton {
                    objectName: "lookUpButton"
                    text: qsTr("Find the card")
                    color: Theme.secondary
                    onClicked: page.handover.lookUp(numberField.text)
                }
            }
        }

        // The card found: the member, and what can be done.
        RowLayout {
            visible: page.handover.state === "found" || page.handover.state === "recorded"
            Layout.fillWidth: true
            spacing: Theme.spacingLarge
            Image {
                Layout.preferredWidth: 400
                Layout.preferredHeight: 253
                fillMode: Image.PreserveAspectFit
                source: page.handover.cardFace
                sourceSize.width: 800
                cache: false
                Accessible.role: Accessible.Graphic
                Accessible.name: qsTr("The member's card")
            }
            ColumnLayout {
                Layout.fillWidth: true
                spacing: Theme.spacingSmall
                Text {
                    objectName: "memberName"
                    text: page.handover.memberName
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontTitle
                    font.bold: true
                    color: Theme.text
                    wrapMode: Text.WordWrap
                    Layout.fillWidth: true
                    Accessible.role: Accessible.StaticText
                    Accessible.name: text
                }
                // Replacing is a two-person act: the second supervisor signs in here.
        RowLayout {
            visible: page.handover.state === "found" && page.handover.canReplace
            spacing: Theme.spacing
            Layout.fillWidth: true
            TextField {
                id: secondIdField
                objectName: "secondIdField"
                Layout.fillWidth: true
                Layout.preferredHeight: Theme.touchTarget
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontBody
                placeholderText: qsTr("Second supervisor's number")
                Accessible.name: qsTr("Second supervisor's number")
            }
            TextField {
                id: secondPinField
                objectName: "secondPinField"
                Layout.preferredWidth: 240
                Layout.preferredHeight: Theme.touchTarget
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontBody
                echoMode: TextInput.Password
                inputMethodHints: Qt.ImhDigitsOnly
                placeholderText: qsTr("Their PIN")
                Accessible.name: qsTr("Second supervisor's PIN")
            }
        }

        BodyText { text: page.handover.organisation; Layout.fillWidth: true }
                BodyText { objectName: "cardNumber"; text: page.handover.number; font.bold: true }
                BodyText {
                    objectName: "cardState"
                    text: qsTr("Card: %1").arg(Texts.cardState(page.handover.cardState, language.language))
                }
                BodyText {
                    objectName: "recordedText"
                    visible: page.handover.state === "recorded"
                    Layout.fillWidth: true
                    color: Theme.online
                    font.bold: true
                    text: (page.handover.recorded === "handed_over" ? qsTr("Handed over.")
                           : page.handover.recorded === "refused" ? qsTr("The refusal is recorded.")
                           : page.handover.recorded === "lost" ? qsTr("The card is recorded as lost.")
                           : qsTr("The card is replaced; the new card is in the queue."))
                          + " " + (page.handover.delivering ? qsTr("Sending to the registry…")
                                   : page.handover.registryDelivered ? qsTr("The registry has it.")
                                   : qsTr("It will be sent to the registry as soon as it can be reached."))
                }
            }
        }

        // Reason for a refusal or a replacement.
        TextField {
            id: reasonField
            objectName: "reasonField"
            visible: page.handover.state === "found" && (page.handover.canRefuse || page.handover.canReplace)
            Layout.fillWidth: true
            Layout.preferredHeight: Theme.touchTarget
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontBody
            placeholderText: qsTr("Reason (for a refusal or a replacement)")
            Accessible.name: qsTr("Reason")
        }

        BodyText {
            objectName: "handoverError"
            visible: page.handover.state === "error"
            color: Theme.offline
            font.bold: true
            Layout.fillWidth: true
            text: {
                switch (page.handover.error) {
                case "not_union_card": return qsTr("This is not a union card, or it cannot be read. Tap it again and hold it still.")
                case "not_ours": return qsTr("This card was not made at this station (%1).").arg(page.handover.errorDetail)
                case "bad_number": return qsTr("The card number is not right. Check the digits.")
                case "reader": return qsTr("The desk reader is not available.")
                case "refused_by_rules": return qsTr("This cannot be done with the card in its present state.")
                case "second_person": return qsTr("A replacement needs a second supervisor: they type their number and PIN.")
                case "wrong_pin": return qsTr("The second supervisor's number or PIN is wrong.")
                default: return ""
                }
            }
        }

        Item { Layout.fillHeight: true }

        // Training on simulated hardware: the person practising puts a card on the reader.
        RowLayout {
            objectName: "trainingDesk"
            visible: station.trainer !== null && page.handover.state === "waiting"
            spacing: Theme.spacingSmall
            BodyText { text: qsTr("Training:"); font.bold: true; color: Theme.training }
            BigButton {
                text: qsTr("Tap a card waiting for its member")
                color: Theme.training
                fontSize: Theme.fontBody
                onClicked: if (station.trainer) station.trainer.tapWaitingCard()
            }
            BigButton {
                text: qsTr("Tap a card that is not a union card")
                color: Theme.training
                fontSize: Theme.fontBody
                onClicked: if (station.trainer) station.trainer.tapForeignCard()
            }
        }

        RowLayout {
            spacing: Theme.spacing
            BigButton {
                objectName: "confirmButton"
                visible: page.handover.state === "found" && page.handover.canHandOver
                text: qsTr("Hand over")
                color: Theme.online
                onClicked: page.handover.confirmHandover()
            }
            BigButton {
                objectName: "refuseButton"
                visible: page.handover.state === "found" && page.handover.canRefuse
                enabled: reasonField.text.trim().length > 0
                text: qsTr("Member refuses")
                color: Theme.secondary
                onClicked: page.handover.refuse(reasonField.text)
            }
            BigButton {
                objectName: "lostButton"
                visible: page.handover.state === "found" && page.handover.canReportLost
                text: qsTr("Report lost")
                color: Theme.offline
                onClicked: page.handover.reportLost()
            }
            BigButton {
                objectName: "replaceButton"
                visible: page.handover.state === "found" && page.handover.canReplace
                enabled: reasonField.text.trim().length > 0
                text: qsTr("Replace the card")
                color: Theme.secondary
                onClicked: {
                    page.handover.replace(reasonField.text, secondIdField.text, secondPinField.text)
                    secondPinField.text = ""
                }
            }
            BigButton {
                objectName: "nextButton"
                visible: page.handover.state !== "waiting"
                text: qsTr("Next card")
                onClicked: {
                    reasonField.text = ""
                    numberField.text = ""
                    if (station.trainer) station.trainer.removeCard()
                    page.handover.waitForCard()
                }
            }
            BigButton {
                objectName: "stopButton"
                visible: page.handover.state === "waiting"
                text: qsTr("Stop waiting")
                color: Theme.secondary
                onClicked: page.handover.cancel()
            }
        }
    }
}
