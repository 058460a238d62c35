// SPDX-License-Identifier: Apache-2.0
// The card side of MIFARE DESFire EV2. Sources: MF3DHx2 short-form datasheet (command codes,
// status codes, key settings, access rights), NT4H2421Gx §9 and AN12196 (EV2 secure messaging,
// worked examples), AN12343 (EV2 session keys), libfreefare mifare_desfire.c and proxmark3
// desfirecore.c / desfiresecurechan.c (legacy and EV1 message layouts). Where they are silent
// the choice is marked "GUESS:" with the reason.
#include "desfire_card_data.hpp"
#include "desfire_crypto.hpp"

#include <unioncard/sim/virtual_desfire.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <limits>
#include <variant>

namespace unioncard::sim {

using namespace detail;

namespace {

// Native status codes (MF3DHx2 datasheet, "Status and error codes").
enum Status : std::uint8_t {
    kOk = 0x00,
    kOutOfEeprom = 0x0E,
    kIllegalCommand = 0x1C,
    kIntegrityError = 0x1E,
    kNoSuchKey = 0x40,
    kLengthError = 0x7E,
    kPermissionDenied = 0x9D,
    kParameterError = 0x9E,
    kAppNotFound = 0xA0,
    kAuthError = 0xAE,
    kAdditionalFrame = 0xAF,
    kBoundaryError = 0xBE,
    kCommandAborted = 0xCA,
    kCountError = 0xCE,
    kDuplicate = 0xDE,
    kFileNotFound = 0xF0,
};

// Native command codes (MF3DHx2 datasheet, command set).
enum Command : std::uint8_t {
    kAuthLegacy = 0x0A,
    kAuthIso = 0x1A,
    kAuthAes = 0xAA,
    kAuthEv2First = 0x71,
    kAuthEv2NonFirst = 0x77,
    kChangeKeySettings = 0x54,
    kSetConfiguration = 0x5C,
    kChangeKey = 0xC4,
    kGetKeySettings = 0x45,
    kGetKeyVersion = 0x64,
    kCreateApplication = 0xCA,
    kDeleteApplication = 0xDA,
    kGetApplicationIds = 0x6A,
    kFreeMemory = 0x6E,
    kFormatPicc = 0xFC,
    kGetVersion = 0x60,
    kGetCardUid = 0x51,
    kSelectApplication = 0x5A,
    kGetFileIds = 0x6F,
    kGetFileSettings = 0xF5,
    kCreateStdDataFile = 0xCD,
    kCreateBackupDataFile = 0xCB,
    kReadData = 0xBD,
    kReadData2 = 0xAD,
    kWriteData = 0x3D,
    kWriteData2 = 0x8D,
    kCommitTransaction = 0xC7,
    kAbortTransaction = 0xA7,
    kContinue = 0xAF,
};

// Frame limits of the ISO/IEC 7816-4 wrapping. A native command (its code and data) is at most
// 55 bytes, so a wrapped APDU carries Lc <= 54; a response frame carries at most 59 bytes of
// data before its status. Longer data travel in 91 AF frames (native chaining) or, for the EV2
// commands that take it, ISO/IEC 14443-4 chaining. Sources: NXP reader library
// (phalMfdfEVx_Int.h, PHAL_MFDFEVX_MAXWRAPPEDAPDU_SIZE 0x37 "maximum size of wrapped APDU 55
// bytes", checked against the command code and its data); libfreefare mifare_desfire.c
// (MAX_CAPDU_SIZE 55 and MAX_RAPDU_SIZE 60, quoting the DESFire functional specification: "the
// length of the total wrapped DESFire command is not longer than 55 byte long"); proxmark3
// client/src/mifare/desfirecore.h (DESFIRE_TX_FRAME_MAX_LEN 54, the Lc of each frame it sends).
constexpr std::size_t kMaxCommandData = 54;
constexpr std::size_t kMaxFrameData = 59;
constexpr std::size_t kMaxApplications = 28; // MF3DHx2: up to 28 applications
constexpr std::size_t kAppOverhead = 64;     // GUESS: EEPROM an application costs by itself
constexpr std::size_t kAllocationUnit = 32;  // MF3DHx2: file sizes are allocated in 32-byte blocks

enum class Sm { None, D40, Ev1, Ev2 };

// How a command's data and answer are protected: Plain, Mgmt (the management commands: MACed in
// EV2, CMAC-chained in EV1, plain in D40; proxmark3 AllowedChannelModes), Mac and Full (per file
// communication settings), FullRaw (decrypt only: ChangeKey checks its own CRCs).
enum class Comm { Plain, Mgmt, Mac, Full, FullRaw };

struct Session {
    Sm sm = Sm::None;
    std::uint8_t keyNo = 0;
    Cipher cipher = Cipher::Aes;
    Bytes sesEnc;
    Bytes sesMac;
    Bytes iv; // EV1: the chained IV
    Bytes ti; // EV2: transaction identifier
    std::uint16_t ctr = 0;

    void wipe() {
        OPENSSL_cleanse(sesEnc.data(), sesEnc.size());
        OPENSSL_cleanse(sesMac.data(), sesMac.size());
        *this = Session{};
    }
};

struct PendingAuth {
    std::uint8_t cmd = 0;
    std::uint8_t keyNo = 0;
    Cipher cipher = Cipher::Aes;
    Bytes key;
    Bytes rndB;
    Bytes iv;
    Bytes pcdCap;
    Bytes ti; // NonFirst keeps the old TI and counter
    std::uint16_t ctr = 0;
};

struct PendingInput {
    std::uint8_t cmd = 0;
    Bytes data;
    std::size_t expected = 0;
};

struct Reply {
    std::uint8_t status = kOk;
    Bytes data;
    std::vector<std::size_t> frames; // explicit sizes of the first frames (GetVersion)
    // The whole answer in one response: ISO/IEC 14443-4 chaining, which the reader reassembles
    // (ReadData 0xAD), instead of 91 AF frames.
    bool isoChained = false;
};

Reply error(std::uint8_t status) {
    return Reply{status, {}, {}};
}

struct Unwrapped {
    std::uint8_t status = kOk;
    Bytes header;
    Bytes payload;
};

std::uint32_t le24(ByteView b, std::size_t at) {
    return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8) |
           (static_cast<std::uint32_t>(b[at + 2]) << 16);
}

void putLe24(Bytes& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v >> 16));
}

