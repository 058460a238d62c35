// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts
import UnionCard.Ui

// The station's screen: the status strip (the registry, training mode), the navigation the
// operator's role allows, and the page. Signed out, only the sign-in page.
Rectangle {
    id: shell
    objectName: "stationShell"
    color: Theme.background
    property string page: "home"
    readonly property QtObject languageController: language

    readonly property var pages: {
        "home": "HomePage.qml", "queue": "QueuePage.qml", "batch": "BatchPage.qml",
        "handover": "HandoverPage.qml", "reports": "ReportsPage.qml", "settings": "SettingsPage.qml"
    }

    function navigate(name) {
        if (pages[name] !== undefined) shell.page = name
    }

    Connections {
        target: station.session
        function onChanged() { if (!station.session.signedIn) shell.page = "home" }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        StatusStrip {
            objectName: "statusStrip"
            Layout.fillWidth: true
            online: station.home.registryWaiting === 0 || !station.home.registryUnreachable
            showConnection: station.home.registryConfigured
            listAgeText: station.home.registryWaiting > 0
                         ? qsTr("%n status(es) wait for the registry", "", station.home.registryWaiting) : ""
            listStale: station.home.registryUnreachable
            training: station.training
            title: station.session.signedIn ? station.session.operatorName : qsTr("Union card station")
            LanguageSwitch { language: shell.languageController }
        }

        RowLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 0

            // Navigation: what the role may do.
            Rectangle {
                visible: station.session.signedIn
                Layout.fillHeight: true
                Layout.preferredWidth: 220
                color: Theme.surfaceAlt
                ColumnLayout {
                    anchors.fill: parent
                    anchors.margins: Theme.spacingSmall
                    spacing: Theme.spacingSmall
                    Repeater {
                        model: [
                            { name: "home", text: qsTr("Home"), issue: false },
                            { name: "queue", text: qsTr("Queue"), issue: true },
                            { name: "batch", text: qsTr("Batch"), issue: true },
                            { name: "handover", text: qsTr("Handover"), issue: true },
                            { name: "reports", text: qsTr("Reports"), issue: false },
                            { name: "settings", text: qsTr("Settings"), issue: false }
                        ]
                        BigButton {
                            required property var modelData
                            objectName: "nav_" + modelData.name
                            visible: !modelData.issue || station.session.canIssue
                            text: modelData.text
                            fontSize: Theme.fontBody
                            Layout.fillWidth: true
                            color: shell.page === modelData.name ? Theme.primary : Theme.secondary
                            onClicked: shell.navigate(modelData.name)
                        }
                    }
                    Item { Layout.fillHeight: true }
                }
            }

            Loader {
                id: loader
                objectName: "pageLoader"
                Layout.fillWidth: true
                Layout.fillHeight: true
                source: station.session.signedIn ? shell.pages[shell.page] : "SignInPage.qml"
            }
            Connections {
                target: loader.item
                ignoreUnknownSignals: true
                function onNavigate(name) { shell.navigate(name) }
            }
        }
    }
}
