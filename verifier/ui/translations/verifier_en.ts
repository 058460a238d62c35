<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_GB">
<context>
    <name>EventsPage</name>
    <message>
        <source>once per event</source>
        <translation>once per event</translation>
    </message>
    <message>
        <source>once a day</source>
        <translation>once a day</translation>
    </message>
    <message>
        <source>every tap counts</source>
        <translation>every tap counts</translation>
    </message>
    <message>
        <source>Desk mode</source>
        <translation>Desk mode</translation>
    </message>
    <message>
        <source>Event check-in</source>
        <translation>Event check-in</translation>
    </message>
    <message>
        <source>Shop: yes or no only</source>
        <translation>Shop: yes or no only</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Event</translation>
    </message>
    <message>
        <source>This desk has no events yet: sync with the registry or create one with unioncard-verifier event create.</source>
        <translation>This desk has no events yet: sync with the registry or create one with unioncard-verifier event create.</translation>
    </message>
    <message numerus="yes">
        <source>%n checked in</source>
        <translation>
            <numerusform>%n checked in</numerusform>
            <numerusform>%n checked in</numerusform>
        </translation>
    </message>
    <message>
        <source>Back</source>
        <translation>Back</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>No status list: offline answers cannot confirm</source>
        <translation>No status list: offline answers cannot confirm</translation>
    </message>
    <message>
        <source>Status list: %1 old</source>
        <translation>Status list: %1 old</translation>
    </message>
    <message>
        <source>Shop desk</source>
        <translation>Shop desk</translation>
    </message>
    <message>
        <source>Reader: %1</source>
        <translation>Reader: %1</translation>
    </message>
</context>
<context>
    <name>ManualEntryPage</name>
    <message>
        <source>The number is complete. Press Check.</source>
        <translation>The number is complete. Press Check.</translation>
    </message>
    <message numerus="yes">
        <source>%n of 16 digits</source>
        <translation>
            <numerusform>%n of 16 digits</numerusform>
            <numerusform>%n of 16 digits</numerusform>
        </translation>
    </message>
    <message>
        <source>A digit is wrong: the check digit does not match. Compare each group with the card.</source>
        <translation>A digit is wrong: the check digit does not match. Compare each group with the card.</translation>
    </message>
    <message>
        <source>Union card numbers start with 9643.</source>
        <translation>Union card numbers start with 9643.</translation>
    </message>
    <message>
        <source>Digits 5 and 6 name no region: check them.</source>
        <translation>Digits 5 and 6 name no region: check them.</translation>
    </message>
    <message>
        <source>Too many digits.</source>
        <translation>Too many digits.</translation>
    </message>
    <message>
        <source>Type the card number</source>
        <translation>Type the card number</translation>
    </message>
    <message>
        <source>The 16 digits on the front of the card, below the photo.</source>
        <translation>The 16 digits on the front of the card, below the photo.</translation>
    </message>
    <message>
        <source>Number typed: %1</source>
        <translation>Number typed: %1</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>Back</translation>
    </message>
