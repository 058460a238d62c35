// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Ui
import UnionCard.Verifier
import UnionCardTest

// The "tap the card" screen at an event desk: each verdict fills the screen with its colour and
// reason; a second tap of the same card shows who and when; the live count follows.
TestCase {
    id: test
    name: "TapPage"
    width: 1280; height: 800
    when: windowShown
    visible: true

    Component {
        id: mainPage
        Main { language: Harness.language }
    }

    property QtObject controller: null
    property Item page: null

    function init() {
        Harness.language.setLanguage("ru")
        controller = Harness.newDesk("event")
        verify(controller !== null)
        page = createTemporaryObject(mainPage, test, { controller: controller, trainer: Harness.trainer })
        waitForRendering(page)
        verify(page !== null)
    }

    function tapAndWait(card) {
        const before = controller.tapCount
        verify(Harness.tap(card))
        tryCompare(controller, "tapCount", before + 1, 10000)
    }

    function text(name) { return findChild(page, name).text }
    function pageColour() { return findChild(page, "tapPage").color }

    function test_idleAsksForTheCard() {
        compare(controller.verdictClass, "idle")
        compare(text("headline"), "Приложите карту")
        compare(pageColour(), Theme.idle)
        verify(findChild(page, "trainingBanner").visible, "training mode is marked")
        compare(findChild(findChild(page, "statusStrip"), "connectionText").text, "Нет связи")
        compare(findChild(page, "listAgeText").text, "Список статусов: обновлён 12 минут назад")
    }

    function test_validCardIsGreenWithTheMembersName() {
        tapAndWait("valid")
        compare(controller.verdictClass, "valid")
        compare(pageColour(), Theme.verdictValid)
        compare(text("headline"), "Действительна")
        compare(text("memberName"), "Иванова Мария Петровна")
        compare(text("cardNumber"), "9643 2300 0000 0015")
        compare(controller.liveCount, 1)
        compare(text("liveCount"), "1 участник отмечен")
    }

    function test_secondTapShowsWhoAndWhen() {
        tapAndWait("valid")
        tapAndWait("valid")
        compare(controller.verdictCode, "duplicate")
        compare(pageColour(), Theme.verdictInvalid)
        compare(text("headline"), "Уже отмечен")
        verify(text("reason").indexOf("на стойке training") > 0, text("reason"))
        compare(text("memberName"), "Иванова Мария Петровна")
        compare(controller.liveCount, 1)   // a repeat is not an entry
    }

    function test_revokedIsRedWithTheReason() {
        tapAndWait("revoked")
        compare(controller.verdictCode, "revoked")
        compare(pageColour(), Theme.verdictInvalid)
        compare(text("headline"), "Недействительна")
        verify(text("reason").indexOf("аннулирована") >= 0)
        compare(controller.liveCount, 0)
    }

    function test_cardNewerThanTheListIsAmber() {
        tapAndWait("unconfirmed")
        compare(controller.verdictCode, "cannot_confirm_offline")
        compare(pageColour(), Theme.verdictUnknown)
        compare(text("headline"), "Нельзя подтвердить без связи")
    }

    function test_copiesExpiredAndForeignCardsAreRefused() {
        tapAndWait("copy")
        compare(controller.verdictCode, "chip_auth_failed")
        tapAndWait("expired")
        compare(controller.verdictCode, "expired")
        tapAndWait("blank")
        verify(controller.verdictClass === "invalid", controller.verdictCode)
    }

    function test_languageSwitchesAtRuntime() {
        tapAndWait("revoked")
        mouseClick(findChild(page, "languageSwitch"))
        compare(Harness.language.language, "en")
        compare(text("headline"), "Not valid")
        compare(findChild(page, "listAgeText").text, "Status list: 12 minutes old")
        mouseClick(findChild(page, "languageSwitch"))
        compare(text("headline"), "Недействительна")
    }

    function test_nextTapReplacesTheVerdictAtOnce() {
        tapAndWait("revoked")
        tapAndWait("valid2")
        compare(controller.verdictClass, "valid")
        compare(text("memberName"), "")
    }
}
