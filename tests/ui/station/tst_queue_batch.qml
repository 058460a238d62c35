// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Station

// The queue (filter, search, preview) and a batch on the printer simulator: progress, the card
// in the printer, a printer fault with what to do, resuming by itself once it is fixed.
TestCase {
    id: test
    name: "QueueAndBatch"
    when: windowShown
    width: 1280; height: 800

    Component { id: queueComponent; QueuePage { width: 1280; height: 800 } }
    Component { id: batchComponent; BatchPage { width: 1280; height: 800 } }

    function initTestCase() { verify(station.session.signIn(harness.operatorId, harness.operatorPin)) }

    function test_1_filterSearchAndPreview() {
        const page = createTemporaryObject(queueComponent, test.parent)
        compare(station.queue.count, 12)
        compare(station.queue.organisations.length, 3)
        station.queue.organisation = station.queue.organisations[0]
        compare(station.queue.count, 4)
        station.queue.organisation = ""
        findChild(page, "searchField").text = "Кузнецова"
        compare(station.queue.count, 1)
        findChild(page, "searchField").text = ""
        compare(station.queue.count, 12)
        const list = findChild(page, "queueList")
        waitForRendering(list)
        mouseClick(list.itemAtIndex(1))
        verify(station.queue.selectedId.length > 0)
        compare(station.queue.previewSource, "image://cardface/application/" + station.queue.selectedId)
        const preview = findChild(page, "facePreview")
        tryCompare(preview, "status", Image.Ready)
        verify(preview.implicitWidth > 500) // the renderer's face, not the grey placeholder
    }

    function test_2_batchOfThree() {
        const queue = createTemporaryObject(queueComponent, test.parent)
        const start = findChild(queue, "startBatch")
        findChild(queue, "batchLess").clicked()
        findChild(queue, "batchLess").clicked()
        compare(findChild(queue, "batchSize").text, "3")
        start.clicked()
        verify(station.batch.running)
        const page = createTemporaryObject(batchComponent, test.parent)
        tryCompare(station.batch, "finished", true, 60000)
        compare(station.batch.done, 3)
        compare(station.batch.spoiled, 0)
        compare(station.batch.left, 0)
        compare(station.batch.fraction, 1)
        compare(harness.producedNumbers().length, 3)
        verify(findChild(page, "doneButton").visible)
        compare(station.queue.count, 9)
    }

    function test_3_aPrinterFaultPausesAndResumes() {
        const page = createTemporaryObject(batchComponent, test.parent)
        harness.openCover()
        verify(station.batch.start(station.queue.batchIds(2)))
        tryCompare(station.batch, "fault", "cover_open", 30000)
        const panel = findChild(page, "faultPanel")
        verify(panel.visible)
        verify(findChild(page, "faultText").text.length > 0)
        verify(station.batch.running)
        harness.closeCover()
        tryCompare(station.batch, "finished", true, 60000)
        compare(station.batch.fault, "")
        compare(station.batch.done, 2)
    }

    function test_4_pauseHoldsBetweenCards() {
        createTemporaryObject(batchComponent, test.parent)
        harness.openCover()
        verify(station.batch.start(station.queue.batchIds(2)))
        tryCompare(station.batch, "fault", "cover_open", 30000)
        station.batch.pause()
        harness.closeCover()
        tryCompare(station.batch, "paused", true, 30000)
        verify(station.batch.running)
        compare(station.batch.done, 0)
        station.batch.resume()
        tryCompare(station.batch, "finished", true, 60000)
        compare(station.batch.done, 2)
    }

    function test_5_cancelStopsBeforeTheNextCard() {
        createTemporaryObject(batchComponent, test.parent)
        harness.openCover()
        verify(station.batch.start(station.queue.batchIds(3)))
        tryCompare(station.batch, "fault", "cover_open", 30000)
        station.batch.cancel()
        tryCompare(station.batch, "finished", true, 30000)
        harness.closeCover()
        verify(station.batch.cancelled)
        compare(station.batch.done, 0)
        compare(station.batch.left, 3)
    }
}
