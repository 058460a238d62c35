<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_GB">
<context>
    <name>BatchPage</name>
    <message>
        <source>Time left: working it out…</source>
        <translation>Time left: working it out…</translation>
    </message>
    <message>
        <source>Time left: under a minute</source>
        <translation>Time left: under a minute</translation>
    </message>
    <message numerus="yes">
        <source>Time left: about %n minute(s)</source>
        <translation>
            <numerusform>Time left: about %n minute</numerusform>
            <numerusform>Time left: about %n minutes</numerusform>
        </translation>
    </message>
    <message>
        <source>Batch paused</source>
        <translation>Batch paused</translation>
    </message>
    <message>
        <source>Printing the batch</source>
        <translation>Printing the batch</translation>
    </message>
    <message>
        <source>Batch cancelled</source>
        <translation>Batch cancelled</translation>
    </message>
    <message>
        <source>Batch finished</source>
        <translation>Batch finished</translation>
    </message>
    <message>
        <source>No batch is running</source>
        <translation>No batch is running</translation>
    </message>
    <message>
        <source>Batch progress</source>
        <translation>Batch progress</translation>
    </message>
    <message numerus="yes">
        <source>%n card(s) made</source>
        <translation>
            <numerusform>%n card made</numerusform>
            <numerusform>%n cards made</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n spoiled</source>
        <translation>
            <numerusform>%n spoiled</numerusform>
            <numerusform>%n spoiled</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n left</source>
        <translation>
            <numerusform>%n left</numerusform>
            <numerusform>%n left</numerusform>
        </translation>
    </message>
    <message>
        <source>The batch goes on by itself once this is fixed.</source>
        <translation>The batch goes on by itself once this is fixed.</translation>
    </message>
    <message>
        <source>The printer cannot be reached. Check its power and cable, then start again.</source>
        <translation>The printer cannot be reached. Check its power and cable, then start again.</translation>
    </message>
    <message>
        <source>The card keys cannot be used. Call the supervisor.</source>
        <translation>The card keys cannot be used. Call the supervisor.</translation>
    </message>
    <message>
        <source>The station&apos;s file cannot be written. Call the supervisor.</source>
        <translation>The station&apos;s file cannot be written. Call the supervisor.</translation>
    </message>
    <message>
        <source>Spoiled cards: put them in the box for destruction</source>
        <translation>Spoiled cards: put them in the box for destruction</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Resume</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <source>Cancel the batch</source>
        <translation>Cancel the batch</translation>
    </message>
    <message>
        <source>Back to the queue</source>
        <translation>Back to the queue</translation>
    </message>
    <message>
        <source>The card being made</source>
        <translation>The card being made</translation>
    </message>
