// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts
import UnionCard.Ui

// One figure on the home screen: a big number and what it counts.
Rectangle {
    id: tile
    property string value: ""
    property string label: ""
    property color accent: Theme.text
    implicitWidth: 220
    implicitHeight: column.implicitHeight + 2 * Theme.spacing
    radius: Theme.radius
    color: Theme.surface
    border.color: Theme.border
    border.width: 1
    Accessible.role: Accessible.StaticText
    Accessible.name: label + ": " + value
    ColumnLayout {
        id: column
        anchors.fill: parent
        anchors.margins: Theme.spacing
        spacing: Theme.spacingSmall
        Text {
            text: tile.value
            color: tile.accent
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontHuge
            font.bold: true
        }
        Text {
            text: tile.label
            color: Theme.textMuted
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontBody
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
        }
    }
}