void putLe(Bytes& out, std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

Bytes concat(ByteView a, ByteView b) {
    Bytes out(a.begin(), a.end());
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

std::uint8_t cryptoBits(Cipher c) {
    // CreateApplication key settings 2 / GetKeySettings: bits 7..6 select the crypto.
    switch (c) {
    case Cipher::Tdes2k:
        return 0x00;
    case Cipher::Tdes3k:
        return 0x40;
    case Cipher::Aes:
        return 0x80;
    }
    return 0x00;
}

// DES keys carry their version in the parity bits (bit 0) of the first 8 bytes, most
// significant first (MF3ICDx1 datasheet "GetKeyVersion"; proxmark3 DesfireDESKeySetVersion).
std::uint8_t desKeyVersion(ByteView key) {
    std::uint8_t v = 0;
    for (std::size_t i = 0; i < 8; ++i)
        v = static_cast<std::uint8_t>((v << 1) | (key[i] & 1));
    return v;
}

// A 2K3DES key whose halves are equal (parity bits ignored) is a single-DES key.
bool isSingleDes(ByteView key) {
    if (key.size() != 16)
        return false;
    for (std::size_t i = 0; i < 8; ++i)
        if ((key[i] & 0xFE) != (key[i + 8] & 0xFE))
            return false;
    return true;
}

std::size_t roundUp(std::size_t n, std::size_t unit) {
    return (n + unit - 1) / unit * unit;
}

} // namespace

struct VirtualDesfire::State {
    CardData card;
    RandomSource random;

    // Volatile state: lost at powerOff.
    bool powered = true;
    std::uint32_t selected = 0;
    Session session;
    std::optional<PendingAuth> auth;
    std::optional<PendingInput> input;
    std::deque<Bytes> outFrames;
    std::uint8_t finalStatus = kOk;
    Bytes randomId;
    std::uint8_t cmd = 0; // the command being executed

    // ---- helpers -------------------------------------------------------------------------

    void fillRandom(std::span<std::uint8_t> out) {
        if (random) {
            random(out);
            return;
        }
        if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
            std::terminate(); // no entropy: nothing sensible a card can answer
    }

    Bytes randomBytes(std::size_t n) {
        Bytes out(n);
        fillRandom(out);
        return out;
    }

    Application* selectedApp() {
        if (selected == 0)
            return &card.picc;
        auto it = card.apps.find(selected);
        return it == card.apps.end() ? nullptr : &it->second;
    }

    void resetSession() {
        session.wipe();
        if (auth) {
            OPENSSL_cleanse(auth->key.data(), auth->key.size());
            auth.reset();
        }
    }

    void discardTransactions() {
        for (auto& [aid, app] : card.apps)
            for (auto& [no, file] : app.files)
                file.pending.reset();
    }

    void dropVolatile() {
        resetSession();
        input.reset();
        outFrames.clear();
        discardTransactions();
        selected = 0;
    }

    bool authedWith(std::uint8_t keyNo) const {
        return session.sm != Sm::None && session.keyNo == keyNo;
    }

    std::size_t freeMemory() const {
        // GUESS: 1/16 of the EEPROM is system area (an 8 KB EV2 reports about 7.5 KB free).
        const std::size_t usable = card.capacity - card.capacity / 16;
        std::size_t used = 0;
        for (const auto& [aid, app] : card.apps) {
            used += kAppOverhead;
            for (const auto& [no, file] : app.files)
                used += roundUp(file.data.size(), kAllocationUnit) *
                        (file.type == FileType::Backup ? 2 : 1);
        }
        return used >= usable ? 0 : usable - used;
    }

    // ---- secure messaging: D40 (legacy) ----------------------------------------------------
    // The D40 host only ever deciphers (MF3ICD40 can only encipher): the card undoes the host's
    // "send mode" with P_i = E(C_i) ^ C_(i-1), IV zero for every message (libfreefare
    // mifare_cypher_single_block, MCD_SEND with AS_LEGACY; proxmark3 DesfireCryptoEncDecEx).
    Bytes d40Receive(ByteView enc) const {
        Bytes out;
        Bytes prev(8, 0);
        for (std::size_t i = 0; i + 8 <= enc.size(); i += 8) {
            ByteView block = enc.subspan(i, 8);
            Bytes p = ecb(session.cipher, session.sesEnc, block, true);
            for (std::size_t j = 0; j < 8; ++j)
                p[j] ^= prev[j];
            out.insert(out.end(), p.begin(), p.end());
            prev.assign(block.begin(), block.end());
        }
        return out;
    }

    Bytes d40Mac(ByteView data) const {
        Bytes padded(data.begin(), data.end());
        padded.resize(roundUp(std::max<std::size_t>(padded.size(), 1), 8), 0x00);
        Bytes c = cbc(session.cipher, session.sesEnc, Bytes(8, 0), padded, true);
        return Bytes(c.end() - 8, c.end() - 4);
    }

    // ---- secure messaging: the command side -------------------------------------------------

    /// Verifies and strips the protection of a command's data. `hdrLen` bytes of header travel
    /// in clear; `plainLen` is the length of the enciphered plaintext where D40/EV1 need it to
    /// find the CRC; `hostMac` says whether a D40/EV1 host appends a MAC (only writes do:
    /// proxmark3 EV1D40TransmitMAC).
    // Unwraps a command whose header (`hdrLen` bytes) must be complete and whose data part
    // must be exactly `payloadLength` bytes: kOk, or the status to answer.
    std::uint8_t unwrapExact(ByteView data, Unwrapped& u, std::size_t payloadLength,
                             std::size_t hdrLen = 0, Comm mode = Comm::Mgmt) {
        u = unwrap(data, hdrLen, mode);
        if (u.status != kOk)
            return u.status;
        if (u.header.size() != hdrLen || u.payload.size() != payloadLength)
            return kLengthError;
        return kOk;
    }

    Unwrapped unwrap(ByteView data, std::size_t hdrLen, Comm mode, std::size_t plainLen = 0,
                     bool hostMac = false) {
        Unwrapped u;
        auto split = [&](ByteView body) {
            const std::size_t h = std::min(hdrLen, body.size());
            u.header.assign(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(h));
            u.payload.assign(body.begin() + static_cast<std::ptrdiff_t>(h), body.end());
        };
        const Bytes cmdAndData = concat(Bytes{cmd}, data);

        switch (session.sm) {
        case Sm::None:
            split(data);
            return u;

        case Sm::D40: {
            if (mode == Comm::Mac && hostMac) {
                if (data.size() < hdrLen + 4)
                    return {kLengthError, {}, {}};
                ByteView body = data.first(data.size() - 4);
                if (!equalConstantTime(d40Mac(body.subspan(hdrLen)), data.last(4)))
                    return {kIntegrityError, {}, {}};
                split(body);
                return u;
            }
            if ((mode != Comm::Full && mode != Comm::FullRaw) || data.size() <= hdrLen) {
                split(data);
                return u;
            }
            ByteView enc = data.subspan(hdrLen);
            if (enc.size() % 8 != 0)
                return {kLengthError, {}, {}};
            Bytes p = d40Receive(enc);
            u.header.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(hdrLen));
            if (mode == Comm::FullRaw) {
                u.payload = std::move(p);
                return u;
            }
            // plaintext || CRC16(plaintext) || zero padding (MF3ICD40; libfreefare ENC_COMMAND)
            if (p.size() < plainLen + 2)
                return {kLengthError, {}, {}};
            const std::uint16_t crc = crc16a(ByteView(p).first(plainLen));
            const bool crcOk = p[plainLen] == (crc & 0xFF) && p[plainLen + 1] == (crc >> 8) &&
                               std::all_of(p.begin() + static_cast<std::ptrdiff_t>(plainLen + 2),
                                           p.end(), [](std::uint8_t b) { return b == 0; });
            if (!crcOk)
                return {kIntegrityError, {}, {}};
            u.payload.assign(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(plainLen));
            return u;
        }

        case Sm::Ev1: {
            const std::size_t bs = blockSize(session.cipher);
            const bool enciphered =
                (mode == Comm::Full || mode == Comm::FullRaw) && data.size() > hdrLen;
            if (!enciphered) {
                // EV1: every command updates the CMAC IV, MACed or not (MF3ICDx1 "CMAC").
                if (mode == Comm::Mac && hostMac) {
                    if (data.size() < hdrLen + 8)
                        return {kLengthError, {}, {}};
                    ByteView body = data.first(data.size() - 8);
                    session.iv =
                        cmac(session.cipher, session.sesEnc, session.iv, concat(Bytes{cmd}, body));
                    if (!equalConstantTime(ByteView(session.iv).first(8), data.last(8)))
                        return {kIntegrityError, {}, {}};
                    split(body);
                    return u;
                }
                session.iv = cmac(session.cipher, session.sesEnc, session.iv, cmdAndData);
                split(data);
                return u;
            }
            ByteView enc = data.subspan(hdrLen);
            if (enc.size() % bs != 0)
                return {kLengthError, {}, {}};
            Bytes p = cbc(session.cipher, session.sesEnc, session.iv, enc, false);
            session.iv.assign(enc.end() - static_cast<std::ptrdiff_t>(bs), enc.end());
            u.header.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(hdrLen));
            if (mode == Comm::FullRaw) {
                u.payload = std::move(p);
                return u;
            }
            // plaintext || CRC32(cmd || header || plaintext) || zero padding (EV1; libfreefare
            // mifare_cryto_preprocess_data, MDCM_ENCIPHERED)
            if (p.size() < plainLen + 4)
                return {kLengthError, {}, {}};
            Bytes crcInput = concat(Bytes{cmd}, u.header);
            crcInput.insert(crcInput.end(), p.begin(),
                            p.begin() + static_cast<std::ptrdiff_t>(plainLen));
            const std::uint32_t crc = crc32Desfire(crcInput);
            bool crcOk = std::all_of(p.begin() + static_cast<std::ptrdiff_t>(plainLen + 4), p.end(),
                                     [](std::uint8_t b) { return b == 0; });
            for (int i = 0; i < 4; ++i)
                crcOk = crcOk && p[plainLen + static_cast<std::size_t>(i)] ==
                                     static_cast<std::uint8_t>(crc >> (8 * i));
            if (!crcOk)
                return {kIntegrityError, {}, {}};
            u.payload.assign(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(plainLen));
            return u;
        }

        case Sm::Ev2: {
            if (mode == Comm::Plain) {
                split(data);
                return u;
            }
            // Cmd || CmdCtr || TI || CmdHeader || CmdData, MACt appended (NT4H2421Gx §9.1.9)
            if (data.size() < 8 ||
                data.size() - 8 < (mode == Comm::Mgmt || mode == Comm::Mac ? 0 : hdrLen))
                return {kLengthError, {}, {}};
            ByteView body = data.first(data.size() - 8);
            const Bytes mac = ev2Mac(session.sesMac, cmd, session.ctr, session.ti, body);
            if (!equalConstantTime(mac, data.last(8)))
                return {kIntegrityError, {}, {}};
            if (mode == Comm::Mgmt || mode == Comm::Mac) {
                split(body);
                return u;
            }
            u.header.assign(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(hdrLen));
            ByteView enc = body.subspan(hdrLen);
            if (enc.empty())
                return u;
            if (enc.size() % 16 != 0)
                return {kLengthError, {}, {}};
            u.payload = cbc(Cipher::Aes, session.sesEnc,
                            ev2Iv(session.sesEnc, true, session.ti, session.ctr), enc, false);
            if (!unpadM2(u.payload))
                return {kIntegrityError, {}, {}};
            return u;
        }
        }
        return u;
    }

    // ---- secure messaging: the response side (status 00) -----------------------------------

    Bytes wrap(Bytes payload, Comm mode) {
        switch (session.sm) {
        case Sm::None:
            return payload;
        case Sm::D40:
            if (payload.empty())
                return payload;
            if (mode == Comm::Mac) {
                Bytes mac = d40Mac(payload);
                return concat(payload, mac);
            }
            if (mode == Comm::Full || mode == Comm::FullRaw) {
                const std::uint16_t crc = crc16a(payload);
                payload.push_back(static_cast<std::uint8_t>(crc));
                payload.push_back(static_cast<std::uint8_t>(crc >> 8));
                payload.resize(roundUp(payload.size(), 8), 0x00);
                return cbc(session.cipher, session.sesEnc, Bytes(8, 0), payload, true);
            }
            return payload;
        case Sm::Ev1: {
            const std::size_t bs = blockSize(session.cipher);
            if ((mode == Comm::Full || mode == Comm::FullRaw) && !payload.empty()) {
                // data || CRC32(data || status) || zero padding, CBC on the chained IV
                const std::uint32_t crc = crc32Desfire(concat(payload, Bytes{kOk}));
                putLe(payload, crc, 4);
                payload.resize(roundUp(payload.size(), bs), 0x00);
                Bytes enc = cbc(session.cipher, session.sesEnc, session.iv, payload, true);
                session.iv.assign(enc.end() - static_cast<std::ptrdiff_t>(bs), enc.end());
                return enc;
            }
            session.iv =
                cmac(session.cipher, session.sesEnc, session.iv, concat(payload, Bytes{kOk}));
            return concat(payload, ByteView(session.iv).first(8));
        }
        case Sm::Ev2: {
            const std::uint16_t next = static_cast<std::uint16_t>(session.ctr + 1);
            Bytes out = std::move(payload);
            if (mode == Comm::Full || mode == Comm::FullRaw) {
                if (!out.empty())
                    out = cbc(Cipher::Aes, session.sesEnc,
                              ev2Iv(session.sesEnc, false, session.ti, next), padM2(out, 16), true);
            }
            if (mode != Comm::Plain) {
                // RC || CmdCtr+1 || TI || response data (NT4H2421Gx §9.1.9; AN12196 Table 18)
                Bytes mac = ev2Mac(session.sesMac, kOk, next, session.ti, out);
                out.insert(out.end(), mac.begin(), mac.end());
            }
            // The counter counts command/response pairs, plain ones too (proxmark3
            // DesfireSecureChannelDecodeEV2 increments on every exchange).
            session.ctr = next;
            return out;
        }
        }
        return payload;
    }

    Reply ok(Bytes payload, Comm mode) { return Reply{kOk, wrap(std::move(payload), mode), {}}; }

    // ---- access checks ------------------------------------------------------------------------

    /// The communication mode for a file operation allowed by one of two access nibbles, or an
    /// error: key nibble F never (9D), E free (plain, MF3DHx2 "access rights": free access means
    /// plain communication), otherwise the file's mode if that key is authenticated, else AE.
    std::variant<Comm, std::uint8_t> fileAccess(const DataFile& file, std::uint8_t a,
                                                std::uint8_t b) const {
        const Comm fileMode = (file.comm & 0x03) == 0x03   ? Comm::Full
                              : (file.comm & 0x03) == 0x01 ? Comm::Mac
                                                           : Comm::Plain;
        if (session.sm != Sm::None &&
            ((a < 0x0E && session.keyNo == a) || (b < 0x0E && session.keyNo == b)))
            return fileMode;
        if (a == 0x0E || b == 0x0E)
            return Comm::Plain;
        if (a == 0x0F && b == 0x0F)
            return kPermissionDenied;
        return kAuthError;
    }

    // ---- commands -------------------------------------------------------------------------------

    Reply getVersion(ByteView data) {
        // GUESS: GetVersion stays plain in every session (proxmark3 lists no protected mode for
        // it); in EV1 the response still carries the chained CMAC, as on every EV1 response.
        Unwrapped u;
        if (const auto status = unwrapExact(data, u, 0, 0, Comm::Plain); status != kOk)
            return error(status);
        // Storage size byte: 2^(n>>1) bytes, 0x1A = 8 KB (MF3DHx2 "GetVersion").
        std::uint8_t storage = 0x1A;
        if (card.capacity == 4096)
            storage = 0x18;
        else if (card.capacity == 2048)
            storage = 0x16;
        // Vendor 04 (NXP), type 01 (DESFire), subtype 01, major version, minor 00, storage,
        // protocol 05 (ISO 14443-2 and -3). The major version names the generation: 01 EV1,
        // 12 EV2, 33 EV3 (proxmark3 cmdhfmfdes.c getCardType; MF3DHx2 and MF3D(H)x3 datasheets,
        // "GetVersion").
        const std::uint8_t major = card.generation == Generation::Ev1   ? 0x01
                                   : card.generation == Generation::Ev3 ? 0x33
                                                                        : 0x12;
        const Bytes hw{0x04, 0x01, 0x01, major, 0x00, storage, 0x05};
        Bytes v = hw;
        v.insert(v.end(), hw.begin(), hw.end()); // software frame reports the same version
        if (card.randomUid)
            v.insert(v.end(), 7, 0x00); // GUESS: a random-ID card hides its UID here too
        else
            v.insert(v.end(), card.uid.begin(), card.uid.end());
        // GUESS: a fixed batch number and production week 10 of 2021 (BCD).
        v.insert(v.end(), {0xBA, 0x7C, 0x40, 0x00, 0x00, 0x10, 0x21});
        Reply r = ok(std::move(v), Comm::Plain);
        r.frames = {7, 7};
        return r;
    }

    Reply getCardUid(ByteView data) {
        if (session.sm == Sm::None)
            return error(kAuthError);
        Unwrapped u = unwrap(data, 0, Comm::Full, 0);
        if (u.status != kOk)
            return error(u.status);
        if (!u.payload.empty() || !u.header.empty())
            return error(kLengthError);
        return ok(Bytes(card.uid.begin(), card.uid.end()), Comm::Full);
    }

    Reply getApplicationIds(ByteView data) {
        Unwrapped u;
        if (const auto status = unwrapExact(data, u, 0); status != kOk)
            return error(status);
        if (selected != 0)
            return error(kPermissionDenied); // GUESS: a PICC-level command refused inside an app
        if (!(card.picc.keySettings & 0x02) && !authedWith(0))
            return error(kAuthError); // key settings bit 1: free directory listing
        Bytes out;
        for (const auto& [aid, app] : card.apps)
            putLe24(out, aid);
        return ok(std::move(out), Comm::Mgmt);
    }

    Reply getFileIds(ByteView data) {
        Unwrapped u;
        if (const auto status = unwrapExact(data, u, 0); status != kOk)
            return error(status);
        Application* app = selectedApp();
        if (selected == 0 || app == nullptr)
            return error(kPermissionDenied); // GUESS: no files at PICC level
        if (!(app->keySettings & 0x02) && !authedWith(0))
            return error(kAuthError);
        Bytes out;
        for (const auto& [no, file] : app->files)
            out.push_back(no);
        return ok(std::move(out), Comm::Mgmt);
    }

    // GetFileSettings (MF3ICDx1 / MF3DHx2 datasheets, "GetFileSettings"): for a data file,
    // FileType (00 standard, 01 backup), CommSett, AccessRights (2 bytes, LSB first) and
    // FileSize (3 bytes, LSB first). libfreefare asks for it before every ReadData and
    // WriteData to learn the file's communication mode (mifare_desfire.c, read_data_ex and
    // write_data_ex). Protected like GetFileIDs.
    Reply getFileSettings(ByteView data) {
        Unwrapped u;
        if (const auto status = unwrapExact(data, u, 0, 1); status != kOk)
            return error(status);
        Application* app = selectedApp();
        if (selected == 0 || app == nullptr)
            return error(kPermissionDenied); // GUESS: no files at PICC level
        if (!(app->keySettings & 0x02) && !authedWith(0))
            return error(kAuthError);
        const DataFile* file = findFile(u.header[0]);
        if (file == nullptr)
            return error(kFileNotFound);
        Bytes out{static_cast<std::uint8_t>(file->type), file->comm};
        putLe(out, file->access, 2);
        putLe24(out, static_cast<std::uint32_t>(file->data.size()));
        return ok(std::move(out), Comm::Mgmt);
    }

    Reply getKeySettings(ByteView data) {
        Unwrapped u;
        if (const auto status = unwrapExact(data, u, 0); status != kOk)
            return error(status);
        Application* app = selectedApp();
        if (app == nullptr)
            return error(kAppNotFound);
        if (!(app->keySettings & 0x02) && !authedWith(0))
            return error(kAuthError);
        Bytes out{app->keySettings,
                  static_cast<std::uint8_t>(app->keys.size() | cryptoBits(app->keyType))};
        return ok(std::move(out), Comm::Mgmt);
    }

    Reply getKeyVersion(ByteView data) {
        Unwrapped u;
        if (const auto status = unwrapExact(data, u, 1); status != kOk)
            return error(status);
        Application* app = selectedApp();
        if (app == nullptr)
            return error(kAppNotFound);
        const std::uint8_t keyNo = u.payload[0] & 0x3F;
        if (keyNo >= app->keys.size())
            return error(kNoSuchKey);
        return ok(Bytes{app->keys[keyNo].version}, Comm::Mgmt);
    }

    Reply freeMem(ByteView data) {
        Unwrapped u;
        if (const auto status = unwrapExact(data, u, 0); status != kOk)
            return error(status);
        Bytes out;
        putLe24(out, static_cast<std::uint32_t>(freeMemory()));
        return ok(std::move(out), Comm::Mgmt);
    }

    Reply formatPicc(ByteView data) {
        Unwrapped u;
        if (const auto status = unwrapExact(data, u, 0); status != kOk)
            return error(status);
        if (selected != 0)
            return error(kPermissionDenied);
        if (!authedWith(0))
            return error(kAuthError);
        if (card.formatDisabled)
            return error(kPermissionDenied);
        card.apps.clear();
        return ok({}, Comm::Mgmt);
    }

    Reply selectApplication(ByteView data) {
        // SelectApplication is always plain and ends any authentication (MF3DHx2).
        resetSession();
        discardTransactions(); // leaving an application aborts its transaction
        if (data.size() != 3)
            return error(kLengthError);
        const std::uint32_t aid = le24(data, 0);
        if (aid != 0 && !card.apps.contains(aid)) {
            selected = 0; // GUESS: a failed selection leaves the PICC level selected
            return error(kAppNotFound);
        }
        selected = aid;
        return ok({}, Comm::Plain);
    }

    Reply createApplication(ByteView data) {
        Unwrapped u = unwrap(data, 0, Comm::Mgmt);
        if (u.status != kOk)
            return error(u.status);
        const Bytes& p = u.payload;
        // AID(3) KeySett1 KeySett2 [ISO FID(2) [DF name(1..16)]]
        if (p.size() != 5 && (p.size() < 7 || p.size() > 7 + 16))
            return error(kLengthError);
        if (selected != 0)
            return error(kPermissionDenied);
        if (!(card.picc.keySettings & 0x04) && !authedWith(0))
            return error(kAuthError); // PICC key settings bit 2: free create/delete
        const std::uint32_t aid = le24(p, 0);
        const std::uint8_t keyCount = p[4] & 0x0F;
        const std::uint8_t crypto = p[4] & 0xC0;
        if (aid == 0 || keyCount == 0 || keyCount > 14 || crypto == 0xC0)
            return error(kParameterError);
        if (card.apps.contains(aid))
            return error(kDuplicate);
        if (card.apps.size() >= kMaxApplications)
            return error(kCountError);
        if (freeMemory() < kAppOverhead)
            return error(kOutOfEeprom);
        Application app;
        app.keySettings = p[3];
        app.keyType = crypto == 0x80   ? Cipher::Aes
                      : crypto == 0x40 ? Cipher::Tdes3k
                                       : Cipher::Tdes2k;
        // New application keys are all zero, version 0 (MF3DHx2 "CreateApplication").
        app.keys.assign(keyCount, Key{Bytes(keySize(app.keyType), 0x00), 0});
        card.apps.emplace(aid, std::move(app));
        return ok({}, Comm::Mgmt);
    }

    Reply deleteApplication(ByteView data) {
        Unwrapped u;
        if (const auto status = unwrapExact(data, u, 3); status != kOk)
            return error(status);
        const std::uint32_t aid = le24(u.payload, 0);
        if (aid == 0)
            return error(kParameterError);
        if (!card.apps.contains(aid))
            return error(kAppNotFound);
        // The PICC master key, or the application's own master key while it is selected.
        const bool allowed = authedWith(0) && (selected == 0 || selected == aid);
        if (!allowed)
            return error(kAuthError);
        Reply r = ok({}, Comm::Mgmt);
        card.apps.erase(aid);
        if (selected == aid) {
            // GUESS: the MAC above is the last one of the session; the PICC level is selected.
            selected = 0;
            resetSession();
        }
        return r;
    }

    Reply createDataFile(ByteView data, FileType type) {
        Unwrapped u = unwrap(data, 0, Comm::Mgmt);
        if (u.status != kOk)
            return error(u.status);
        Bytes p = u.payload;
        // FileNo [ISO FID(2)] CommSett AccessRights(2) FileSize(3)
        if (p.size() == 9)
            p.erase(p.begin() + 1, p.begin() + 3); // GUESS: ISO file IDs accepted and ignored
        if (p.size() != 7)
            return error(kLengthError);
        Application* app = selectedApp();
        if (selected == 0 || app == nullptr)
            return error(kPermissionDenied);
        if (!(app->keySettings & 0x04) && !authedWith(0))
            return error(kAuthError); // app key settings bit 2: free create/delete of files
        const std::uint8_t fileNo = p[0];
        const std::uint32_t size = le24(p, 4);
        if (fileNo > 31 || size == 0 || (p[1] & ~0x03) != 0)
            return error(kParameterError);
        if (app->files.contains(fileNo))
            return error(kDuplicate);
        const std::size_t cost =
            roundUp(size, kAllocationUnit) * (type == FileType::Backup ? 2 : 1);
        if (cost > freeMemory())
            return error(kOutOfEeprom);
        DataFile file;
        file.type = type;
        file.comm = p[1] & 0x03;
        file.access = static_cast<std::uint16_t>(p[2] | (p[3] << 8));
        file.data.assign(size, 0x00);
        app->files.emplace(fileNo, std::move(file));
        return ok({}, Comm::Mgmt);
    }

    DataFile* findFile(std::uint8_t fileNo) {
        Application* app = selectedApp();
        if (selected == 0 || app == nullptr)
            return nullptr;
        auto it = app->files.find(fileNo);
        return it == app->files.end() ? nullptr : &it->second;
    }

    // The file a ReadData or WriteData names (data[0]) and the mode its access right grants
    // (the Read or Write nibble at `rightShift`, or ReadWrite), or the status to answer.
    struct FileAccess {
        DataFile* file;
        Comm mode;
    };
    std::variant<FileAccess, std::uint8_t> accessFile(ByteView data, unsigned rightShift) {
        if (data.size() < 7)
            return kLengthError;
        DataFile* file = findFile(data[0]);
        if (file == nullptr)
            return kFileNotFound;
        const auto access =
            fileAccess(*file, (file->access >> rightShift) & 0x0F, (file->access >> 4) & 0x0F);
        if (std::holds_alternative<std::uint8_t>(access))
            return std::get<std::uint8_t>(access);
        return FileAccess{file, std::get<Comm>(access)};
    }

    Reply readData(ByteView data) {
        const auto opened = accessFile(data, 12);
        if (std::holds_alternative<std::uint8_t>(opened))
            return error(std::get<std::uint8_t>(opened));
        DataFile* file = std::get<FileAccess>(opened).file;
        const Comm mode = std::get<FileAccess>(opened).mode;
        Unwrapped u = unwrap(data, 7, mode);
        if (u.status != kOk)
            return error(u.status);
        if (u.header.size() != 7 || !u.payload.empty())
            return error(kLengthError);
        const std::size_t offset = le24(u.header, 1);
        std::size_t length = le24(u.header, 4);
        // A backup file reads its committed image until CommitTransaction (MF3DHx2 "Backup Data
        // File"). GUESS: this holds for reads inside the same transaction too.
        const Bytes& content = file->data;
        if (offset >= content.size() || offset + length > content.size())
            return error(kBoundaryError);
        if (length == 0)
            length = content.size() - offset; // length 0: to the end of the file
        return ok(Bytes(content.begin() + static_cast<std::ptrdiff_t>(offset),
                        content.begin() + static_cast<std::ptrdiff_t>(offset + length)),
                  mode);
    }

    std::size_t expectedWriteLength(Comm mode, std::size_t length) const {
        const std::size_t bs = session.sm == Sm::None ? 16 : blockSize(session.cipher);
        switch (session.sm) {
        case Sm::None:
            return 7 + length;
        case Sm::D40:
            return mode == Comm::Full ? 7 + roundUp(length + 2, 8)
                                      : 7 + length + (mode == Comm::Mac ? 4 : 0);
        case Sm::Ev1:
            return mode == Comm::Full ? 7 + roundUp(length + 4, bs)
                                      : 7 + length + (mode == Comm::Mac ? 8 : 0);
        case Sm::Ev2:
            return mode == Comm::Full ? 7 + roundUp(length + 1, 16) + 8
                                      : 7 + length + (mode == Comm::Plain ? 0 : 8);
        }
        return 7 + length;
    }

    Reply writeData(ByteView data) {
        const auto opened = accessFile(data, 8);
        if (std::holds_alternative<std::uint8_t>(opened))
            return error(std::get<std::uint8_t>(opened));
        DataFile* file = std::get<FileAccess>(opened).file;
        const Comm mode = std::get<FileAccess>(opened).mode;
        const std::size_t length = le24(data, 4);
        if (length == 0)
            return error(kLengthError);
        const std::size_t expected = expectedWriteLength(mode, length);
        if (data.size() < expected) {
            // More data follows in AF frames (MF3DHx2 "WriteData": native command chaining).
            input = PendingInput{cmd, Bytes(data.begin(), data.end()), expected};
            return error(kAdditionalFrame);
        }
        if (data.size() > expected)
            return error(kLengthError);
        Unwrapped u = unwrap(data, 7, mode, length, true);
        if (u.status != kOk)
            return error(u.status);
        if (u.payload.size() != length)
            return error(kLengthError);
        const std::size_t offset = le24(u.header, 1);
        if (offset + length > file->data.size())
            return error(kBoundaryError);
        Bytes& target = file->type == FileType::Backup
                            ? (file->pending ? *file->pending : file->pending.emplace(file->data))
                            : file->data;
        std::copy(u.payload.begin(), u.payload.end(),
                  target.begin() + static_cast<std::ptrdiff_t>(offset));
        return ok({}, mode);
    }

    Reply transaction(ByteView data, bool commit) {
        Unwrapped u = unwrap(data, 0, Comm::Mgmt);
        if (u.status != kOk)
            return error(u.status);
        // EV2 CommitTransaction may carry one option byte (TMC, which this card does not have).
        if (u.payload.size() > (commit ? 1u : 0u) || (!u.payload.empty() && u.payload[0] > 1))
            return error(u.payload.size() > 1 ? kLengthError : kParameterError);
        Application* app = selectedApp();
        if (selected == 0 || app == nullptr)
            return error(kPermissionDenied);
        for (auto& [no, file] : app->files) {
            if (file.pending && commit)
                file.data = std::move(*file.pending);
            file.pending.reset();
        }
        return ok({}, Comm::Mgmt);
    }

    Reply changeKeySettings(ByteView data) {
        if (session.sm == Sm::None || session.keyNo != 0)
            return error(kAuthError);
        Application* app = selectedApp();
        if (app == nullptr)
            return error(kAppNotFound);
        if (!(app->keySettings & 0x08))
            return error(kPermissionDenied); // bit 3: configuration changeable
        Unwrapped u = unwrap(data, 0, Comm::Full, 1);
        if (u.status != kOk)
            return error(u.status);
        if (u.payload.size() != 1)
            return error(kLengthError);
        app->keySettings = u.payload[0];
        return ok({}, Comm::Full);
    }

    Reply setConfiguration(ByteView data) {
        if (data.empty())
            return error(kLengthError);
        if (selected != 0)
            return error(kPermissionDenied);
        if (!authedWith(0))
            return error(kAuthError);
        if (data[0] != 0x00)
            return error(kParameterError); // only option 00 (PICC configuration) is simulated
        Unwrapped u = unwrap(data, 1, Comm::Full, 1);
        if (u.status != kOk)
            return error(u.status);
        if (u.payload.size() != 1 || (u.payload[0] & ~0x03) != 0)
            return error(u.payload.size() != 1 ? kLengthError : kParameterError);
        // bit 0: FormatPICC disabled; bit 1: random ID enabled. Both are one-way on a real card.
        card.formatDisabled = card.formatDisabled || (u.payload[0] & 0x01);
        card.randomUid = card.randomUid || (u.payload[0] & 0x02);
        return ok({}, Comm::Full);
    }

    Reply changeKey(ByteView data) {
        if (data.empty())
            return error(kLengthError);
        if (session.sm == Sm::None)
            return error(kAuthError);
        Application* app = selectedApp();
        if (app == nullptr)
            return error(kAppNotFound);
        const std::uint8_t keyByte = data[0];
        std::uint8_t target = 0;
        Cipher newType = app->keyType;
        if (selected == 0) {
            // PICC master key: bits 7..6 choose the new key's crypto (libfreefare "key_no tweak").
            target = keyByte & 0x3F;
            const std::uint8_t t = keyByte >> 6;
            if (t == 3)
                return error(kParameterError);
            newType = t == 2 ? Cipher::Aes : t == 1 ? Cipher::Tdes3k : Cipher::Tdes2k;
        } else {
            target = keyByte & 0x3F;
        }
        if (target >= app->keys.size())
            return error(kNoSuchKey);
        // Who may change which key (MF3DHx2 key settings): key 0 needs itself and bit 0; other
        // keys need the key named by the ChangeKey nibble (E: the key itself, F: frozen).
        if (target == 0) {
            if (session.keyNo != 0)
                return error(kAuthError);
            if (!(app->keySettings & 0x01))
                return error(kPermissionDenied);
        } else {
            const std::uint8_t ck = app->keySettings >> 4;
            if (ck == 0x0F)
                return error(kPermissionDenied);
            const std::uint8_t needed = ck == 0x0E ? target : ck;
            if (session.keyNo != needed)
                return error(kAuthError);
        }
        Unwrapped u = unwrap(data, 1, Comm::FullRaw);
        if (u.status != kOk)
            return error(u.status);
        const Bytes& p = u.payload;
        const bool sameKey = target == session.keyNo;
        const std::size_t klen = keySize(newType);
        const std::size_t vlen = newType == Cipher::Aes ? 1 : 0; // DES: version in parity bits
        const Bytes& old = app->keys[target].value;
        if (p.size() < klen + vlen)
            return error(kLengthError);
        Bytes cryptogram(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(klen + vlen));
        Bytes newKey(cryptogram.begin(), cryptogram.begin() + static_cast<std::ptrdiff_t>(klen));
        if (!sameKey)
            for (std::size_t i = 0; i < klen; ++i)
                newKey[i] ^= old[i];
        std::size_t pos = klen + vlen;
        bool intact = true;
        auto expectLe = [&](std::uint32_t value, int n) {
            for (int i = 0; i < n; ++i, ++pos)
                intact = intact && pos < p.size() &&
                         p[pos] == static_cast<std::uint8_t>(value >> (8 * i));
        };
        switch (session.sm) {
        case Sm::D40:
            // cryptogram || CRC16(cryptogram) [|| CRC16(new key)] || zeros (libfreefare AS_LEGACY)
            expectLe(crc16a(cryptogram), 2);
            if (!sameKey)
                expectLe(crc16a(newKey), 2);
            break;
        case Sm::Ev1: {
            // cryptogram || CRC32(C4 || keyNo || cryptogram) [|| CRC32(new key)] || zeros
            Bytes crcIn{kChangeKey, keyByte};
            crcIn.insert(crcIn.end(), cryptogram.begin(), cryptogram.end());
            expectLe(crc32Desfire(crcIn), 4);
            if (!sameKey)
                expectLe(crc32Desfire(newKey), 4);
            break;
        }
        case Sm::Ev2:
            // cryptogram [|| CRC32(new key)], method-2 padding already removed (AN12196 §5.16)
            if (!sameKey)
                expectLe(crc32Desfire(newKey), 4);
            if (pos != p.size())
                intact = false;
            break;
        case Sm::None:
            break;
        }
        if (session.sm != Sm::Ev2)
            intact = intact &&
                     std::all_of(p.begin() + static_cast<std::ptrdiff_t>(std::min(pos, p.size())),
                                 p.end(), [](std::uint8_t b) { return b == 0; });
        if (!intact) {
            OPENSSL_cleanse(newKey.data(), newKey.size());
            return error(kIntegrityError);
        }
        const std::uint8_t version =
            newType == Cipher::Aes ? cryptogram[klen] : desKeyVersion(newKey);
        OPENSSL_cleanse(cryptogram.data(), cryptogram.size());
        if (selected == 0)
            app->keyType = newType;
        OPENSSL_cleanse(app->keys[target].value.data(), app->keys[target].value.size());
        app->keys[target] = Key{std::move(newKey), version};
        if (sameKey) {
            // Changing the authenticated key ends the session; the answer carries no MAC
            // (AN12196 §5.16 case 2).
            resetSession();
            return Reply{kOk, {}, {}};
        }
        return ok({}, Comm::Full);
    }

    // ---- authentication ------------------------------------------------------------------------

    Reply authenticateStart(ByteView data) {
        const bool nonFirst = cmd == kAuthEv2NonFirst;
        PendingAuth pending;
        if (nonFirst) {
            if (session.sm != Sm::Ev2)
                return error(kPermissionDenied); // GUESS: NonFirst needs a running EV2 session
            pending.ti = session.ti;
            pending.ctr = session.ctr;
        }
        resetSession();
        if (data.empty())
            return error(kLengthError);
        if (cmd == kAuthEv2First) {
            // KeyNo || LenCap || PCDcap2 (NT4H2421Gx §10.4.1)
            if (data.size() < 2 || data.size() != 2u + data[1])
                return error(kLengthError);
            pending.pcdCap.assign(data.begin() + 2, data.end());
        } else if (data.size() != 1) {
            return error(kLengthError);
        }
        Application* app = selectedApp();
        if (app == nullptr)
            return error(kAppNotFound);
        const std::uint8_t keyNo = data[0] & 0x3F;
        if (keyNo >= app->keys.size())
            return error(kNoSuchKey);
        const Cipher type = app->keyType;
        const bool fits =
            (cmd == kAuthLegacy && type == Cipher::Tdes2k) ||
            (cmd == kAuthIso && type != Cipher::Aes) ||
            ((cmd == kAuthAes || cmd == kAuthEv2First || nonFirst) && type == Cipher::Aes);
        if (!fits)
            return error(kAuthError); // GUESS: wrong authentication command for the key type
        pending.cmd = cmd;
        pending.keyNo = keyNo;
        pending.cipher = type;
        pending.key = app->keys[keyNo].value;
        const std::size_t n = (type == Cipher::Tdes2k) ? 8 : 16;
        pending.rndB = randomBytes(n);
        const Bytes zero(blockSize(type), 0x00);
        Bytes encRndB = cbc(type, pending.key, zero, pending.rndB, true);
        pending.iv.assign(encRndB.end() - static_cast<std::ptrdiff_t>(blockSize(type)),
                          encRndB.end());
        auth = std::move(pending);
        return Reply{kAdditionalFrame, std::move(encRndB), {}};
    }

    Reply authenticateFinish(ByteView data) {
        PendingAuth a = std::move(*auth);
        auth.reset();
        const std::size_t n = a.rndB.size();
        const std::size_t bs = blockSize(a.cipher);
        auto fail = [&](std::uint8_t status) {
            OPENSSL_cleanse(a.key.data(), a.key.size());
            return error(status);
        };
        if (data.size() != 2 * n)
            return fail(kLengthError);
        Bytes plain;
        if (a.cmd == kAuthLegacy) {
            // Host sent D(RndA) || D(RndB' ^ D(RndA)); undo with E and the chaining (D40).
            Bytes p1 = ecb(a.cipher, a.key, data.first(8), true);
            Bytes p2 = ecb(a.cipher, a.key, data.subspan(8, 8), true);
            for (std::size_t i = 0; i < 8; ++i)
                p2[i] ^= data[i];
            plain = concat(p1, p2);
        } else if (a.cmd == kAuthIso || a.cmd == kAuthAes) {
            plain = cbc(a.cipher, a.key, a.iv, data, false); // EV1: the IV runs on
        } else {
            plain = cbc(a.cipher, a.key, Bytes(16, 0), data, false); // EV2: IV zero per message
        }
        const Bytes rndA(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(n));
        if (!equalConstantTime(ByteView(plain).subspan(n), rotateLeft1(a.rndB)))
            return fail(kAuthError);
        const Bytes rndARot = rotateLeft1(rndA);
        Bytes answer;
        Session s;
        s.keyNo = a.keyNo;
        s.cipher = a.cipher;
        switch (a.cmd) {
        case kAuthLegacy:
        case kAuthIso:
        case kAuthAes: {
            if (a.cmd == kAuthLegacy)
                answer = ecb(a.cipher, a.key, rndARot, true);
            else
                answer = cbc(a.cipher, a.key, ByteView(data).last(bs), rndARot, true);
            // Session keys (MF3ICDx1; libfreefare mifare_desfire_session_key_new).
            Bytes k;
            auto take = [&](ByteView src, std::size_t from) {
                k.insert(k.end(), src.begin() + static_cast<std::ptrdiff_t>(from),
                         src.begin() + static_cast<std::ptrdiff_t>(from + 4));
            };
            if (a.cipher == Cipher::Aes) {
                take(rndA, 0), take(a.rndB, 0), take(rndA, 12), take(a.rndB, 12);
            } else if (a.cipher == Cipher::Tdes3k) {
                take(rndA, 0), take(a.rndB, 0), take(rndA, 6), take(a.rndB, 6), take(rndA, 12),
                    take(a.rndB, 12);
            } else {
                take(rndA, 0), take(a.rndB, 0);
                if (isSingleDes(a.key))
                    k.insert(k.end(), k.begin(), k.end()); // DES key: DES session key
                else
                    take(rndA, 4), take(a.rndB, 4);
            }
            s.sm = a.cmd == kAuthLegacy ? Sm::D40 : Sm::Ev1;
            s.sesEnc = k;
            s.sesMac = std::move(k);
            s.iv.assign(bs, 0x00);
            break;
        }
        default: {
            Bytes resp;
            if (a.cmd == kAuthEv2First) {
                s.ti = randomBytes(4);
                // TI || RndA' || PDcap2 || PCDcap2 (NT4H2421Gx §9.1.5)
                resp = s.ti;
                resp.insert(resp.end(), rndARot.begin(), rndARot.end());
                resp.insert(resp.end(), 6, 0x00); // PDcap2: no EV2 options in use
                Bytes pcd = a.pcdCap;
                pcd.resize(6, 0x00);
                resp.insert(resp.end(), pcd.begin(), pcd.end());
                s.ctr = 0;
            } else {
                resp = rndARot; // NonFirst answers E(RndA') only and keeps TI and CmdCtr
                s.ti = a.ti;
                s.ctr = a.ctr;
            }
            answer = cbc(Cipher::Aes, a.key, Bytes(16, 0), resp, true);
            s.sm = Sm::Ev2;
            s.sesEnc = cmac(Cipher::Aes, a.key, Bytes(16, 0), ev2SessionVector(true, rndA, a.rndB));
            s.sesMac =
                cmac(Cipher::Aes, a.key, Bytes(16, 0), ev2SessionVector(false, rndA, a.rndB));
            break;
        }
        }
        OPENSSL_cleanse(a.key.data(), a.key.size());
        session = std::move(s);
        return Reply{kOk, std::move(answer), {}};
    }

    // ---- dispatch
    // --------------------------------------------------------------------------------

    // Commands DESFire EV2 added (MF3DHx2 command set, AN12343 §6.4): an EV1 (MF3ICDx1) answers
    // them as unknown, 91 1C, as proxmark3's "hf mfdes" reports for EV1 cards.
    static bool ev2Only(std::uint8_t ins) {
        return ins == kAuthEv2First || ins == kAuthEv2NonFirst || ins == kReadData2 ||
               ins == kWriteData2;
    }

    // Commands whose data may exceed one native frame in a single APDU: the EV2 variants with
    // ISO/IEC 14443-4 chaining (MF3DHx2 "ReadData"/"WriteData", INS AD and 8D), which the
    // reader splits into I-blocks of the card's frame size and the card reassembles.
    static bool isoChained(std::uint8_t ins) { return ins == kReadData2 || ins == kWriteData2; }

    Reply execute(std::uint8_t ins, ByteView data) {
        cmd = ins;
        if (card.generation == Generation::Ev1 && ev2Only(ins)) {
            return error(kIllegalCommand);
        }
        switch (ins) {
        case kGetVersion:
            return getVersion(data);
        case kGetCardUid:
            return getCardUid(data);
        case kGetApplicationIds:
            return getApplicationIds(data);
        case kGetFileIds:
            return getFileIds(data);
        case kGetFileSettings:
            return getFileSettings(data);
        case kGetKeySettings:
            return getKeySettings(data);
        case kGetKeyVersion:
            return getKeyVersion(data);
        case kFreeMemory:
            return freeMem(data);
        case kFormatPicc:
            return formatPicc(data);
        case kSelectApplication:
            return selectApplication(data);
        case kCreateApplication:
            return createApplication(data);
        case kDeleteApplication:
            return deleteApplication(data);
        case kCreateStdDataFile:
            return createDataFile(data, FileType::Standard);
        case kCreateBackupDataFile:
            return createDataFile(data, FileType::Backup);
        case kReadData:
            return readData(data);
        case kReadData2: {
            // EV2's ReadData with ISO/IEC 14443-4 chaining: the card sends the answer as
            // chained I-blocks of its frame size, so above the reader it is one response. A
            // short response holds 256 bytes; GUESS: a longer answer is refused with
            // LENGTH_ERROR (an NXP forum report of 90 AD with a full-file read failing 917E).
            Reply r = readData(data);
            if (r.status == kOk && r.data.size() > 256) {
                return error(kLengthError);
            }
            r.isoChained = true;
            return r;
        }
        case kWriteData:
        case kWriteData2:
            return writeData(data);
        case kCommitTransaction:
            return transaction(data, true);
        case kAbortTransaction:
            return transaction(data, false);
        case kChangeKeySettings:
            return changeKeySettings(data);
        case kSetConfiguration:
            return setConfiguration(data);
        case kChangeKey:
            return changeKey(data);
        case kAuthLegacy:
        case kAuthIso:
        case kAuthAes:
        case kAuthEv2First:
        case kAuthEv2NonFirst:
            return authenticateStart(data);
        default:
            return error(kIllegalCommand);
        }
    }

    Bytes respond(Reply reply) {
        // Any error ends the authentication (MF3DHx2: "the authentication status is lost").
        if (reply.status != kOk && reply.status != kAdditionalFrame) {
            resetSession();
            input.reset();
        }
        outFrames.clear();
        if (reply.status == kOk && !reply.isoChained &&
            (reply.data.size() > kMaxFrameData || !reply.frames.empty())) {
            std::size_t pos = 0;
            for (std::size_t size : reply.frames) {
                outFrames.emplace_back(reply.data.begin() + static_cast<std::ptrdiff_t>(pos),
                                       reply.data.begin() +
                                           static_cast<std::ptrdiff_t>(pos + size));
                pos += size;
            }
            while (reply.data.size() - pos > kMaxFrameData) {
                outFrames.emplace_back(reply.data.begin() + static_cast<std::ptrdiff_t>(pos),
                                       reply.data.begin() +
                                           static_cast<std::ptrdiff_t>(pos + kMaxFrameData));
                pos += kMaxFrameData;
            }
            outFrames.emplace_back(reply.data.begin() + static_cast<std::ptrdiff_t>(pos),
                                   reply.data.end());
            return nextFrame();
        }
        Bytes out = std::move(reply.data);
        out.push_back(0x91);
        out.push_back(reply.status);
        return out;
    }

    Bytes nextFrame() {
        Bytes out = std::move(outFrames.front());
        outFrames.pop_front();
        out.push_back(0x91);
        out.push_back(outFrames.empty() ? kOk : kAdditionalFrame);
        return out;
    }

    Bytes native(std::uint8_t ins, ByteView data) {
        // A native frame longer than the card takes is refused whole, whatever it carries, and
        // ends what was running (see kMaxCommandData).
        if (data.size() > kMaxCommandData &&
            !(isoChained(ins) && card.generation != Generation::Ev1)) {
            outFrames.clear();
            input.reset();
            return respond(error(kLengthError));
        }
        if (ins == kContinue) {
            if (!outFrames.empty()) {
                if (!data.empty()) {
                    outFrames.clear();
                    return respond(error(kLengthError));
                }
                return nextFrame();
            }
            if (auth) {
                cmd = auth->cmd;
                return respond(authenticateFinish(data));
            }
            if (input) {
                input->data.insert(input->data.end(), data.begin(), data.end());
                if (input->data.size() < input->expected)
                    return respond(error(kAdditionalFrame));
                PendingInput whole = std::move(*input);
                input.reset();
                return respond(execute(whole.cmd, whole.data));
            }
            return respond(error(kIllegalCommand)); // GUESS: AF with nothing to continue
        }
        // A new command abandons whatever multi-frame exchange was running (MF3DHx2).
        outFrames.clear();
        input.reset();
        if (auth) {
            OPENSSL_cleanse(auth->key.data(), auth->key.size());
            auth.reset();
        }
        return respond(execute(ins, data));
    }
};

