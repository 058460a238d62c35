// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Station

// Home: the queue, the printer's state asked off the UI thread, the registry line, and the
// language switched at runtime.
TestCase {
    id: test
    name: "Home"
    when: windowShown
    width: 1280; height: 800

    Component { id: homeComponent; HomePage { width: 1280; height: 800 } }

    function initTestCase() { verify(station.session.signIn(harness.operatorId, harness.operatorPin)) }
    function cleanup() { language.setLanguage("ru") }

    function test_showsTheQueueAndThePrinter() {
        const page = createTemporaryObject(homeComponent, test.parent)
        compare(station.home.queued, 12)
        compare(findChild(page, "queuedTile").value, "12")
        tryCompare(station.home, "printerState", "ready", 5000)
        compare(station.home.printerFault, "")
        verify(station.home.ribbonLeft > 0)
    }

    function test_aPrinterFaultSaysWhatToDo() {
        const page = createTemporaryObject(homeComponent, test.parent)
        harness.openCover()
        station.home.refresh()
        tryCompare(station.home, "printerFault", "cover_open", 5000)
        const action = findChild(page, "printerAction")
        verify(action.visible)
        language.setLanguage("en")
        compare(action.text, "The printer's cover is open. Close the cover.")
        language.setLanguage("ru")
        compare(action.text, "Крышка принтера открыта. Закройте крышку.")
        harness.closeCover()
        station.home.refresh()
        tryCompare(station.home, "printerFault", "", 5000)
    }

    function test_registryLineWithoutARegistry() {
        const page = createTemporaryObject(homeComponent, test.parent)
        verify(!station.home.registryConfigured)
        language.setLanguage("en")
        compare(findChild(page, "registryText").text,
                "No registry connection is set up; nothing waits to be sent.")
    }
}
