// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Station

// Handover: the card tapped on the desk reader is read as a verifier reads it, the member is
// shown, the operator confirms. A refusal needs a reason; a card not of this station is
// refused; a supervisor records a loss and a replacement; reports count what happened.
TestCase {
    id: test
    name: "Handover"
    when: windowShown
    width: 1280; height: 800

    Component { id: handoverComponent; HandoverPage { width: 1280; height: 800 } }
    Component { id: reportsComponent; ReportsPage { width: 1280; height: 800 } }

    property var numbers: []

    function initTestCase() {
        verify(station.session.signIn(harness.supervisorId, harness.supervisorPin))
        verify(station.batch.start(station.queue.batchIds(3)))
        tryCompare(station.batch, "finished", true, 60000)
        numbers = harness.producedNumbers()
        compare(numbers.length, 3)
    }
    function cleanup() { harness.removeCard(); station.handover.reset() }

    function test_1_tapConfirmDone() {
        const page = createTemporaryObject(handoverComponent, test.parent)
        tryCompare(station.handover, "state", "waiting")
        verify(harness.tapProducedCard(numbers[0]))
        tryCompare(station.handover, "state", "found", 10000)
        verify(findChild(page, "memberName").text.length > 0)
        compare(station.handover.cardState, "produced")
        const confirm = findChild(page, "confirmButton")
        verify(confirm.visible)
        // The row lays its buttons out again when the state shows them: click where the button
        // is after that, not where the layout left it a frame ago ("Next card" was there).
        waitForItemPolished(confirm.parent)
        mouseClick(confirm)
        compare(station.handover.state, "recorded")
        compare(station.handover.recorded, "handed_over")
        compare(station.handover.cardState, "handed_over")
        verify(findChild(page, "recordedText").visible)
    }

    function test_2_refusalNeedsAReason() {
        const page = createTemporaryObject(handoverComponent, test.parent)
        verify(harness.tapProducedCard(numbers[1]))
        tryCompare(station.handover, "state", "found", 10000)
        const refuse = findChild(page, "refuseButton")
        verify(!refuse.enabled)
        verify(!station.handover.refuse("  "))
        findChild(page, "reasonField").text = "не нужна"
        verify(refuse.enabled)
        waitForItemPolished(refuse.parent)
        mouseClick(refuse)
        compare(station.handover.errorDetail, "")
        compare(station.handover.recorded, "refused")
        compare(station.handover.cardState, "refused")
    }

    function test_3_aForeignCardIsRefused() {
        createTemporaryObject(handoverComponent, test.parent)
        tryCompare(station.handover, "state", "waiting")
        harness.tapForeignCard()
        tryCompare(station.handover, "state", "error", 10000)
        compare(station.handover.error, "not_union_card")
    }

    function test_4_lostAndReplacedBySupervisor() {
        const page = createTemporaryObject(handoverComponent, test.parent)
        verify(station.handover.lookUp(numbers[0]))
        compare(station.handover.cardState, "handed_over")
        verify(findChild(page, "lostButton").visible)
        verify(station.handover.reportLost())
        compare(station.handover.cardState, "lost")
        verify(station.handover.lookUp(numbers[0]))
        // Two people replace a card: alone, or with a second who is not a supervisor, no.
        verify(!station.handover.replace("утеряна", "", ""))
        compare(station.handover.error, "second_person")
        verify(!station.handover.replace("утеряна", harness.supervisorId, harness.supervisorPin))
        compare(station.handover.error, "second_person")
        verify(!station.handover.replace("утеряна", harness.operatorId, harness.operatorPin))
        compare(station.handover.error, "second_person")
        verify(!station.handover.replace("утеряна", harness.secondSupervisorId, "000000"))
        compare(station.handover.error, "wrong_pin")
        verify(station.handover.replace("утеряна", harness.secondSupervisorId,
                                        harness.secondSupervisorPin))
        compare(station.handover.recorded, "replaced")
        station.queue.refresh()
        compare(station.queue.count, 10) // 12 - 3 made + 1 replacement
        verify(!station.handover.lookUp("9643 0000 0000 0001"))
        compare(station.handover.error, "bad_number")
    }

    function test_5_reportsCountTheDay() {
        const page = createTemporaryObject(reportsComponent, test.parent)
        station.reports.refresh()
        compare(station.reports.producedToday, 3)
        compare(station.reports.handedOverToday, 1)
        verify(station.reports.byOrganisation.length > 0)
        station.reports.days = 1
        compare(station.reports.notHandedOver.length, 0) // all made today
        verify(findChild(page, "reportTotals").text.length > 0)
    }
}
