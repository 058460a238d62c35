// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Station

// Sign-in: a wrong PIN is refused and said; the PIN, or the PIN and the staff card, sign in
// (the card alone does not); the role
// decides what is on screen.
TestCase {
    id: test
    name: "SignIn"
    when: windowShown
    width: 1280; height: 800

    Component { id: shellComponent; StationShell { width: 1280; height: 800 } }

    function init() { station.session.signOut() }

    function test_wrongPinIsRefused() {
        const shell = createTemporaryObject(shellComponent, test.parent)
        verify(!station.session.signIn(harness.operatorId, "0000"))
        compare(station.session.error, "wrong_pin")
        const message = findChild(shell, "signInError")
        verify(message.visible)
        verify(message.text.length > 0)
        verify(!station.session.signedIn)
    }

    function test_pinOnTheKeypadSignsIn() {
        const shell = createTemporaryObject(shellComponent, test.parent)
        const field = findChild(shell, "operatorField")
        field.text = harness.operatorId
        for (const d of harness.operatorPin)
            mouseClick(findChild(shell, "key" + d))
        mouseClick(findChild(shell, "keyAccept"))
        verify(station.session.signedIn)
        compare(station.session.role, "operator")
        verify(station.session.canIssue)
        tryVerify(() => findChild(shell, "homePage") !== null)
    }

    function test_staffCardSignsInTheSupervisor() {
        const shell = createTemporaryObject(shellComponent, test.parent)
        for (const d of harness.supervisorPin)
            mouseClick(findChild(shell, "key" + d))
        mouseClick(findChild(shell, "cardSignIn"))
        tryCompare(station.session, "waitingForCard", true)
        harness.tapStaffCard(harness.staffCardUid)
        tryCompare(station.session, "signedIn", true, 5000)
        verify(station.session.supervisor)
        harness.removeCard()
    }

    function test_theStaffCardAloneSignsNoOneIn() {
        const shell = createTemporaryObject(shellComponent, test.parent)
        mouseClick(findChild(shell, "cardSignIn"))
        compare(station.session.error, "pin_first")
        verify(!station.session.waitingForCard)
        verify(findChild(shell, "signInError").text.length > 0)
        station.session.signInWithCard("000000") // not the supervisor's PIN
        tryCompare(station.session, "waitingForCard", true)
        harness.tapStaffCard(harness.staffCardUid)
        tryCompare(station.session, "waitingForCard", false, 5000)
        verify(!station.session.signedIn)
        compare(station.session.error, "unknown_card")
        harness.removeCard()
        verify(station.session.signIn(harness.supervisorId, harness.supervisorPin)) // clears the count
    }

    function test_aForeignCardDoesNotSignIn() {
        createTemporaryObject(shellComponent, test.parent)
        station.session.signInWithCard(harness.supervisorPin)
        harness.tapForeignCard()
        tryCompare(station.session, "waitingForCard", false, 5000)
        verify(!station.session.signedIn)
        compare(station.session.error, "unknown_card")
        harness.removeCard()
    }

    function test_anAuditorSeesNoIssuing() {
        const shell = createTemporaryObject(shellComponent, test.parent)
        verify(station.session.signIn(harness.auditorId, harness.auditorPin))
        verify(!station.session.canIssue)
        tryVerify(() => findChild(shell, "homePage") !== null)
        verify(!findChild(shell, "nav_queue").visible)
        verify(!findChild(shell, "nav_handover").visible)
        verify(findChild(shell, "nav_reports").visible)
    }
}
