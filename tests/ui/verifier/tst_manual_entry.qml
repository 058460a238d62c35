// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Ui
import UnionCard.Verifier
import UnionCardTest

// Typing the number on the keypad: groups of four, a mistyped digit caught by the check digit
// before any lookup, a right number checked.
TestCase {
    id: test
    name: "ManualEntry"
    width: 1280; height: 800
    when: windowShown
    visible: true

    Component { id: mainPage; Main { language: Harness.language } }

    property QtObject controller: null
    property Item page: null

    function init() {
        Harness.language.setLanguage("ru")
        controller = Harness.newDesk("event")
        page = createTemporaryObject(mainPage, test, { controller: controller })
        waitForRendering(page)
        mouseClick(findChild(page, "manualButton"))
        tryVerify(() => findChild(page, "manualEntryPage") !== null)
    }

    function type(digits) {
        for (const d of digits)
            mouseClick(findChild(page, "key" + d))
    }

    function test_digitsAreGroupedInFours() {
        type("964323000")
        compare(findChild(page, "numberDisplay").text, "9643 2300 0")
        compare(findChild(page, "numberProblem").text, "9 цифр из 16")
        verify(!findChild(page, "keyAccept").enabled)
        mouseClick(findChild(page, "keyErase"))
        compare(findChild(page, "numberDisplay").text, "9643 2300")
    }

    function test_aMistypedDigitIsCaughtBeforeAnyLookup() {
        type("9643230000000019")
        verify(findChild(page, "numberProblem").text.indexOf("контрольная цифра") > 0)
        verify(!findChild(page, "keyAccept").enabled)
        compare(controller.checkTyped("9643230000000019"), "check_digit")
        verify(!controller.checkNumber("9643230000000019"))
        compare(controller.tapCount, 0)
        compare(controller.verdictClass, "idle")
    }

    function test_aRightNumberIsChecked() {
        type("9643230000000015")
        verify(findChild(page, "keyAccept").enabled)
        mouseClick(findChild(page, "keyAccept"))
        tryCompare(controller, "tapCount", 1, 10000)
        compare(controller.verdictSource, "number")
        // Offline, a typed number is never "valid": only the registry knows it was issued.
        compare(controller.verdictCode, "cannot_confirm_offline")
        compare(controller.verdictClass, "unknown")
        tryVerify(() => findChild(page, "tapPage") !== null)
        verify(findChild(page, "reason").text.indexOf("только при наличии связи") >= 0, findChild(page, "reason").text)
    }

    function test_theHardwareKeyboardTypesToo() {
        findChild(page, "keypad").forceActiveFocus()
        keyClick(Qt.Key_9); keyClick(Qt.Key_6); keyClick(Qt.Key_4); keyClick(Qt.Key_3); keyClick(Qt.Key_2)
        compare(findChild(page, "numberDisplay").text, "9643 2")
        keyClick(Qt.Key_Backspace)
        compare(findChild(page, "numberDisplay").text, "9643")
    }
}
