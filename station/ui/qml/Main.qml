// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Window
import UnionCard.Ui

// The kiosk window: full screen on the station, a window elsewhere; the on-screen keyboard
// where there is no keyboard (main.cpp sets QT_IM_MODULE=qtvirtualkeyboard for --kiosk).
Window {
    id: window
    width: Theme.designWidth
    height: Theme.designHeight
    visible: true
    title: qsTr("Union card station")
    color: Theme.background

    StationShell {
        anchors.fill: parent
        anchors.bottomMargin: keyboard.item && keyboard.item.active ? keyboard.item.height : 0
    }
    Loader {
        id: keyboard
        active: virtualKeyboard
        source: "Keyboard.qml"
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.bottom: parent.bottom
    }
}