// ---- VirtualDesfire
// ------------------------------------------------------------------------------

VirtualDesfire::VirtualDesfire() : VirtualDesfire(Options{}) {}

VirtualDesfire::VirtualDesfire(Options options) : m_state(std::make_unique<State>()) {
    State& s = *m_state;
    s.random = std::move(options.random);
    s.card.generation = options.generation;
    s.card.capacity =
        (options.capacity == 2048 || options.capacity == 4096) ? options.capacity : 8192;
    if (options.uid) {
        s.card.uid = *options.uid;
    } else {
        Bytes uid = s.randomBytes(7);
        uid[0] = 0x04; // NXP's manufacturer code (ISO/IEC 7816-6)
        std::copy(uid.begin(), uid.end(), s.card.uid.begin());
    }
    // Factory state (MF3DHx2): PICC master key 2K3DES (DES) all zero, version 0, settings 0F.
    s.card.picc.keySettings = 0x0F;
    s.card.picc.keyType = Cipher::Tdes2k;
    s.card.picc.keys = {Key{Bytes(16, 0x00), 0}};
    // The card is in the field from the start, so a test can talk to it without powerOn().
}

VirtualDesfire::~VirtualDesfire() {
    if (!m_state)
        return;
    m_state->resetSession();
    auto wipe = [](Application& app) {
        for (Key& k : app.keys)
            OPENSSL_cleanse(k.value.data(), k.value.size());
    };
    wipe(m_state->card.picc);
    for (auto& [aid, app] : m_state->card.apps)
        wipe(app);
}

