// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts
import UnionCard.Ui

// The desk's mode (event check-in or shop) and, for events, which event this desk checks in to.
Rectangle {
    id: page
    required property QtObject controller
    required property QtObject language
    signal done()
    objectName: "eventsPage"
    color: Theme.background

    function ruleText(rule) {
        switch (rule) {
        case "once": return qsTr("once per event")
        case "daily": return qsTr("once a day")
        case "any": return qsTr("every tap counts")
        }
        return rule
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacingLarge
        spacing: Theme.spacing

        PageTitle { text: qsTr("Desk mode"); Layout.fillWidth: true }
        RowLayout {
            spacing: Theme.spacing
            BigButton {
                objectName: "modeEvent"
                text: qsTr("Event check-in")
                color: page.controller.mode === "event" ? Theme.primary : Theme.secondary
                checkable: false
                Accessible.checked: page.controller.mode === "event"
                onClicked: page.controller.setMode("event")
            }
            BigButton {
                objectName: "modeMerchant"
                text: qsTr("Shop: yes or no only")
                color: page.controller.mode === "merchant" ? Theme.primary : Theme.secondary
                Accessible.checked: page.controller.mode === "merchant"
                onClicked: page.controller.setMode("merchant")
            }
        }
        PageTitle {
            visible: page.controller.mode === "event"
            text: qsTr("Event")
            Layout.fillWidth: true
        }
        BodyText {
            visible: page.controller.mode === "event" && page.controller.events.length === 0
            text: qsTr("This desk has no events yet: sync with the registry or create one with unioncard-verifier event create.")
            Layout.fillWidth: true
        }
        ListView {
            id: list
            objectName: "eventList"
            visible: page.controller.mode === "event"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: Theme.spacingSmall
            model: page.controller.events
            keyNavigationEnabled: true
            delegate: BigButton {
                required property var modelData
                objectName: "event_" + modelData.id
                width: list.width
                text: modelData.name + "  (" + page.ruleText(modelData.rule) + ")"
                      + (modelData.id === page.controller.eventId
                         ? "  ✓ " + qsTr("%n checked in", "", page.controller.liveCount) : "")
                color: modelData.id === page.controller.eventId ? Theme.primary : Theme.secondary
                onClicked: { page.controller.selectEvent(modelData.id); page.done() }
            }
        }
        Item { visible: page.controller.mode !== "event"; Layout.fillHeight: true }
        BigButton {
            objectName: "backButton"
            text: qsTr("Back")
            color: Theme.secondary
            onClicked: page.done()
        }
    }
}
