// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts
import UnionCard.Ui

// The verifier kiosk: the status strip always on top, one page below it.
Rectangle {
    id: root
    required property QtObject controller   // VerifierController
    required property QtObject language     // unioncard::ui::LanguageController
    property QtObject trainer: null         // TrainingCards, in training mode only
    property string page: "tap"             // "tap", "manual" or "events"

    width: Theme.designWidth
    height: Theme.designHeight
    color: Theme.background

    function listAgeText() {
        if (!controller.hasStatusList)
            return qsTr("No status list: offline answers cannot confirm")
        return qsTr("Status list: %1 old").arg(language.formatAge(controller.statusListAgeSeconds))
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        StatusStrip {
            id: strip
            objectName: "statusStrip"
            Layout.fillWidth: true
            online: root.controller.online
            listAgeText: { root.language.language; return root.listAgeText() }
            listStale: root.controller.statusListStale
            training: root.controller.training
            title: root.controller.mode === "merchant" ? qsTr("Shop desk")
                                                      : root.controller.eventName
            LanguageSwitch { language: root.language }
        }
        Rectangle {
            visible: root.controller.readerProblem.length > 0
            Layout.fillWidth: true
            implicitHeight: problemText.implicitHeight + 2 * Theme.spacing
            color: Theme.warning
            BodyText {
                id: problemText
                objectName: "readerProblem"
                anchors.fill: parent
                anchors.margins: Theme.spacing
                color: Theme.textOnDark
                text: qsTr("Reader: %1").arg(root.controller.readerProblem)
            }
        }
        Loader {
            id: pageLoader
            objectName: "pageLoader"
            Layout.fillWidth: true
            Layout.fillHeight: true
            sourceComponent: root.page === "manual" ? manualPage
                           : root.page === "events" ? eventsPage : tapPage
            onLoaded: item.forceActiveFocus()
        }
    }

    Component {
        id: tapPage
        TapPage {
            controller: root.controller
            language: root.language
            trainer: root.trainer
            onManualEntry: root.page = "manual"
            onChooseEvent: root.page = "events"
        }
    }
    Component {
        id: manualPage
        ManualEntryPage {
            controller: root.controller
            onDone: root.page = "tap"
        }
    }
    Component {
        id: eventsPage
        EventsPage {
            controller: root.controller
            language: root.language
            onDone: root.page = "tap"
        }
    }
}
