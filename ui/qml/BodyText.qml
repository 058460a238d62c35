// SPDX-License-Identifier: Apache-2.0
import QtQuick

// Ordinary text at the body size of the theme.
Text {
    color: Theme.text
    font.family: Theme.fontFamily
    font.pixelSize: Theme.fontBody
    wrapMode: Text.WordWrap
    Accessible.role: Accessible.StaticText
    Accessible.name: text
}
