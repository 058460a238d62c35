// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts
import UnionCard.Ui

// One big "tap the card" screen. The verdict fills it: green valid, red not valid, amber
// cannot confirm offline, with the reason in words. The reader keeps watching: the next card
// replaces the verdict at once.
Rectangle {
    id: page
    required property QtObject controller
    required property QtObject language
    property QtObject trainer: null
    signal manualEntry()
    signal chooseEvent()

    readonly property string verdictClass: controller.verdictClass
    readonly property bool merchant: controller.mode === "merchant"
    objectName: "tapPage"
    color: verdictClass === "valid" ? Theme.verdictValid
         : verdictClass === "invalid" ? Theme.verdictInvalid
         : verdictClass === "unknown" ? Theme.verdictUnknown : Theme.idle
    Accessible.role: Accessible.Pane
    Accessible.name: headline.text

    function headlineText() {
        switch (verdictClass) {
        case "idle": return qsTr("Tap the card")
        case "checking": return qsTr("Checking…")
        case "unknown": return qsTr("Cannot confirm offline")
        case "valid": return merchant ? qsTr("Yes: member in good standing") : qsTr("Valid")
        }
        if (controller.verdictCode === "duplicate")
            return qsTr("Already checked in")
        return merchant ? qsTr("No: not a member in good standing") : qsTr("Not valid")
    }

    function reasonText() {
        switch (controller.verdictCode) {
        case "valid":
            return controller.verdictSource === "number"
                    ? qsTr("The number is in good standing. The card itself was not seen: compare the name with an ID if in doubt.")
                    : controller.chipNotChecked ? qsTr("QR only: the chip was not checked, so this may be a photo of the card. Compare the face and name with the person.")
                    : controller.verdictOnline ? qsTr("Checked with the registry just now.")
                                               : qsTr("Checked against the status list on this device.")
        case "duplicate":
            return qsTr("Checked in at %1 at desk %2.")
                    .arg(language.formatDateTime(controller.earlierAt)).arg(controller.earlierDesk)
        case "revoked": return qsTr("The card has been cancelled (lost, replaced or membership ended). Keep it and call staff.")
        case "suspended": return qsTr("The membership is suspended. Ask the member to contact their union office.")
        case "expired": return qsTr("The card has expired. The member can get a new one at the union office.")
        case "not_yet_valid": return qsTr("The card is not valid yet.")
        case "bad_signature": return qsTr("The card's data has been altered: it is not genuine. Call staff.")
        case "unknown_issuer": return qsTr("The card was not issued by a station this desk trusts. Call staff.")
        case "chip_auth_failed": return qsTr("The chip failed its check: the card may be a copy. Call staff.")
        case "not_union_card": return qsTr("This is not a union card.")
        case "unreadable": return qsTr("The card could not be read. Hold it still on the reader and try again.")
        case "cannot_confirm_offline":
            if (controller.verdictSource === "number")
                return qsTr("No cancellation is listed for this number, but a typed number can be confirmed only online. Ask for the card.")
            if (controller.verdictSource === "qr" && !controller.chipNotChecked)
                return qsTr("This desk checks the card's chip, not its QR. Hold the card on the reader.")
            return qsTr("The card is genuine, but its status cannot be checked here. Check it online or ask staff.")
        }
        return ""
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacingLarge
        spacing: Theme.spacing

        Item { Layout.fillHeight: true }
        Text {
            id: headline
            objectName: "headline"
            Layout.fillWidth: true
            text: { page.language.language; return page.headlineText() }
            color: Theme.textOnDark
            font.family: Theme.fontFamily
            font.pixelSize: page.verdictClass === "idle" ? Theme.fontGiant : Theme.fontHuge + 16
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            Accessible.role: Accessible.Heading
            Accessible.name: text
        }
        Text {
            objectName: "reason"
            Layout.fillWidth: true
            visible: text.length > 0
            text: { page.language.language; return page.reasonText() }
            color: Theme.textOnDark
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontTitle
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            Accessible.role: Accessible.StaticText
            Accessible.name: text
        }
        Text {
            objectName: "memberName"
            Layout.fillWidth: true
            visible: !page.merchant && page.controller.memberName.length > 0
            text: page.controller.memberName
            color: Theme.textOnDark
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontHuge
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Text {
            objectName: "cardNumber"
            Layout.fillWidth: true
            visible: text.length > 0
            text: page.merchant ? page.controller.maskedNumber
                                : page.controller.formattedNumber.length > 0
                                  ? page.controller.formattedNumber : page.controller.maskedNumber
            color: Theme.textOnDark
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontLarge
            horizontalAlignment: Text.AlignHCenter
        }
        Text {
            objectName: "expires"
            Layout.fillWidth: true
            visible: !page.merchant && page.controller.expires.getTime() === page.controller.expires.getTime()
                     && page.verdictClass !== "idle"
            text: visible ? qsTr("Valid until %1").arg(page.language.formatDate(page.controller.expires)) : ""
            color: Theme.textOnDark
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontBody
            horizontalAlignment: Text.AlignHCenter
        }
        Text {
            objectName: "idleHint"
            Layout.fillWidth: true
            visible: page.verdictClass === "idle"
            text: page.merchant ? qsTr("Hold the member's card flat on the reader. Only yes or no is shown.")
                                : qsTr("Hold the card flat on the reader until the screen changes colour.")
            color: Theme.textOnDark
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontLarge
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Item { Layout.fillHeight: true }

        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing
            Rectangle {
                visible: !page.merchant && page.controller.eventId.length > 0
                Layout.fillWidth: true
                Layout.preferredHeight: Theme.touchTarget
                radius: Theme.radius
                color: Theme.surface
                Text {
                    objectName: "liveCount"
                    anchors.fill: parent
                    anchors.leftMargin: Theme.spacing
                    verticalAlignment: Text.AlignVCenter
                    elide: Text.ElideRight
                    text: qsTr("%n checked in", "", page.controller.liveCount)
                          + (page.controller.duplicateCount > 0
                             ? " · " + qsTr("%n repeat tap(s)", "", page.controller.duplicateCount) : "")
                    color: Theme.text
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontLarge
                    font.bold: true
                    Accessible.role: Accessible.StaticText
                    Accessible.name: text
                }
            }
            Item { visible: page.merchant || page.controller.eventId.length === 0; Layout.fillWidth: true }
            BigButton {
                objectName: "eventButton"
                text: qsTr("Event and mode")
                color: Theme.secondary
                onClicked: page.chooseEvent()
            }
            BigButton {
                objectName: "manualButton"
                text: qsTr("Type the number")
                onClicked: page.manualEntry()
            }
        }
        Flow {
            visible: page.trainer !== null
            Layout.fillWidth: true
            spacing: Theme.spacingSmall
            BodyText {
                text: qsTr("Training: put a simulated card on the reader:")
                color: Theme.textOnDark
                height: Theme.touchTarget
                verticalAlignment: Text.AlignVCenter
            }
            Repeater {
                model: page.trainer !== null ? page.trainer.cards : []
                BigButton {
                    required property var modelData
                    objectName: "train_" + modelData
                    text: page.trainingLabel(modelData)
                    fontSize: Theme.fontSmall
                    color: Theme.surface
                    textColor: Theme.text
                    onClicked: page.trainer.present(modelData)
                }
            }
        }
    }

    function trainingLabel(id) {
        switch (id) {
        case "valid": return qsTr("Valid card")
        case "valid2": return qsTr("Another valid card")
        case "revoked": return qsTr("Cancelled card")
        case "expired": return qsTr("Expired card")
        case "unconfirmed": return qsTr("Card newer than the list")
        case "copy": return qsTr("Copied card")
        case "blank": return qsTr("Not a union card")
        }
        return id
    }
}
