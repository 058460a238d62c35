// SPDX-License-Identifier: Apache-2.0
pragma Singleton
import QtQuick

// The one theme of both kiosk UIs: colours, type scale, spacing, touch targets. Every pair of
// text and background colour named here has a contrast of at least 7:1 (WCAG AAA), checked by
// tests/ui/verifier/tst_theme.qml.
QtObject {
    // Surfaces and text.
    readonly property color background: "#F4F6F8"
    readonly property color surface: "#FFFFFF"
    readonly property color surfaceAlt: "#E3E8ED"
    readonly property color text: "#111820"
    readonly property color textMuted: "#37474F"      // 9.6:1 on white
    readonly property color textOnDark: "#FFFFFF"
    readonly property color border: "#455A64"
    readonly property color focus: "#0B3D91"          // the keyboard focus ring

    // Actions.
    readonly property color primary: "#0B3D91"        // white text 10:1
    readonly property color primaryPressed: "#072A66"
    readonly property color secondary: "#37474F"      // white text 9.6:1
    readonly property color disabled: "#B0BEC5"
    readonly property color disabledText: "#263238"

    // Verdicts: the colour fills the screen, white text on it at >= 7:1.
    readonly property color verdictValid: "#1B5E20"     // 7.9:1
    readonly property color verdictInvalid: "#A0141B"   // 8.0:1
    readonly property color verdictUnknown: "#7A4A00"   // amber, 7.5:1
    readonly property color idle: "#263238"             // waiting for a tap, 13:1

    // Status strip.
    readonly property color online: "#1B5E20"
    readonly property color offline: "#A0141B"
    readonly property color training: "#7A4A00"
    readonly property color warning: "#7A4A00"

    // Type scale (pixels). DejaVu Sans (fonts-dejavu-core) has Cyrillic.
    readonly property string fontFamily: "DejaVu Sans"
    readonly property int fontSmall: 18
    readonly property int fontBody: 22
    readonly property int fontLarge: 28
    readonly property int fontTitle: 36
    readonly property int fontHuge: 56
    readonly property int fontGiant: 96

    // Spacing and sizes.
    readonly property int spacingSmall: 8
    readonly property int spacing: 16
    readonly property int spacingLarge: 32
    readonly property int radius: 10
    readonly property int touchTarget: 64   // the smallest thing a finger has to hit
    readonly property int focusWidth: 4
    readonly property int stripHeight: 64

    // Sizes a kiosk window is designed for.
    readonly property int designWidth: 1280
    readonly property int designHeight: 800

    // The WCAG contrast ratio of two colours (for the tests and for choosing text on a colour).
    function luminance(c) {
        function channel(v) { return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4) }
        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)
    }
    function contrast(a, b) {
        const la = luminance(a), lb = luminance(b)
        return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05)
    }
}