void VirtualDesfire::powerOn() {
    State& s = *m_state;
    s.dropVolatile();
    s.powered = true;
    s.randomId.clear();
    if (s.card.randomUid) {
        // ISO/IEC 14443-3: a random single-size UID starts 08.
        s.randomId = s.randomBytes(3);
        s.randomId.insert(s.randomId.begin(), 0x08);
    }
}

void VirtualDesfire::powerOff() {
    // Tearing: whatever a transaction had not committed is lost; committed data stays.
    m_state->dropVolatile();
    m_state->powered = false;
}

Bytes VirtualDesfire::atr() const {
    return {0x3B, 0x81, 0x80, 0x01, 0x80, 0x80};
}

Bytes VirtualDesfire::transmit(std::span<const std::uint8_t> command) {
    try {
        State& s = *m_state;
        // GUESS: an unpowered card does not answer; 6F 00 stands in for "no response".
        if (!s.powered)
            return {0x6F, 0x00};
        if (command.size() < 4)
            return {0x67, 0x00}; // wrong length: not even a header
        const std::uint8_t cla = command[0];
        const std::uint8_t ins = command[1];
        if (cla != 0x90) {
            // ISO/IEC 7816-4 §5.6: only the native wrapping is simulated. SELECT by name finds
            // no ISO DF here; other ISO instructions and classes are unknown.
            if (cla == 0x00 && ins == 0xA4)
                return {0x6A, 0x82};
            if (cla == 0x00)
                return {0x6D, 0x00};
            return {0x6E, 0x00};
        }
        ByteView body = command.subspan(4);
        ByteView data;
        if (body.size() == 1) {
            // case 2: Le only
        } else if (!body.empty()) {
            const std::size_t lc = body[0];
            if (lc == 0)
                return {0x67, 0x00}; // extended length is not supported by the wrapping
            if (body.size() == 1 + lc || body.size() == 2 + lc)
                data = body.subspan(1, lc);
            else
                return {0x67, 0x00};
            if (body.size() == 2 + lc && body[1 + lc] != 0x00)
                return {0x67, 0x00}; // AN12196 / MF3DHx2 ISO wrapping: Le is 00
        }
        if (command[2] != 0x00 || command[3] != 0x00)
            return {0x6A, 0x86}; // incorrect P1 P2
        return s.native(ins, data);
    } catch (...) {
        // transmit never throws (virtual_card.hpp). Only allocation can fail here.
        return {0x6F, 0x00};
    }
}

