// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import UnionCard.Ui

// The queue: filter by organisation, search by name or number, preview the card face, and
// start a batch of the first N shown.
Rectangle {
    id: page
    objectName: "queuePage"
    color: Theme.background
    readonly property var queue: station.queue
    property int batchSize: Math.min(5, queue.ready)
    signal navigate(string page)

    Component.onCompleted: queue.refresh()

    RowLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacing
        spacing: Theme.spacing

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: Theme.spacingSmall
            PageTitle {
                text: qsTr("Queue: %n application(s)", "", page.queue.count)
                Layout.fillWidth: true
            }
            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacingSmall
                ComboBox {
                    id: orgBox
                    objectName: "organisationFilter"
                    Layout.fillWidth: true
                    Layout.preferredHeight: Theme.touchTarget
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    model: [qsTr("All organisations")].concat(page.queue.organisations)
                    Accessible.name: qsTr("Organisation")
                    onActivated: (index) => page.queue.organisation = index === 0 ? "" : page.queue.organisations[index - 1]
                }
                TextField {
                    objectName: "searchField"
                    Layout.fillWidth: true
                    Layout.preferredHeight: Theme.touchTarget
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    placeholderText: qsTr("Search by name or number")
                    Accessible.name: qsTr("Search by name or number")
                    onTextChanged: page.queue.search = text
                }
            }
            ListView {
                id: list
                objectName: "queueList"
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: page.queue.model
                spacing: 4
                keyNavigationEnabled: true
                focus: true
                delegate: Rectangle {
                    id: row
                    required property string applicationId
                    required property string fullName
                    required property string organisation
                    required property string state
                    required property string holdReason
                    required property int index
                    width: ListView.view.width
                    height: Theme.touchTarget + 12
                    radius: Theme.radius
                    color: page.queue.selectedId === applicationId ? Theme.surfaceAlt : Theme.surface
                    border.color: row.ListView.isCurrentItem && list.activeFocus ? Theme.focus : Theme.border
                    border.width: row.ListView.isCurrentItem && list.activeFocus ? Theme.focusWidth : 1
                    Accessible.role: Accessible.ListItem
                    Accessible.name: fullName + ", " + organisation
                    ColumnLayout {
                        anchors.fill: parent
                        anchors.leftMargin: Theme.spacing
                        anchors.rightMargin: Theme.spacing
                        spacing: 0
                        Text {
                            text: row.fullName
                            font.family: Theme.fontFamily
                            font.pixelSize: Theme.fontBody
                            font.bold: true
                            color: Theme.text
                            elide: Text.ElideRight
                            Layout.fillWidth: true
                        }
                        Text {
                            text: row.state === "held" ? qsTr("Held: %1").arg(row.holdReason) : row.organisation
                            font.family: Theme.fontFamily
                            font.pixelSize: Theme.fontSmall
                            color: row.state === "held" ? Theme.warning : Theme.textMuted
                            elide: Text.ElideRight
                            Layout.fillWidth: true
                        }
                    }
                    MouseArea {
                        anchors.fill: parent
                        onClicked: { list.currentIndex = row.index; page.queue.select(row.applicationId) }
                    }
                }
                Keys.onReturnPressed: if (currentItem) page.queue.select(currentItem.applicationId)
                onCurrentItemChanged: if (currentItem && activeFocus) page.queue.select(currentItem.applicationId)
            }
        }

        ColumnLayout {
            Layout.preferredWidth: 480
            Layout.fillHeight: true
            spacing: Theme.spacing
            Image {
                objectName: "facePreview"
                Layout.preferredWidth: 480
                Layout.preferredHeight: 303
                fillMode: Image.PreserveAspectFit
                source: page.queue.previewSource
                sourceSize.width: 960
                cache: false
                Accessible.role: Accessible.Graphic
                Accessible.name: qsTr("Preview of the card face for %1").arg(page.queue.selectedName)
                Rectangle {
                    anchors.fill: parent
                    visible: page.queue.previewSource.length === 0
                    color: Theme.surfaceAlt
                    radius: Theme.radius
                    BodyText {
                        anchors.centerIn: parent
                        width: parent.width - 2 * Theme.spacing
                        horizontalAlignment: Text.AlignHCenter
                        text: qsTr("Choose an application to see its card")
                    }
                }
            }
            BodyText {
                text: qsTr("Cards in this batch")
            }
            RowLayout {
                spacing: Theme.spacingSmall
                BigButton {
                    objectName: "batchLess"
                    text: "−"
                    Accessible.name: qsTr("Fewer cards")
                    color: Theme.secondary
                    enabled: page.batchSize > 1
                    onClicked: page.batchSize -= 1
                }
                Text {
                    objectName: "batchSize"
                    text: language.formatNumber(page.batchSize)
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontTitle
                    font.bold: true
                    color: Theme.text
                    horizontalAlignment: Text.AlignHCenter
                    Layout.preferredWidth: 100
                    Accessible.role: Accessible.StaticText
                    Accessible.name: qsTr("%n card(s) in the batch", "", page.batchSize)
                }
                BigButton {
                    objectName: "batchMore"
                    text: "+"
                    Accessible.name: qsTr("More cards")
                    color: Theme.secondary
                    enabled: page.batchSize < page.queue.ready
                    onClicked: page.batchSize += 1
                }
            }
            BigButton {
                objectName: "startBatch"
                Layout.fillWidth: true
                text: qsTr("Print %n card(s)", "", page.batchSize)
                enabled: page.batchSize > 0 && station.session.canIssue && !station.batch.running
                onClicked: {
                    if (station.batch.start(page.queue.batchIds(page.batchSize)))
                        page.navigate("batch")
                }
            }
            Item { Layout.fillHeight: true }
        }
    }
}
