// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.VirtualKeyboard

// Qt Virtual Keyboard's panel, shown while a text field has focus.
InputPanel {
    id: panel
    visible: active
}
