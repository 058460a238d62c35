// SPDX-License-Identifier: Apache-2.0
#include "sounds.hpp"

#include <QFile>
#include <QUrl>
#include <QtEndian>
#include <cmath>
#include <numbers>

#if UNIONCARD_WITH_MULTIMEDIA
#include <QSoundEffect>
#endif

namespace unioncard::verifier::ui {

namespace {

void put32(QByteArray& out, quint32 v) {
    const quint32 le = qToLittleEndian(v);
    out.append(reinterpret_cast<const char*>(&le), 4);
}

void put16(QByteArray& out, quint16 v) {
    const quint16 le = qToLittleEndian(v);
    out.append(reinterpret_cast<const char*>(&le), 2);
}

} // namespace

QByteArray toneWav(const std::vector<std::pair<int, int>>& tones, int sampleRate) {
    QByteArray pcm;
    for (const auto& [frequency, ms] : tones) {
        const int samples = sampleRate * ms / 1000;
        const int fade = std::min(samples / 4, sampleRate / 200); // 5 ms: no clicks
        for (int i = 0; i < samples; ++i) {
            double v = 0;
            if (frequency > 0) {
                const double envelope =
                    std::min({1.0, static_cast<double>(i) / std::max(fade, 1),
                              static_cast<double>(samples - i) / std::max(fade, 1)});
                v = 0.5 * envelope *
                    std::sin(2 * std::numbers::pi * frequency * i /
                             static_cast<double>(sampleRate));
            }
            put16(pcm, static_cast<quint16>(static_cast<qint16>(v * 32767)));
        }
    }
    QByteArray wav("RIFF");
    put32(wav, static_cast<quint32>(36 + pcm.size()));
    wav.append("WAVEfmt ");
    put32(wav, 16);
    put16(wav, 1); // PCM
    put16(wav, 1); // mono
    put32(wav, static_cast<quint32>(sampleRate));
    put32(wav, static_cast<quint32>(sampleRate * 2));
    put16(wav, 2);
    put16(wav, 16);
    wav.append("data");
    put32(wav, static_cast<quint32>(pcm.size()));
    return wav + pcm;
}

Sounds::Sounds(QObject* parent) : QObject(parent) {
    const std::map<QString, std::vector<std::pair<int, int>>> tones = {
        {QStringLiteral("valid"), {{880, 90}, {0, 30}, {1320, 140}}},
        {QStringLiteral("invalid"), {{220, 450}}},
        {QStringLiteral("unknown"), {{660, 160}, {0, 90}, {660, 160}}},
    };
    for (const auto& [name, sequence] : tones) {
        const QString file = m_dir.filePath(name + QStringLiteral(".wav"));
        QFile out(file);
        if (!out.open(QIODevice::WriteOnly))
            continue;
        out.write(toneWav(sequence));
        out.close();
#if UNIONCARD_WITH_MULTIMEDIA
        auto* effect = new QSoundEffect(this);
        effect->setSource(QUrl::fromLocalFile(file));
        effect->setVolume(0.8f);
        m_effects[name] = effect;
#endif
    }
}

Sounds::~Sounds() = default;

void Sounds::play(const QString& verdictClass) {
    const auto it = m_effects.find(verdictClass);
#if UNIONCARD_WITH_MULTIMEDIA
    if (it != m_effects.end())
        it->second->play();
#else
    (void)it;
#endif
}

} // namespace unioncard::verifier::ui
