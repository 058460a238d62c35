// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import UnionCard.Ui

// The batch run: progress and time left, the card in the printer (face and step), spoiled
// cards with their reasons, pause, resume, cancel; a printer fault says what to do and the
// batch goes on by itself once it is fixed.
Rectangle {
    id: page
    objectName: "batchPage"
    color: Theme.background
    readonly property var batch: station.batch
    signal navigate(string page)

    function timeLeft(seconds) {
        if (seconds < 0) return qsTr("Time left: working it out…")
        if (seconds < 60) return qsTr("Time left: under a minute")
        return qsTr("Time left: about %n minute(s)", "", Math.round(seconds / 60))
    }

    RowLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacingLarge
        spacing: Theme.spacingLarge

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: Theme.spacing
            PageTitle {
                objectName: "batchTitle"
                Layout.fillWidth: true
                text: page.batch.running ? (page.batch.paused ? qsTr("Batch paused") : qsTr("Printing the batch"))
                      : page.batch.finished ? (page.batch.cancelled ? qsTr("Batch cancelled") : qsTr("Batch finished"))
                      : qsTr("No batch is running")
            }
            ProgressBar {
                objectName: "batchProgress"
                Layout.fillWidth: true
                Layout.preferredHeight: 32
                from: 0; to: 1
                value: page.batch.fraction
                Accessible.name: qsTr("Batch progress")
            }
            BodyText {
                objectName: "batchCounts"
                Layout.fillWidth: true
                font.pixelSize: Theme.fontLarge
                text: qsTr("%n card(s) made", "", page.batch.done) + " · "
                      + qsTr("%n spoiled", "", page.batch.spoiled) + " · "
                      + qsTr("%n left", "", page.batch.left)
            }
            BodyText {
                objectName: "batchTimeLeft"
                visible: page.batch.running
                text: page.timeLeft(page.batch.secondsLeft)
            }
            // A printer fault: what to do; the batch resumes by itself.
            Rectangle {
                objectName: "faultPanel"
                visible: page.batch.fault.length > 0
                Layout.fillWidth: true
                implicitHeight: faultColumn.implicitHeight + 2 * Theme.spacing
                radius: Theme.radius
                color: Theme.offline
                Accessible.role: Accessible.AlertMessage
                Accessible.name: faultText.text
                ColumnLayout {
                    id: faultColumn
                    anchors.fill: parent
                    anchors.margins: Theme.spacing
                    Text {
                        id: faultText
                        objectName: "faultText"
                        text: Texts.fault(page.batch.fault, language.language)
                        color: Theme.textOnDark
                        font.family: Theme.fontFamily
                        font.pixelSize: Theme.fontLarge
                        font.bold: true
                        wrapMode: Text.WordWrap
                        Layout.fillWidth: true
                    }
                    Text {
                        text: qsTr("The batch goes on by itself once this is fixed.")
                        color: Theme.textOnDark
                        font.family: Theme.fontFamily
                        font.pixelSize: Theme.fontBody
                        wrapMode: Text.WordWrap
                        Layout.fillWidth: true
                    }
                }
            }
            BodyText {
                objectName: "batchError"
                visible: page.batch.error.length > 0
                color: Theme.offline
                font.bold: true
                Layout.fillWidth: true
                text: page.batch.error === "no_printer" ? qsTr("The printer cannot be reached. Check its power and cable, then start again.")
                      : page.batch.error === "keys" ? qsTr("The card keys cannot be used. Call the supervisor.")
                      : qsTr("The station's file cannot be written. Call the supervisor.")
            }
            BodyText {
                visible: page.batch.spoiledCards.length > 0
                text: qsTr("Spoiled cards: put them in the box for destruction")
                font.bold: true
            }
            ListView {
                objectName: "spoiledList"
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: page.batch.spoiledCards
                delegate: BodyText {
                    required property var modelData
                    width: ListView.view.width
                    text: modelData.number + ": " + modelData.reason + " (" + modelData.fate + ")"
                    font.pixelSize: Theme.fontSmall
                }
            }
            RowLayout {
                spacing: Theme.spacing
                BigButton {
                    objectName: "pauseButton"
                    visible: page.batch.running
                    text: page.batch.paused ? qsTr("Resume") : qsTr("Pause")
                    onClicked: page.batch.paused ? page.batch.resume() : page.batch.pause()
                }
                BigButton {
                    objectName: "cancelButton"
                    visible: page.batch.running
                    text: qsTr("Cancel the batch")
                    color: Theme.offline
                    onClicked: page.batch.cancel()
                }
                BigButton {
                    objectName: "doneButton"
                    visible: !page.batch.running
                    text: qsTr("Back to the queue")
                    onClicked: { page.batch.clear(); page.navigate("queue") }
                }
            }
        }

        ColumnLayout {
            Layout.preferredWidth: 480
            Layout.alignment: Qt.AlignTop
            spacing: Theme.spacing
            Image {
                objectName: "currentFace"
                Layout.preferredWidth: 480
                Layout.preferredHeight: 303
                fillMode: Image.PreserveAspectFit
                source: page.batch.currentFace
                sourceSize.width: 960
                cache: false
                Accessible.role: Accessible.Graphic
                Accessible.name: qsTr("The card being made")
                Rectangle {
                    anchors.fill: parent
                    visible: page.batch.currentFace.length === 0
                    color: Theme.surfaceAlt
                    radius: Theme.radius
                }
            }
            BodyText {
                objectName: "currentCard"
                visible: page.batch.currentNumber.length > 0
                Layout.fillWidth: true
                font.pixelSize: Theme.fontLarge
                text: page.batch.currentNumber + "\n" + page.batch.currentName
            }
            BodyText {
                objectName: "currentStep"
                Layout.fillWidth: true
                font.bold: true
                text: Texts.step(page.batch.currentStep, language.language)
            }
        }
    }
}
