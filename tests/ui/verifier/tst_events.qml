// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Ui
import UnionCard.Verifier
import UnionCardTest

// Picking the event and the desk's mode.
TestCase {
    id: test
    name: "EventsPage"
    width: 1280; height: 800
    when: windowShown
    visible: true

    Component { id: mainPage; Main { language: Harness.language } }

    function test_pickAnotherEventAndCountThere() {
        Harness.language.setLanguage("ru")
        const controller = Harness.newDesk("event")
        const page = createTemporaryObject(mainPage, test, { controller: controller })
        waitForRendering(page)
        compare(controller.eventId, "training-event")
        compare(controller.events.length, 2)
        mouseClick(findChild(page, "eventButton"))
        tryVerify(() => findChild(page, "eventsPage") !== null)
        tryVerify(() => findChild(page, "event_training-festival") !== null)
        const festival = findChild(page, "event_training-festival")
        waitForRendering(festival)
        mouseClick(festival)
        compare(controller.eventId, "training-festival")
        tryVerify(() => findChild(page, "tapPage") !== null)
        compare(findChild(page, "statusStrip").title, "Фестиваль педагогов (учебный, ежедневная отметка)")
        Harness.tap("valid2")
        tryCompare(controller, "liveCount", 1, 10000)
        compare(controller.memberName, "")
    }

    function test_switchToShopMode() {
        const controller = Harness.newDesk("event")
        const page = createTemporaryObject(mainPage, test, { controller: controller, page: "events" })
        waitForRendering(page)
        mouseClick(findChild(page, "modeMerchant"))
        compare(controller.mode, "merchant")
        verify(!findChild(page, "eventList").visible)
        mouseClick(findChild(page, "backButton"))
        tryVerify(() => findChild(page, "tapPage") !== null)
        compare(findChild(page, "statusStrip").title, "Касса магазина")
    }
}
