// SPDX-License-Identifier: Apache-2.0
import QtQuick

// A page's heading, announced as such to screen readers.
Text {
    color: Theme.text
    font.family: Theme.fontFamily
    font.pixelSize: Theme.fontTitle
    font.bold: true
    wrapMode: Text.WordWrap
    Accessible.role: Accessible.Heading
    Accessible.name: text
}
