// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Layouts
import UnionCard.Ui

// Settings: the language, who is signed in, the station, signing out.
Rectangle {
    id: page
    objectName: "settingsPage"
    color: Theme.background
    readonly property QtObject languageController: language
    signal navigate(string page)

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacingLarge
        spacing: Theme.spacing
        PageTitle { text: qsTr("Settings"); Layout.fillWidth: true }
        BodyText {
            objectName: "whoText"
            Layout.fillWidth: true
            text: qsTr("Signed in: %1 (%2)").arg(station.session.operatorName)
                  .arg(Texts.role(station.session.role, language.language))
        }
        BodyText {
            Layout.fillWidth: true
            text: qsTr("Station: %1").arg(station.stationId)
        }
        BodyText {
            visible: station.training
            Layout.fillWidth: true
            color: Theme.training
            font.bold: true
            text: qsTr("This station runs in training mode: the printer and the cards are simulated and the statuses go to a training registry.")
        }
        BodyText { text: qsTr("Language"); font.bold: true }
        LanguageSwitch { language: page.languageController }
        Item { Layout.fillHeight: true }
        BigButton {
            objectName: "signOut"
            text: qsTr("Sign out")
            color: Theme.secondary
            onClicked: station.session.signOut()
        }
    }
}
