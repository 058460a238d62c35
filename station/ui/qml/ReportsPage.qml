// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts
import UnionCard.Ui

// Reports: today by organisation, and cards waiting for their member for more than N days.
Rectangle {
    id: page
    objectName: "reportsPage"
    color: Theme.background
    readonly property var reports: station.reports
    signal navigate(string page)

    Component.onCompleted: reports.refresh()

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacingLarge
        spacing: Theme.spacing

        PageTitle { text: qsTr("Reports"); Layout.fillWidth: true }
        BodyText {
            objectName: "reportTotals"
            Layout.fillWidth: true
            font.pixelSize: Theme.fontLarge
            text: qsTr("Today: %n card(s) produced", "", page.reports.producedToday) + ", "
                  + qsTr("%n handed over", "", page.reports.handedOverToday) + "; "
                  + qsTr("%n waiting for handover", "", page.reports.waiting)
        }
        BodyText { text: qsTr("By organisation: produced / handed over / spoiled / waiting"); font.bold: true }
        ListView {
            objectName: "byOrganisation"
            Layout.fillWidth: true
            Layout.preferredHeight: 260
            clip: true
            model: page.reports.byOrganisation
            delegate: RowLayout {
                required property var modelData
                width: ListView.view.width
                height: Theme.touchTarget
                BodyText { text: modelData.organisation.length > 0 ? modelData.organisation : "—"; Layout.fillWidth: true; elide: Text.ElideRight; wrapMode: Text.NoWrap }
                BodyText { text: language.formatNumber(modelData.produced); Layout.preferredWidth: 80 }
                BodyText { text: language.formatNumber(modelData.handedOver); Layout.preferredWidth: 80 }
                BodyText { text: language.formatNumber(modelData.spoiled); Layout.preferredWidth: 80 }
                BodyText { text: language.formatNumber(modelData.waiting); Layout.preferredWidth: 80 }
            }
        }
        RowLayout {
            spacing: Theme.spacing
            BodyText {
                objectName: "lateTitle"
                font.bold: true
                text: qsTr("Not handed over for more than %n day(s)", "", page.reports.days)
            }
            BigButton {
                objectName: "fewerDays"
                text: "−"
                Accessible.name: qsTr("Fewer days")
                color: Theme.secondary
                enabled: page.reports.days > 0
                onClicked: page.reports.days = Math.max(0, page.reports.days - 7)
            }
            BigButton {
                objectName: "moreDays"
                text: "+"
                Accessible.name: qsTr("More days")
                color: Theme.secondary
                onClicked: page.reports.days = page.reports.days + 7
            }
        }
        ListView {
            objectName: "lateList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: page.reports.notHandedOver
            delegate: BodyText {
                required property var modelData
                width: ListView.view.width
                text: modelData.number + "  " + modelData.name + " — " + modelData.organisation + " ("
                      + qsTr("since %1", "a date").arg(language.formatDate(modelData.producedAt)) + ")"
            }
            BodyText {
                anchors.top: parent.top
                visible: page.reports.notHandedOver.length === 0
                text: qsTr("None.")
            }
        }
    }
}
