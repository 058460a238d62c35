// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts

// A numeric keypad with big keys: digits, erase, clear and a confirm key. It only emits what
// was pressed; the page decides what the digits mean. The digit keys also answer the hardware
// keyboard while the keypad has focus.
GridLayout {
    id: keypad
    property string acceptText: qsTr("Check")
    property bool acceptEnabled: true
    property int keySize: Theme.touchTarget + 24
    signal digit(string d)
    signal erase()
    signal clear()
    signal accepted()

    columns: 3
    rowSpacing: Theme.spacingSmall
    columnSpacing: Theme.spacingSmall

    Repeater {
        model: ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
        BigButton {
            required property string modelData
            objectName: "key" + modelData
            text: modelData
            fontSize: Theme.fontTitle
            color: Theme.secondary
            Layout.preferredWidth: keypad.keySize * 1.5
            Layout.preferredHeight: keypad.keySize
            onClicked: keypad.digit(modelData)
        }
    }
    BigButton {
        objectName: "keyClear"
        text: qsTr("Clear")
        Accessible.name: qsTr("Clear the number")
        fontSize: Theme.fontBody
        color: Theme.secondary
        Layout.preferredWidth: keypad.keySize * 1.5
        Layout.preferredHeight: keypad.keySize
        onClicked: keypad.clear()
    }
    BigButton {
        objectName: "key0"
        text: "0"
        fontSize: Theme.fontTitle
        color: Theme.secondary
        Layout.preferredWidth: keypad.keySize * 1.5
        Layout.preferredHeight: keypad.keySize
        onClicked: keypad.digit("0")
    }
    BigButton {
        objectName: "keyErase"
        text: "⌫"
        Accessible.name: qsTr("Erase the last digit")
        fontSize: Theme.fontTitle
        color: Theme.secondary
        Layout.preferredWidth: keypad.keySize * 1.5
        Layout.preferredHeight: keypad.keySize
        onClicked: keypad.erase()
    }
    BigButton {
        objectName: "keyAccept"
        text: keypad.acceptText
        enabled: keypad.acceptEnabled
        Layout.columnSpan: 3
        Layout.fillWidth: true
        Layout.preferredHeight: keypad.keySize
        onClicked: keypad.accepted()
    }

    Keys.onPressed: (event) => {
        if (event.text.length === 1 && event.text >= "0" && event.text <= "9") {
            keypad.digit(event.text); event.accepted = true
        } else if (event.key === Qt.Key_Backspace) {
            keypad.erase(); event.accepted = true
        } else if (event.key === Qt.Key_Escape || event.key === Qt.Key_Delete) {
            keypad.clear(); event.accepted = true
        } else if (event.key === Qt.Key_Return || event.key === Qt.Key_Enter) {
            if (keypad.acceptEnabled) keypad.accepted()
            event.accepted = true
        }
    }
}
