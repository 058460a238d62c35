// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts
import UnionCard.Ui

// Home: the queue, the printer and what to do about it, today's counts, the registry.
Rectangle {
    id: page
    objectName: "homePage"
    color: Theme.background
    readonly property var home: station.home
    signal navigate(string page)

    Component.onCompleted: home.refresh()

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacingLarge
        spacing: Theme.spacing

        PageTitle {
            text: qsTr("Good day, %1").arg(station.session.operatorName)
            Layout.fillWidth: true
        }

        // The registry line: everything delivered, or what waits and since when.
        Rectangle {
            objectName: "registryLine"
            Layout.fillWidth: true
            implicitHeight: registryText.implicitHeight + 2 * Theme.spacing
            radius: Theme.radius
            color: page.home.registryWaiting === 0 ? Theme.online
                   : page.home.registryUnreachable ? Theme.offline : Theme.warning
            Accessible.role: Accessible.StaticText
            Accessible.name: registryText.text
            Text {
                id: registryText
                objectName: "registryText"
                anchors.fill: parent
                anchors.margins: Theme.spacing
                color: Theme.textOnDark
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontLarge
                font.bold: true
                wrapMode: Text.WordWrap
                text: {
                    const n = page.home.registryWaiting
                    if (!page.home.registryConfigured)
                        return n === 0 ? qsTr("No registry connection is set up; nothing waits to be sent.")
                                       : qsTr("%n status(es) wait; no registry connection is set up.", "", n)
                    if (n === 0)
                        return qsTr("Registry up to date: all statuses delivered.")
                    if (page.home.registryUnreachable)
                        return qsTr("%n waiting, registry unreachable since %1", "", n)
                                   .arg(language.formatTime(page.home.registryWaitingSince))
                    return qsTr("%n status(es) being sent to the registry…", "", n)
                }
            }
        }

        GridLayout {
            Layout.fillWidth: true
            columns: 4
            columnSpacing: Theme.spacing
            rowSpacing: Theme.spacing
            StatTile {
                objectName: "queuedTile"
                Layout.fillWidth: true
                value: language.formatNumber(page.home.queued)
                label: qsTr("applications in the queue")
            }
            StatTile {
                objectName: "producedTile"
                Layout.fillWidth: true
                value: language.formatNumber(page.home.producedToday)
                label: qsTr("cards produced today")
            }
            StatTile {
                objectName: "handedOverTile"
                Layout.fillWidth: true
                value: language.formatNumber(page.home.handedOverToday)
                label: qsTr("handed over today")
            }
            StatTile {
                objectName: "waitingTile"
                Layout.fillWidth: true
                value: language.formatNumber(page.home.waitingForHandover)
                label: qsTr("waiting for their member")
            }
        }

        // The printer: its state, the fault with the action, cards and ribbon.
        Rectangle {
            objectName: "printerPanel"
            Layout.fillWidth: true
            Layout.fillHeight: true
            radius: Theme.radius
            color: Theme.surface
            border.color: page.home.printerFault.length > 0 ? Theme.offline : Theme.border
            border.width: page.home.printerFault.length > 0 ? 3 : 1
            ColumnLayout {
                anchors.fill: parent
                anchors.margins: Theme.spacing
                spacing: Theme.spacingSmall
                Text {
                    objectName: "printerState"
                    text: qsTr("Printer: %1").arg(Texts.printerState(page.home.printerState, language.language))
                    color: Theme.text
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontLarge
                    font.bold: true
                    Accessible.role: Accessible.StaticText
                    Accessible.name: text
                }
                BodyText {
                    objectName: "printerAction"
                    visible: text.length > 0
                    text: Texts.fault(page.home.printerFault, language.language)
                    color: Theme.offline
                    font.bold: true
                    Layout.fillWidth: true
                }
                BodyText {
                    text: qsTr("%n blank card(s) in stock", "", page.home.blankCards)
                }
                BodyText {
                    visible: page.home.ribbonLeft >= 0
                    text: qsTr("Ribbon left for %n card(s)", "", Math.max(page.home.ribbonLeft, 0))
                          + (page.home.ribbonLow ? " — " + qsTr("order a new ribbon") : "")
                    color: page.home.ribbonLow ? Theme.warning : Theme.text
                }
                Item { Layout.fillHeight: true }
                RowLayout {
                    spacing: Theme.spacing
                    BigButton {
                        objectName: "goQueue"
                        visible: station.session.canIssue
                        text: qsTr("Make cards")
                        onClicked: page.navigate("queue")
                    }
                    BigButton {
                        objectName: "goHandover"
                        visible: station.session.canIssue
                        text: qsTr("Hand a card over")
                        onClicked: page.navigate("handover")
                    }
                    BigButton {
                        objectName: "refreshHome"
                        text: qsTr("Refresh")
                        color: Theme.secondary
                        onClicked: page.home.refresh()
                    }
                }
            }
        }
    }
}
