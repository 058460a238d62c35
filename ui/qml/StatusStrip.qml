// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts

// Always on screen: online or offline, the age of the status list, and the training-mode
// banner. The texts come in ready to show (the controllers format them for the locale).
Rectangle {
    id: strip
    property bool online: false
    property bool showConnection: true
    property string listAgeText: ""      // e.g. "Status list: 5 minutes old"
    property bool listStale: false       // too old to answer "valid" offline
    property bool training: false
    property string title: ""
    default property alias extra: extraRow.data   // buttons on the right (language, menu)

    implicitHeight: Theme.stripHeight + (training ? trainingBanner.height : 0)
    color: Theme.surface
    border.color: Theme.border
    border.width: 1

    RowLayout {
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.top: parent.top
        height: Theme.stripHeight
        anchors.leftMargin: Theme.spacing
        anchors.rightMargin: Theme.spacing
        spacing: Theme.spacing

        Rectangle {
            id: connection
            visible: strip.showConnection
            Layout.preferredHeight: Theme.stripHeight - 2 * Theme.spacingSmall
            Layout.preferredWidth: connectionText.implicitWidth + 2 * Theme.spacing
            radius: height / 2
            color: strip.online ? Theme.online : Theme.offline
            Accessible.role: Accessible.StaticText
            Accessible.name: connectionText.text
            Text {
                id: connectionText
                objectName: "connectionText"
                anchors.centerIn: parent
                text: strip.online ? qsTr("Online") : qsTr("Offline")
                color: Theme.textOnDark
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontBody
                font.bold: true
            }
        }
        Text {
            objectName: "listAgeText"
            visible: text.length > 0
            text: strip.listAgeText
            color: strip.listStale ? Theme.offline : Theme.text
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontBody
            font.bold: strip.listStale
            elide: Text.ElideRight
            Layout.fillWidth: strip.title.length === 0
            Accessible.role: Accessible.StaticText
            Accessible.name: text
        }
        Text {
            visible: text.length > 0
            text: strip.title
            color: Theme.text
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontBody
            font.bold: true
            elide: Text.ElideRight
            horizontalAlignment: Text.AlignHCenter
            Layout.fillWidth: true
        }
        RowLayout {
            id: extraRow
            spacing: Theme.spacingSmall
        }
    }
    // Training mode: a band across the whole width under the strip, on every screen.
    Rectangle {
        id: trainingBanner
        objectName: "trainingBanner"
        visible: strip.training
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.bottom: parent.bottom
        height: trainingText.implicitHeight + Theme.spacingSmall * 2
        color: Theme.training
        Accessible.role: Accessible.StaticText
        Accessible.name: trainingText.text
        Text {
            id: trainingText
            anchors.centerIn: parent
            text: qsTr("TRAINING MODE: simulated cards and printer, nothing is real")
            color: Theme.textOnDark
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontBody
            font.bold: true
            width: parent.width - 2 * Theme.spacing
            elide: Text.ElideRight
            horizontalAlignment: Text.AlignHCenter
        }
    }
}
