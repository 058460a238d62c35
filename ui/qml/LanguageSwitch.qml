// SPDX-License-Identifier: Apache-2.0
import QtQuick

// Switches the language at runtime: shows the language it switches TO, in that language.
BigButton {
    id: control
    required property QtObject language   // a unioncard::ui::LanguageController
    objectName: "languageSwitch"
    text: language.language === "ru" ? "English" : "Русский"
    Accessible.name: language.language === "ru" ? "Switch to English" : "Переключить на русский"
    color: Theme.secondary
    fontSize: Theme.fontBody
    implicitHeight: Theme.touchTarget - 8
    onClicked: language.setLanguage(language.language === "ru" ? "en" : "ru")
}
