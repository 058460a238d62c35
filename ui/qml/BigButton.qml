// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls.Basic

// A button a finger hits on the first try: at least Theme.touchTarget high, large text, a
// visible focus ring for keyboard use, and its text as the accessible name.
Button {
    id: control
    property color color: Theme.primary
    property color textColor: Theme.textOnDark
    property int fontSize: Theme.fontLarge

    implicitHeight: Math.max(Theme.touchTarget, contentItem.implicitHeight + 2 * Theme.spacing)
    implicitWidth: Math.max(Theme.touchTarget * 2, contentItem.implicitWidth + 2 * Theme.spacingLarge)
    focusPolicy: Qt.StrongFocus
    Accessible.role: Accessible.Button
    Accessible.name: text
    Keys.onReturnPressed: clicked()
    Keys.onEnterPressed: clicked()

    contentItem: Text {
        text: control.text
        font.family: Theme.fontFamily
        font.pixelSize: control.fontSize
        font.bold: true
        color: control.enabled ? control.textColor : Theme.disabledText
        horizontalAlignment: Text.AlignHCenter
        verticalAlignment: Text.AlignVCenter
        wrapMode: Text.WordWrap
    }
    background: Rectangle {
        radius: Theme.radius
        color: !control.enabled ? Theme.disabled
                                : control.down ? Qt.darker(control.color, 1.3) : control.color
        border.width: control.visualFocus ? Theme.focusWidth : 0
        border.color: control.color === Theme.focus ? Theme.textOnDark : Theme.focus
        Rectangle {  // the focus ring stands out on any button colour
            anchors.fill: parent
            anchors.margins: Theme.focusWidth
            radius: Theme.radius - 2
            color: "transparent"
            visible: control.visualFocus
            border.width: 2
            border.color: Theme.textOnDark
        }
    }
}