</context>
<context>
    <name>HandoverPage</name>
    <message>
        <source>Hand a card over</source>
        <translation>Hand a card over</translation>
    </message>
    <message>
        <source>Ask the member to tap the card on the desk reader</source>
        <translation>Ask the member to tap the card on the desk reader</translation>
    </message>
    <message>
        <source>Read a card</source>
        <translation>Read a card</translation>
    </message>
    <message>
        <source>Card number (lost card)</source>
        <translation>Card number (lost card)</translation>
    </message>
    <message>
        <source>Card number</source>
        <translation>Card number</translation>
    </message>
    <message>
        <source>Find the card</source>
        <translation>Find the card</translation>
    </message>
    <message>
        <source>The member&apos;s card</source>
        <translation>The member&apos;s card</translation>
    </message>
    <message>
        <source>Card: %1</source>
        <translation>Card: %1</translation>
    </message>
    <message>
        <source>Handed over.</source>
        <translation>Handed over.</translation>
    </message>
    <message>
        <source>The refusal is recorded.</source>
        <translation>The refusal is recorded.</translation>
    </message>
    <message>
        <source>The card is recorded as lost.</source>
        <translation>The card is recorded as lost.</translation>
    </message>
    <message>
        <source>The card is replaced; the new card is in the queue.</source>
        <translation>The card is replaced; the new card is in the queue.</translation>
    </message>
    <message>
        <source>Sending to the registry…</source>
        <translation>Sending to the registry…</translation>
    </message>
    <message>
        <source>The registry has it.</source>
        <translation>The registry has it.</translation>
    </message>
    <message>
        <source>It will be sent to the registry as soon as it can be reached.</source>
        <translation>It will be sent to the registry as soon as it can be reached.</translation>
    </message>
    <message>
        <source>Reason (for a refusal or a replacement)</source>
        <translation>Reason (for a refusal or a replacement)</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Reason</translation>
    </message>
    <message>
        <source>This is not a union card, or it cannot be read. Tap it again and hold it still.</source>
        <translation>This is not a union card, or it cannot be read. Tap it again and hold it still.</translation>
    </message>
    <message>
        <source>This card was not made at this station (%1).</source>
        <translation>This card was not made at this station (%1).</translation>
    </message>
    <message>
        <source>The card number is not right. Check the digits.</source>
        <translation>The card number is not right. Check the digits.</translation>
    </message>
    <message>
        <source>The desk reader is not available.</source>
        <translation>The desk reader is not available.</translation>
    </message>
    <message>
        <source>This cannot be done with the card in its present state.</source>
        <translation>This cannot be done with the card in its present state.</translation>
    </message>
    <message>
        <source>Hand over</source>
        <translation>Hand over</translation>
    </message>
    <message>
        <source>Member refuses</source>
        <translation>Member refuses</translation>
    </message>
    <message>
        <source>Report lost</source>
        <translation>Report lost</translation>
    </message>
    <message>
        <source>Replace the card</source>
        <translation>Replace the card</translation>
    </message>
    <message>
        <source>Next card</source>
        <translation>Next card</translation>
    </message>
    <message>
        <source>Stop waiting</source>
        <translation>Stop waiting</translation>
    </message>
    <message>
        <source>Training:</source>
        <translation>Training:</translation>
    </message>
    <message>
        <source>Tap a card waiting for its member</source>
        <translation>Tap a card waiting for its member</translation>
    </message>
    <message>
        <source>Tap a card that is not a union card</source>
        <translation>Tap a card that is not a union card</translation>
    </message>
    <message>
        <source>Second supervisor&apos;s number</source>
        <translation>Second supervisor&apos;s number</translation>
    </message>
    <message>
        <source>Their PIN</source>
        <translation>Their PIN</translation>
    </message>
    <message>
        <source>Second supervisor&apos;s PIN</source>
        <translation>Second supervisor&apos;s PIN</translation>
    </message>
    <message>
        <source>A replacement needs a second supervisor: they type their number and PIN.</source>
        <translation>A replacement needs a second supervisor: they type their number and PIN.</translation>
    </message>
    <message>
        <source>The second supervisor&apos;s number or PIN is wrong.</source>
        <translation>The second supervisor&apos;s number or PIN is wrong.</translation>
    </message>
</context>
<context>
    <name>HomePage</name>
    <message>
        <source>Good day, %1</source>
        <translation>Good day, %1</translation>
    </message>
    <message>
        <source>No registry connection is set up; nothing waits to be sent.</source>
        <translation>No registry connection is set up; nothing waits to be sent.</translation>
    </message>
    <message numerus="yes">
        <source>%n status(es) wait; no registry connection is set up.</source>
        <translation>
            <numerusform>%n status waits; no registry connection is set up.</numerusform>
            <numerusform>%n statuses wait; no registry connection is set up.</numerusform>
        </translation>
    </message>
    <message>
        <source>Registry up to date: all statuses delivered.</source>
        <translation>Registry up to date: all statuses delivered.</translation>
    </message>
    <message numerus="yes">
        <source>%n waiting, registry unreachable since %1</source>
        <translation>
            <numerusform>%n waiting, registry unreachable since %1</numerusform>
            <numerusform>%n waiting, registry unreachable since %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n status(es) being sent to the registry…</source>
        <translation>
            <numerusform>%n status being sent to the registry…</numerusform>
            <numerusform>%n statuses being sent to the registry…</numerusform>
        </translation>
    </message>
    <message>
        <source>applications in the queue</source>
        <translation>applications in the queue</translation>
    </message>
    <message>
        <source>cards produced today</source>
        <translation>cards produced today</translation>
    </message>
    <message>
        <source>handed over today</source>
        <translation>handed over today</translation>
    </message>
    <message>
        <source>waiting for their member</source>
        <translation>waiting for their member</translation>
    </message>
    <message>
        <source>Printer: %1</source>
        <translation>Printer: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n blank card(s) in stock</source>
        <translation>
            <numerusform>%n blank card in stock</numerusform>
            <numerusform>%n blank cards in stock</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Ribbon left for %n card(s)</source>
        <translation>
            <numerusform>Ribbon left for %n card</numerusform>
            <numerusform>Ribbon left for %n cards</numerusform>
        </translation>
    </message>
    <message>
        <source>order a new ribbon</source>
        <translation>order a new ribbon</translation>
    </message>
    <message>
        <source>Make cards</source>
        <translation>Make cards</translation>
    </message>
    <message>
        <source>Hand a card over</source>
        <translation>Hand a card over</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>Union card station</source>
        <translation>Union card station</translation>
    </message>
