// SPDX-License-Identifier: Apache-2.0
#pragma once

// A distinct sound per verdict class: a rising double beep for valid, a low long buzz for not
// valid, two even mid tones for "cannot confirm offline". The tones are written as WAV files
// at start (no audio assets in the repository) and played through Qt Multimedia when the
// build has it; without it, or with no audio device, the desk is silent.

#include <QObject>
#include <QString>
#include <QTemporaryDir>
#include <map>
#include <memory>

class QSoundEffect;

namespace unioncard::verifier::ui {

/// The WAV bytes of a tone sequence: (frequency in Hz, milliseconds) pairs, 0 Hz a pause.
QByteArray toneWav(const std::vector<std::pair<int, int>>& tones, int sampleRate = 22050);

class Sounds : public QObject {
    Q_OBJECT
public:
    explicit Sounds(QObject* parent = nullptr);
    ~Sounds() override;
    /// "valid", "invalid" or "unknown".
    Q_INVOKABLE void play(const QString& verdictClass);

private:
    QTemporaryDir m_dir;
    std::map<QString, QSoundEffect*> m_effects;
};

} // namespace unioncard::verifier::ui
