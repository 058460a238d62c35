// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import UnionCard.Ui
import UnionCard.Verifier
import UnionCardTest

// A shop desk: yes or no, the masked number, nothing else.
TestCase {
    id: test
    name: "MerchantMode"
    width: 1280; height: 800
    when: windowShown
    visible: true

    Component { id: mainPage; Main { language: Harness.language } }

    function test_yesOrNoAndTheMaskedNumberOnly() {
        Harness.language.setLanguage("ru")
        const controller = Harness.newDesk("merchant")
        const page = createTemporaryObject(mainPage, test, { controller: controller })
        waitForRendering(page)
        compare(controller.mode, "merchant")
        let before = controller.tapCount
        Harness.tap("valid")
        tryCompare(controller, "tapCount", before + 1, 10000)
        compare(findChild(page, "headline").text, "Да: член профсоюза, взносы в порядке")
        const number = findChild(page, "cardNumber").text
        compare(number, controller.maskedNumber)
        verify(number.indexOf("0000 0015") < 0, "the number is masked: " + number)
        verify(number.endsWith("0015"), number)
        verify(!findChild(page, "memberName").visible)
        verify(!findChild(page, "expires").visible)
        verify(!findChild(page, "liveCount").visible)
        compare(controller.formattedNumber, "")

        before = controller.tapCount
        Harness.tap("revoked")
        tryCompare(controller, "tapCount", before + 1, 10000)
        compare(findChild(page, "headline").text, "Нет: не подтверждено членство в профсоюзе")
    }
}