</context>
<context>
    <name>QueuePage</name>
    <message numerus="yes">
        <source>Queue: %n application(s)</source>
        <translation>
            <numerusform>Queue: %n application</numerusform>
            <numerusform>Queue: %n applications</numerusform>
        </translation>
    </message>
    <message>
        <source>All organisations</source>
        <translation>All organisations</translation>
    </message>
    <message>
        <source>Organisation</source>
        <translation>Organisation</translation>
    </message>
    <message>
        <source>Search by name or number</source>
        <translation>Search by name or number</translation>
    </message>
    <message>
        <source>Held: %1</source>
        <translation>Held: %1</translation>
    </message>
    <message>
        <source>Preview of the card face for %1</source>
        <translation>Preview of the card face for %1</translation>
    </message>
    <message>
        <source>Choose an application to see its card</source>
        <translation>Choose an application to see its card</translation>
    </message>
    <message>
        <source>Cards in this batch</source>
        <translation>Cards in this batch</translation>
    </message>
    <message>
        <source>Fewer cards</source>
        <translation>Fewer cards</translation>
    </message>
    <message numerus="yes">
        <source>%n card(s) in the batch</source>
        <translation>
            <numerusform>%n card in the batch</numerusform>
            <numerusform>%n cards in the batch</numerusform>
        </translation>
    </message>
    <message>
        <source>More cards</source>
        <translation>More cards</translation>
    </message>
    <message numerus="yes">
        <source>Print %n card(s)</source>
        <translation>
            <numerusform>Print %n card</numerusform>
            <numerusform>Print %n cards</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ReportsPage</name>
    <message>
        <source>Reports</source>
        <translation>Reports</translation>
    </message>
    <message numerus="yes">
        <source>Today: %n card(s) produced</source>
        <translation>
            <numerusform>Today: %n card produced</numerusform>
            <numerusform>Today: %n cards produced</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n handed over</source>
        <translation>
            <numerusform>%n handed over</numerusform>
            <numerusform>%n handed over</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n waiting for handover</source>
        <translation>
            <numerusform>%n waiting for handover</numerusform>
            <numerusform>%n waiting for handover</numerusform>
        </translation>
    </message>
    <message>
        <source>By organisation: produced / handed over / spoiled / waiting</source>
        <translation>By organisation: produced / handed over / spoiled / waiting</translation>
    </message>
    <message numerus="yes">
        <source>Not handed over for more than %n day(s)</source>
        <translation>
            <numerusform>Not handed over for more than %n day</numerusform>
            <numerusform>Not handed over for more than %n days</numerusform>
        </translation>
    </message>
    <message>
        <source>Fewer days</source>
        <translation>Fewer days</translation>
    </message>
    <message>
        <source>More days</source>
        <translation>More days</translation>
    </message>
    <message>
        <source>since %1</source>
        <comment>a date</comment>
        <translation>since %1</translation>
    </message>
    <message>
        <source>None.</source>
        <translation>None.</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>Signed in: %1 (%2)</source>
        <translation>Signed in: %1 (%2)</translation>
    </message>
    <message>
        <source>Station: %1</source>
        <translation>Station: %1</translation>
    </message>
    <message>
        <source>This station runs in training mode: the printer and the cards are simulated and the statuses go to a training registry.</source>
        <translation>This station runs in training mode: the printer and the cards are simulated and the statuses go to a training registry.</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>Sign out</source>
        <translation>Sign out</translation>
    </message>
</context>
<context>
    <name>SignInPage</name>
    <message>
        <source>Sign in</source>
        <translation>Sign in</translation>
    </message>
    <message>
        <source>Operator number</source>
        <translation>Operator number</translation>
    </message>
    <message>
        <source>PIN</source>
        <translation>PIN</translation>
    </message>
    <message numerus="yes">
        <source>%n digit(s) of the PIN typed</source>
        <translation>
            <numerusform>%n digit of the PIN typed</numerusform>
            <numerusform>%n digits of the PIN typed</numerusform>
        </translation>
    </message>
    <message>
        <source>The operator number or the PIN is wrong. Try again.</source>
        <translation>The operator number or the PIN is wrong. Try again.</translation>
    </message>
    <message>
        <source>The card could not be read. Tap it again and hold it still.</source>
        <translation>The card could not be read. Tap it again and hold it still.</translation>
    </message>
    <message>
        <source>The desk reader is not available. Sign in with your PIN.</source>
        <translation>The desk reader is not available. Sign in with your PIN.</translation>
    </message>
    <message>
        <source>Waiting for the staff card… (cancel)</source>
        <translation>Waiting for the staff card… (cancel)</translation>
    </message>
    <message>
        <source>Sign in with the staff card</source>
        <translation>Sign in with the staff card</translation>
    </message>
    <message>
        <source>Training: tap the supervisor&apos;s staff card</source>
        <translation>Training: tap the supervisor&apos;s staff card</translation>
    </message>
    <message>
        <source>Type your operator number and PIN, or type your PIN and tap your staff card on the desk reader.</source>
        <translation>Type your operator number and PIN, or type your PIN and tap your staff card on the desk reader.</translation>
    </message>
    <message>
        <source>This card is not a staff card of this station, or the PIN is wrong.</source>
        <translation>This card is not a staff card of this station, or the PIN is wrong.</translation>
    </message>
    <message>
        <source>Type your PIN first, then tap your staff card.</source>
        <translation>Type your PIN first, then tap your staff card.</translation>
    </message>
    <message>
        <source>Too many wrong PINs. Wait a minute and try again.</source>
        <translation>Too many wrong PINs. Wait a minute and try again.</translation>
    </message>
    <message>
        <source>Too many wrong PINs: this operator is locked. Ask a supervisor to unlock it.</source>
        <translation>Too many wrong PINs: this operator is locked. Ask a supervisor to unlock it.</translation>
    </message>