Bytes VirtualDesfire::uid() const {
    if (m_state->card.randomUid && !m_state->randomId.empty())
        return m_state->randomId;
    return Bytes(m_state->card.uid.begin(), m_state->card.uid.end());
}

std::array<std::uint8_t, 7> VirtualDesfire::realUid() const {
    return m_state->card.uid;
}

void VirtualDesfire::setRandomSource(RandomSource random) {
    m_state->random = std::move(random);
}

bool VirtualDesfire::save(const std::filesystem::path& path, std::string* error) const {
    try {
        return writeCardImage(m_state->card, path, error);
    } catch (const std::exception& e) {
        if (error != nullptr)
            *error = std::string("cannot save the card image: ") + e.what();
        return false;
    }
}

std::unique_ptr<VirtualDesfire> VirtualDesfire::load(const std::filesystem::path& path,
                                                     std::string* error) {
    try {
        std::optional<CardData> data = readCardImage(path, error);
        if (!data)
            return nullptr;
        Options options;
        options.uid = data->uid;
        options.capacity = data->capacity;
        auto card = std::make_unique<VirtualDesfire>(std::move(options));
        card->m_state->card = std::move(*data);
        card->powerOn();
        return card;
    } catch (const std::exception& e) {
        if (error != nullptr)
            *error = std::string("cannot load the card image: ") + e.what();
        return nullptr;
    }
}

} // namespace unioncard::sim
