// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Station

// End to end on the real devices (station_ui_e2e_test.sh: the card lab's pcscd, the printer
// simulator, registryd): the operator signs in with the PIN on the keypad, prints a batch of 5
// from the queue, waits for it, and hands one card over by putting its chip on the desk reader.
// The script then counts the statuses in the registry.
TestCase {
    id: test
    name: "StationEndToEnd"
    when: windowShown
    width: 1280; height: 800

    Component { id: shellComponent; StationShell { width: 1280; height: 800 } }

    function page(shell, name) {
        tryVerify(() => findChild(shell, name) !== null, 5000, name + " is shown")
        return findChild(shell, name)
    }

    // A tap on a control once it is laid out and drawn.
    function tap(shell, item) {
        verify(item !== null)
        tryVerify(() => item.visible && item.enabled && item.width > 0 && item.height > 0, 5000,
                  item.objectName + " can be tapped")
        waitForRendering(shell)
        mouseClick(item)
    }

    function test_signInBatchOfFiveHandOneOver() {
        const shell = createTemporaryObject(shellComponent, test.parent)

        // Sign in: the operator's id, the PIN on the keypad.
        page(shell, "signInPage")
        findChild(shell, "operatorField").text = harness.operatorId
        for (const d of harness.operatorPin)
            tap(shell, findChild(shell, "key" + d))
        tap(shell, findChild(shell, "keyAccept"))
        verify(station.session.signedIn, "signed in: " + station.session.error)
        compare(station.session.role, "operator")
        page(shell, "homePage")

        // The queue: 5 in the batch, printed.
        tap(shell, findChild(shell, "nav_queue"))
        const queue = page(shell, "queuePage")
        station.queue.refresh()
        tryVerify(() => station.queue.ready >= 5, 10000, "5 applications ready")
        const size = findChild(queue, "batchSize")
        while (Number(queue.batchSize) < 5 && findChild(queue, "batchMore").enabled)
            tap(shell, findChild(queue, "batchMore"))
        while (Number(queue.batchSize) > 5)
            tap(shell, findChild(queue, "batchLess"))
        compare(queue.batchSize, 5)
        compare(size.text, language.formatNumber(5))
        tap(shell, findChild(queue, "startBatch"))
        const batch = page(shell, "batchPage")
        verify(station.batch.running || station.batch.finished)

        // Waits for the printer simulator and the card lab.
        tryCompare(station.batch, "finished", true, 75000)
        compare(station.batch.error, "")
        compare(station.batch.cancelled, false)
        compare(station.batch.done, 5)
        compare(station.batch.spoiled, 0)
        compare(station.batch.left, 0)
        verify(findChild(batch, "doneButton").visible)
        verify(findChild(batch, "batchCounts").text.indexOf(language.formatNumber(5)) >= 0,
               findChild(batch, "batchCounts").text)
        const numbers = harness.producedNumbers()
        compare(numbers.length, 5)

        // Handover: the first card's chip on the desk reader, found, confirmed.
        tap(shell, findChild(shell, "nav_handover"))
        const handover = page(shell, "handoverPage")
        tryCompare(station.handover, "state", "waiting", 5000)
        verify(harness.putProducedCardOnDesk(numbers[0]))
        tryCompare(station.handover, "state", "found", 20000)
        compare(station.handover.error, "")
        compare(station.handover.number.replace(/ /g, ""), numbers[0].replace(/ /g, ""))
        compare(station.handover.cardState, "produced")
        verify(findChild(handover, "memberName").text.length > 0)
        tap(shell, findChild(handover, "confirmButton"))
        compare(station.handover.state, "recorded")
        compare(station.handover.recorded, "handed_over")
        compare(station.handover.cardState, "handed_over")
        verify(findChild(handover, "recordedText").visible)
        // Sent at once: the registry has it before the page says so.
        tryCompare(station.handover, "delivering", false, 15000)
        verify(station.handover.registryDelivered, "the handover reached the registry")
        verify(harness.removeDeskCard())
    }
}