</context>
<context>
    <name>StationShell</name>
    <message numerus="yes">
        <source>%n status(es) wait for the registry</source>
        <translation>
            <numerusform>%n status waits for the registry</numerusform>
            <numerusform>%n statuses wait for the registry</numerusform>
        </translation>
    </message>
    <message>
        <source>Union card station</source>
        <translation>Union card station</translation>
    </message>
    <message>
        <source>Home</source>
        <translation>Home</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>Queue</translation>
    </message>
    <message>
        <source>Batch</source>
        <translation>Batch</translation>
    </message>
    <message>
        <source>Handover</source>
        <translation>Handover</translation>
    </message>
    <message>
        <source>Reports</source>
        <translation>Reports</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
</context>
<context>
    <name>Texts</name>
    <message>
        <source>The feeder is empty. Load blank cards into the feeder.</source>
        <translation>The feeder is empty. Load blank cards into the feeder.</translation>
    </message>
    <message>
        <source>The ribbon is finished. Put in a new ribbon.</source>
        <translation>The ribbon is finished. Put in a new ribbon.</translation>
    </message>
    <message>
        <source>The printer&apos;s cover is open. Close the cover.</source>
        <translation>The printer&apos;s cover is open. Close the cover.</translation>
    </message>
    <message>
        <source>A card is stuck. Open the printer, take the card out, close it.</source>
        <translation>A card is stuck. Open the printer, take the card out, close it.</translation>
    </message>
    <message>
        <source>A card is left in the printer. It will be rejected.</source>
        <translation>A card is left in the printer. It will be rejected.</translation>
    </message>
    <message>
        <source>The printer does not answer. Check its power and cable.</source>
        <translation>The printer does not answer. Check its power and cable.</translation>
    </message>
    <message>
        <source>The printer is busy. Wait a moment.</source>
        <translation>The printer is busy. Wait a moment.</translation>
    </message>
    <message>
        <source>The encoder does not see the card. Call the supervisor.</source>
        <translation>The encoder does not see the card. Call the supervisor.</translation>
    </message>
    <message>
        <source>The printer reports a problem (%1). Call the supervisor.</source>
        <translation>The printer reports a problem (%1). Call the supervisor.</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Ready</translation>
    </message>
    <message>
        <source>Printing</source>
        <translation>Printing</translation>
    </message>
    <message>
        <source>Needs attention</source>
        <translation>Needs attention</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>Not connected</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <source>Taking a blank card</source>
        <translation>Taking a blank card</translation>
    </message>
    <message>
        <source>Writing the chip</source>
        <translation>Writing the chip</translation>
    </message>
    <message>
        <source>Checking the chip</source>
        <translation>Checking the chip</translation>
    </message>
    <message>
        <source>Printing the faces</source>
        <translation>Printing the faces</translation>
    </message>
    <message>
        <source>Ready for handover</source>
        <translation>Ready for handover</translation>
    </message>
    <message>
        <source>Handed over</source>
        <translation>Handed over</translation>
    </message>
    <message>
        <source>Refused</source>
        <translation>Refused</translation>
    </message>
    <message>
        <source>Spoiled</source>
        <translation>Spoiled</translation>
    </message>
    <message>
        <source>Lost</source>
        <translation>Lost</translation>
    </message>
    <message>
        <source>Revoked</source>
        <translation>Revoked</translation>
    </message>
    <message>
        <source>Replaced</source>
        <translation>Replaced</translation>
    </message>
    <message>
        <source>Supervisor</source>
        <translation>Supervisor</translation>
    </message>
    <message>
        <source>Auditor</source>
        <translation>Auditor</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Operator</translation>
    </message>
</context>
</TS>
