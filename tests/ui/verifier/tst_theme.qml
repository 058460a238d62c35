// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Ui

// The theme's promises: white text on every verdict colour at 7:1 or more, touch targets of
// at least 64 px.
TestCase {
    name: "Theme"
    width: 400; height: 300
    when: windowShown
    visible: true

    Component { id: button; BigButton { text: "OK" } }

    function test_verdictColoursHaveHighContrast() {
        for (const c of [Theme.verdictValid, Theme.verdictInvalid, Theme.verdictUnknown, Theme.idle,
                         Theme.primary, Theme.secondary, Theme.online, Theme.offline, Theme.training])
            verify(Theme.contrast(c, Theme.textOnDark) >= 7, "contrast of " + c + ": " + Theme.contrast(c, Theme.textOnDark))
        verify(Theme.contrast(Theme.text, Theme.background) >= 7)
        verify(Theme.contrast(Theme.textMuted, Theme.surface) >= 7)
    }
    function test_contrastFunctionCanFail() {
        verify(Theme.contrast(Qt.color("#777777"), Qt.color("#888888")) < 2)
    }
    function test_buttonsAreLargeEnoughToTouch() {
        const b = createTemporaryObject(button, this)
        verify(b.height >= Theme.touchTarget)
        verify(b.width >= Theme.touchTarget)
        compare(b.Accessible.name, "OK")
    }
}