</context>
<context>
    <name>TapPage</name>
    <message>
        <source>Tap the card</source>
        <translation>Tap the card</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <source>Cannot confirm offline</source>
        <translation>Cannot confirm offline</translation>
    </message>
    <message>
        <source>Yes: member in good standing</source>
        <translation>Yes: member in good standing</translation>
    </message>
    <message>
        <source>Valid</source>
        <translation>Valid</translation>
    </message>
    <message>
        <source>Already checked in</source>
        <translation>Already checked in</translation>
    </message>
    <message>
        <source>No: not a member in good standing</source>
        <translation>No: not a member in good standing</translation>
    </message>
    <message>
        <source>Not valid</source>
        <translation>Not valid</translation>
    </message>
    <message>
        <source>The number is in good standing. The card itself was not seen: compare the name with an ID if in doubt.</source>
        <translation>The number is in good standing. The card itself was not seen: compare the name with an ID if in doubt.</translation>
    </message>
    <message>
        <source>QR only: the chip was not checked, so this may be a photo of the card. Compare the face and name with the person.</source>
        <translation>QR only: the chip was not checked, so this may be a photo of the card. Compare the face and name with the person.</translation>
    </message>
    <message>
        <source>This desk checks the card&apos;s chip, not its QR. Hold the card on the reader.</source>
        <translation>This desk checks the card&apos;s chip, not its QR. Hold the card on the reader.</translation>
    </message>
    <message>
        <source>Checked with the registry just now.</source>
        <translation>Checked with the registry just now.</translation>
    </message>
    <message>
        <source>Checked against the status list on this device.</source>
        <translation>Checked against the status list on this device.</translation>
    </message>
    <message>
        <source>Checked in at %1 at desk %2.</source>
        <translation>Checked in at %1 at desk %2.</translation>
    </message>
    <message>
        <source>The card has been cancelled (lost, replaced or membership ended). Keep it and call staff.</source>
        <translation>The card has been cancelled (lost, replaced or membership ended). Keep it and call staff.</translation>
    </message>
    <message>
        <source>The membership is suspended. Ask the member to contact their union office.</source>
        <translation>The membership is suspended. Ask the member to contact their union office.</translation>
    </message>
    <message>
        <source>The card has expired. The member can get a new one at the union office.</source>
        <translation>The card has expired. The member can get a new one at the union office.</translation>
    </message>
    <message>
        <source>The card is not valid yet.</source>
        <translation>The card is not valid yet.</translation>
    </message>
    <message>
        <source>The card's data has been altered: it is not genuine. Call staff.</source>
        <translation>The card's data has been altered: it is not genuine. Call staff.</translation>
    </message>
    <message>
        <source>The card was not issued by a station this desk trusts. Call staff.</source>
        <translation>The card was not issued by a station this desk trusts. Call staff.</translation>
    </message>
    <message>
        <source>The chip failed its check: the card may be a copy. Call staff.</source>
        <translation>The chip failed its check: the card may be a copy. Call staff.</translation>
    </message>
    <message>
        <source>This is not a union card.</source>
        <translation>This is not a union card.</translation>
    </message>
    <message>
        <source>The card could not be read. Hold it still on the reader and try again.</source>
        <translation>The card could not be read. Hold it still on the reader and try again.</translation>
    </message>
    <message>
        <source>The card is genuine, but its status cannot be checked here. Check it online or ask staff.</source>
        <translation>The card is genuine, but its status cannot be checked here. Check it online or ask staff.</translation>
    </message>
    <message>
        <source>Valid until %1</source>
        <translation>Valid until %1</translation>
    </message>
    <message>
        <source>Hold the member's card flat on the reader. Only yes or no is shown.</source>
        <translation>Hold the member's card flat on the reader. Only yes or no is shown.</translation>
    </message>
    <message>
        <source>Hold the card flat on the reader until the screen changes colour.</source>
        <translation>Hold the card flat on the reader until the screen changes colour.</translation>
    </message>
    <message numerus="yes">
        <source>%n checked in</source>
        <translation>
            <numerusform>%n checked in</numerusform>
            <numerusform>%n checked in</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n repeat tap(s)</source>
        <translation>
            <numerusform>%n repeat tap</numerusform>
            <numerusform>%n repeat taps</numerusform>
        </translation>
    </message>
    <message>
        <source>Event and mode</source>
        <translation>Event and mode</translation>
    </message>
    <message>
        <source>Type the number</source>
        <translation>Type the number</translation>
    </message>
    <message>
        <source>Training: put a simulated card on the reader:</source>
        <translation>Training: put a simulated card on the reader:</translation>
    </message>
    <message>
        <source>Valid card</source>
        <translation>Valid card</translation>
    </message>
    <message>
        <source>Another valid card</source>
        <translation>Another valid card</translation>
    </message>
    <message>
        <source>Cancelled card</source>
        <translation>Cancelled card</translation>
    </message>
    <message>
        <source>Expired card</source>
        <translation>Expired card</translation>
    </message>
    <message>
        <source>Card newer than the list</source>
        <translation>Card newer than the list</translation>
    </message>
    <message>
        <source>Copied card</source>
        <translation>Copied card</translation>
    </message>
    <message>
        <source>Not a union card</source>
        <translation>Not a union card</translation>
    </message>
    <message>
        <source>No cancellation is listed for this number, but a typed number can be confirmed only online. Ask for the card.</source>
        <translation>No cancellation is listed for this number, but a typed number can be confirmed only online. Ask for the card.</translation>
    </message>
</context>
</TS>
