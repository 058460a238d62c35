// SPDX-License-Identifier: Apache-2.0
#pragma once

// A virtual MIFARE DESFire EV2 (or EV1, EV3), card side: native commands wrapped in ISO/IEC 7816-4
// APDUs (CLA 90, INS = native code, P1 = P2 = 00, Lc, data, Le = 00; the answer is data || 91 xx).
// Written from the public documents only (MF3DHx2 short datasheet, NXP AN12196, AN12343,
// AN10922; facts checked against libfreefare and proxmark3): no cardlib code, so that cardlib's
// client and this card are two independent readings of one protocol.
//
// What it implements:
//  - PICC and application management: GetVersion (60), GetCardUID (51), GetApplicationIDs (6A),
//    GetFileIDs (6F), GetFileSettings (F5, data files), GetKeySettings (45), GetKeyVersion (64),
//    FreeMemory (6E), FormatPICC (FC), SelectApplication (5A), CreateApplication (CA),
//    DeleteApplication (DA), ChangeKey (C4), ChangeKeySettings (54), SetConfiguration (5C, option
//    00 only).
//  - Standard (CD) and backup (CB) data files; ReadData (BD native, AD with ISO/IEC 14443-4
//    chaining), WriteData (3D native, 8D with ISO chaining; AD and 8D on EV2 and EV3 only),
//    CommitTransaction (C7), AbortTransaction (A7).
//  - Authentication: legacy Authenticate (0A, DES/2K3DES, D40 secure messaging), AuthenticateISO
//    (1A, 2K3DES/3K3DES, EV1 secure messaging), AuthenticateAES (AA, EV1 secure messaging),
//    AuthenticateEV2First (71) / AuthenticateEV2NonFirst (77) with EV2 secure messaging.
//  - The limits of a real card: a native frame carries at most 54 bytes of data (Lc), longer
//    commands travel in 91 AF frames or, for AD/8D on EV2 and EV3, ISO/IEC 14443-4 chaining;
//    anything longer is refused 91 7E. Responses come 59 bytes a frame. What it refuses, and the
//    source of each limit: docs/card-lab.md, "What the virtual card refuses".
//
// Card images. `save()` writes the card's non-volatile state, `load()` reads it back, so a card
// survives being taken off the reader. The file holds the card's KEYS IN CLEAR: this is a
// simulated card whose keys are test secrets, never a real card's. Format (all integers little
// endian), version 1:
//   "UCDESFIR"            8-byte magic
//   u8  format version    (1)
//   u8[7] UID
//   u32 capacity in bytes (2048, 4096 or 8192)
//   u8  flags             bit0 FormatPICC disabled, bit1 random UID enabled, bits 3-2 the
//                         generation (0 EV2, 1 EV1, 2 EV3), bits 7-4 zero
//   app PICC              the PICC level as application 000000 (layout below)
//   u8  number of applications, then that many apps
//   app:  u24 AID, u8 key settings, u8 key type (0 2K3DES, 1 3K3DES, 2 AES), u8 key count,
//         per key: u8 version, u8 length, bytes; u8 file count, per file: u8 file number,
//         u8 type (0 standard, 1 backup), u8 communication settings, u16 access rights,
//         u32 size, then `size` bytes of committed data.
// Uncommitted backup-file writes are volatile and are never saved (a real card loses them too).

#include <unioncard/sim/virtual_card.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace unioncard::sim {

/// The chip generation a virtual card answers as: its GetVersion major version (01, 12, 33) and
/// its command set (an EV1 knows no EV2 authentication, secure messaging or ISO-chained
/// ReadData/WriteData, and answers them 91 1C).
enum class DesfireGeneration { Ev1, Ev2, Ev3 };

class VirtualDesfire final : public VirtualCard {
public:
    /// Fills the span with random bytes. The card draws, in order: RndB at each authentication's
    /// first step, then the 4-byte TI at AuthenticateEV2First's second step, and 3 bytes for the
    /// random ID at power-on when random UID is enabled. Tests inject a scripted source to replay
    /// NXP's published examples byte for byte.
    using RandomSource = std::function<void(std::span<std::uint8_t>)>;

    struct Options {
        /// The 7-byte UID; when absent a random one starting 04 (NXP's manufacturer code).
        std::optional<std::array<std::uint8_t, 7>> uid;
        /// EEPROM size: 2048, 4096 or 8192 bytes.
        std::size_t capacity = 8192;
        /// Where randomness comes from; empty means OpenSSL's RAND_bytes.
        RandomSource random;
        DesfireGeneration generation = DesfireGeneration::Ev2;
    };

    /// A factory-fresh card: PICC master key 2K3DES all zero, version 0, key settings 0F, no
    /// applications.
    VirtualDesfire();
    explicit VirtualDesfire(Options options);
    ~VirtualDesfire() override;
    VirtualDesfire(const VirtualDesfire&) = delete;
    VirtualDesfire& operator=(const VirtualDesfire&) = delete;

    void powerOn() override;
    void powerOff() override;
    /// 3B 81 80 01 80 80: what a PC/SC reader builds for an ISO 14443-4 type A card (PC/SC
    /// part 3 §3.1.3.2.3.1: 3B 8n 80 01, the ATS historical bytes, TCK). DESFire's ATS carries
    /// one historical byte, 80, which is what readers report for real DESFire EV1/EV2 cards.
    Bytes atr() const override;
    Bytes transmit(std::span<const std::uint8_t> command) override;

    /// The UID a reader sees in anticollision: the 7-byte UID, or a 4-byte random ID starting
    /// 08 when random UID is enabled (ISO 14443-3 RID).
    Bytes uid() const override;
    /// The card's true 7-byte UID (what GetCardUID returns after authentication).
    std::array<std::uint8_t, 7> realUid() const;

    void setRandomSource(RandomSource random);

    /// Writes the card image atomically (temporary file, then rename). Returns false and fills
    /// `error` when it cannot.
    bool save(const std::filesystem::path& path, std::string* error = nullptr) const;
    /// Reads a card image; nullptr and `error` filled when the file is missing or malformed.
    static std::unique_ptr<VirtualDesfire> load(const std::filesystem::path& path,
                                                std::string* error = nullptr);

private:
    struct State;
    std::unique_ptr<State> m_state;
};

} // namespace unioncard::sim
