// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/desfire/desfire.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>

namespace unioncard::card::desfire {

namespace {

// ISO/IEC 7816-4 wrapping of native commands (DESFire EV2 datasheet §9.1): CLA 0x90, P1 P2
// zero, Le 0x00; SW1 0x91 carries the native status in SW2.
constexpr std::uint8_t kWrapCla = 0x90;
constexpr std::uint8_t kWrapSw1 = 0x91;
constexpr std::uint8_t kInsAdditionalFrame = 0xAF;

constexpr std::uint8_t kInsReadDataIso = 0xAD;
constexpr std::uint8_t kInsWriteDataIso = 0x8D;

// The commands whose data and answer the reader's ISO/IEC 14443-4 chaining carries, so that one
// short APDU may exceed a native frame (EV2 datasheet, ReadData and WriteData).
bool isoChained(std::uint8_t ins) {
    return ins == kInsReadDataIso || ins == kInsWriteDataIso;
}

// File data one WriteData 8D carries within a short APDU (255 bytes): the 7-byte header, the
// data (padded to whole AES blocks in FULL mode, at least one padding byte) and the 8-byte MAC.
std::size_t isoWriteChunk(CommMode mode) {
    switch (mode) {
    case CommMode::Plain:
        return 255 - 7;
    case CommMode::Mac:
        return 255 - 7 - 8;
    case CommMode::Full:
        return (255 - 7 - 8) / 16 * 16 - 1;
    }
    return 0;
}

// A native WriteData may be as long as its frames go; longer writes are split so that no
// single command keeps the card busy for more than about twenty frames.
constexpr std::size_t kNativeWriteChunk = 1024;

Error error(ErrorCode code, std::string message) {
    return Error{code, std::move(message), std::nullopt, std::nullopt};
}

template <class T> Res<T> failure(ErrorCode code, std::string message) {
    return fail(error(code, std::move(message)));
}

void put24(Bytes& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v >> 16));
}

void append(Bytes& out, ByteView more) {
    out.insert(out.end(), more.begin(), more.end());
}

// The secure-messaging label and counter input of EV2 MACs (AN12343 §6.6):
// Cmd/RC || CmdCtr (LSB first) || TI.
Bytes macInput(std::uint8_t code, std::uint16_t counter, ByteView ti) {
    Bytes m{code, static_cast<std::uint8_t>(counter), static_cast<std::uint8_t>(counter >> 8)};
    append(m, ti);
    return m;
}

void wipe(Bytes& b) {
    OPENSSL_cleanse(b.data(), b.size());
    b.clear();
}

} // namespace

std::string_view describe(Status status) {
    switch (status) {
    case Status::Ok:
        return "success";
    case Status::NoChanges:
        return "no changes";
    case Status::OutOfMemory:
        return "out of memory on the card";
    case Status::IllegalCommand:
        return "command not supported by the card";
    case Status::IntegrityError:
        return "integrity error (CRC or MAC)";
    case Status::NoSuchKey:
        return "no such key";
    case Status::LengthError:
        return "wrong command length";
    case Status::PermissionDenied:
        return "permission denied";
    case Status::ParameterError:
        return "wrong parameter";
    case Status::ApplicationNotFound:
        return "application not found";
    case Status::AuthenticationError:
        return "authentication failed: wrong key";
    case Status::AdditionalFrame:
        return "more frames";
    case Status::BoundaryError:
        return "beyond the end of the file";
    case Status::CommandAborted:
        return "command aborted";
    case Status::DuplicateError:
        return "already exists";
    case Status::FileNotFound:
        return "file not found";
    }
    return "unknown status";
}

Bytes AccessRights::encode() const {
    // DESFire EV2 datasheet §10.3 "access rights": two bytes, LSB first:
    // byte 0 = ReadWrite << 4 | Change, byte 1 = Read << 4 | Write.
    return {static_cast<std::uint8_t>((readWrite & 0xF) << 4 | (change & 0xF)),
            static_cast<std::uint8_t>((read & 0xF) << 4 | (write & 0xF))};
}

std::string_view describe(Generation generation) {
    switch (generation) {
    case Generation::D40:
        return "MIFARE DESFire (MF3ICD40)";
    case Generation::Ev1:
        return "MIFARE DESFire EV1";
    case Generation::Ev2:
        return "MIFARE DESFire EV2";
    case Generation::Ev3:
        return "MIFARE DESFire EV3";
    case Generation::Unknown:
        break;
    }
    return "chip of an unknown kind";
}

Generation Version::generation() const {
    if (hardware.size() < 4 || hardware[0] != 0x04 || hardware[1] != 0x01) {
        return Generation::Unknown;
    }
    switch (hardware[3]) {
    case 0x00:
        return Generation::D40;
    case 0x01:
        return Generation::Ev1;
    case 0x12:
    case 0x22:
        return Generation::Ev2;
    case 0x33:
        return Generation::Ev3;
    default:
        return Generation::Unknown;
    }
}

std::size_t Version::storageBytes() const {
    if (hardware.size() < 6) {
        return 0;
    }
    return std::size_t{1} << (hardware[5] >> 1);
}

Bytes encodeAid(std::uint32_t aid) {
    Bytes out;
    put24(out, aid);
    return out;
}

// --- Commands (DESFire EV2 datasheet §10; modes as in an authenticated EV2 session) -------

namespace cmd {

namespace {
Command macCommand(std::uint8_t ins, Bytes header = {}) {
    return Command{ins, std::move(header), {}, CommMode::Mac, CommMode::Mac};
}

Command createDataFile(std::uint8_t ins, std::uint8_t fileNo, CommMode mode, AccessRights rights,
                       std::uint32_t size) {
    Bytes header{fileNo, static_cast<std::uint8_t>(mode)};
    append(header, rights.encode());
    put24(header, size);
    return macCommand(ins, std::move(header));
}
} // namespace

Command getVersion() {
    return macCommand(0x60);
}
Command getCardUid() {
    return Command{0x51, {}, {}, CommMode::Mac, CommMode::Full};
}
Command getApplicationIds() {
    return macCommand(0x6A);
}
Command getFileIds() {
    return macCommand(0x6F);
}
Command getKeySettings() {
    return macCommand(0x45);
}
Command getKeyVersion(std::uint8_t keyNo) {
    return macCommand(0x64, {keyNo});
}
Command freeMemory() {
    return macCommand(0x6E);
}
Command formatPicc() {
    return macCommand(0xFC);
}
Command selectApplication(std::uint32_t aid) {
    return Command{0x5A, encodeAid(aid), {}, CommMode::Plain, CommMode::Plain};
}
Command createApplication(std::uint32_t aid, std::uint8_t keySettings, std::uint8_t keyCount,
                          KeyType keyType) {
    // Key settings 2: the number of keys, with the crypto method in bits 7-6
    // (00 DES/2K3DES, 01 3K3DES, 10 AES).
    const std::uint8_t crypto = keyType == KeyType::Aes128  ? 0x80
                                : keyType == KeyType::Des3K ? 0x40
                                                            : 0x00;
    Bytes header = encodeAid(aid);
    header.push_back(keySettings);
    header.push_back(static_cast<std::uint8_t>(crypto | (keyCount & 0x0F)));
    return macCommand(0xCA, std::move(header));
}
Command deleteApplication(std::uint32_t aid) {
    return macCommand(0xDA, encodeAid(aid));
}
Command createStdDataFile(std::uint8_t fileNo, CommMode mode, AccessRights rights,
                          std::uint32_t size) {
    return createDataFile(0xCD, fileNo, mode, rights, size);
}
Command createBackupDataFile(std::uint8_t fileNo, CommMode mode, AccessRights rights,
                             std::uint32_t size) {
    return createDataFile(0xCB, fileNo, mode, rights, size);
}
Command readData(std::uint8_t fileNo, std::uint32_t offset, std::uint32_t length, CommMode mode) {
    Bytes header{fileNo};
    put24(header, offset);
    put24(header, length);
    // The command of a read is MAC'd when the file is MAC or FULL; its data come back in the
    // file's mode.
    return Command{0xBD,
                   std::move(header),
                   {},
                   mode == CommMode::Plain ? CommMode::Plain : CommMode::Mac,
                   mode};
}
Command readDataChained(std::uint8_t fileNo, std::uint32_t offset, std::uint32_t length,
                        CommMode mode) {
    Command c = readData(fileNo, offset, length, mode);
    c.ins = 0xAD;
    return c;
}
Command writeData(std::uint8_t fileNo, std::uint32_t offset, ByteView data, CommMode mode) {
    Bytes header{fileNo};
    put24(header, offset);
    put24(header, static_cast<std::uint32_t>(data.size()));
    return Command{0x3D, std::move(header), Bytes(data.begin(), data.end()), mode,
                   mode == CommMode::Plain ? CommMode::Plain : CommMode::Mac};
}
Command writeDataChained(std::uint8_t fileNo, std::uint32_t offset, ByteView data, CommMode mode) {
    Command c = writeData(fileNo, offset, data, mode);
    c.ins = kInsWriteDataIso;
    return c;
}
Command commitTransaction() {
    return macCommand(0xC7);
}
Command abortTransaction() {
    return macCommand(0xA7);
}
Command changeKeySettings(std::uint8_t settings) {
    return Command{0x54, {}, {settings}, CommMode::Full, CommMode::Mac};
}

} // namespace cmd

// --- Frames ---------------------------------------------------------------------------------

Desfire::~Desfire() {
    resetSession();
}

Desfire::Ev2Session::~Ev2Session() {
    wipe(encKey);
    wipe(macKey);
}

Desfire::LegacySession::~LegacySession() {
    wipe(key);
}

Desfire::Ev1Session::~Ev1Session() {
    wipe(key);
    wipe(iv);
}

void Desfire::resetSession() {
    // The sessions wipe their keys as they go.
    m_session.reset();
    m_legacy.reset();
    m_ev1.reset();
}

Res<Bytes> Desfire::exchange(std::uint8_t ins, ByteView body, bool& more) {
    // Short APDUs only (ISO/IEC 7816-4 §5.1), and a native frame within the card's limit:
    // commands split their data before this point, so this is a host defect, caught before the
    // card would answer 91 7E.
    const std::size_t limit = isoChained(ins) ? 255 : m_frames.commandData;
    if (body.size() > limit) {
        return failure<Bytes>(ErrorCode::Configuration,
                              fmt::format("command {:02X} has {} bytes of data, more than the {} "
                                          "one frame to this card carries",
                                          ins, body.size(), limit));
    }
    Bytes apdu{kWrapCla, ins, 0x00, 0x00};
    if (!body.empty()) {
        apdu.push_back(static_cast<std::uint8_t>(body.size()));
        append(apdu, body);
    }
    apdu.push_back(0x00);
    ++m_apdus;
    m_bytesSent += apdu.size();
    auto response = m_connection.transmit(apdu);
    if (!response) {
        resetSession();
        Error e = error(ErrorCode::Transport, response.error().message);
        e.fault = response.error().code;
        return fail(std::move(e));
    }
    Bytes& r = response.value();
    m_bytesReceived += r.size();
    if (r.size() < 2) {
        resetSession();
        return failure<Bytes>(ErrorCode::Malformed,
                              fmt::format("the card's answer to command {:02X} is {} bytes, "
                                          "shorter than a status word",
                                          ins, r.size()));
    }
    const std::uint8_t sw1 = r[r.size() - 2];
    const std::uint8_t sw2 = r[r.size() - 1];
    r.resize(r.size() - 2);
    if (sw1 != kWrapSw1) {
        resetSession();
        return failure<Bytes>(ErrorCode::Malformed,
                              fmt::format("the card answered command {:02X} with ISO status "
                                          "{:02X}{:02X}: not a DESFire card, or the "
                                          "application is not selected",
                                          ins, sw1, sw2));
    }
    const auto status = static_cast<Status>(sw2);
    if (status == Status::AdditionalFrame) {
        more = true;
        return std::move(r);
    }
    more = false;
    if (status != Status::Ok) {
        // An error ends the card's session (AN12343 §6.1): forget ours too.
        resetSession();
        Error e = error(ErrorCode::CardStatus,
                        fmt::format("command {:02X}: {} (91{:02X})", ins, describe(status), sw2));
        e.status = status;
        return fail(std::move(e));
    }
    return std::move(r);
}

Res<Bytes> Desfire::transceiveFrames(std::uint8_t ins, ByteView body) {
    // Command data longer than a frame go in pieces: the first with the command's code, the
    // rest with AF, each answered 91 AF until the last (datasheet §9.3; libfreefare write_data,
    // proxmark3 DesfireExchangeISO).
    const std::size_t frame = isoChained(ins) ? body.size() : m_frames.commandData;
    std::size_t sent = std::min(body.size(), frame);
    bool more = false;
    auto first = exchange(ins, body.first(sent), more);
    while (first && sent < body.size()) {
        if (!more || !first->empty()) {
            resetSession();
            return failure<Bytes>(ErrorCode::Malformed,
                                  fmt::format("command {:02X}: the card answered after {} of its "
                                              "{} bytes, before taking them all",
                                              ins, sent, body.size()));
        }
        const std::size_t n = std::min(body.size() - sent, m_frames.commandData);
        first = exchange(kInsAdditionalFrame, body.subspan(sent, n), more);
        sent += n;
    }
    if (!first) {
        return first;
    }
    Bytes all = std::move(first).value();
    // Responses longer than a frame arrive in pieces: ask for each with AF (datasheet §9.3).
    for (int frames = 1; more; ++frames) {
        if (frames > 64) {
            return failure<Bytes>(ErrorCode::Malformed, "the card keeps sending more frames");
        }
        auto next = exchange(kInsAdditionalFrame, {}, more);
        if (!next) {
            return next;
        }
        append(all, next.value());
    }
    return all;
}

Bytes Desfire::commandMac(const Ev2Session& s, std::uint8_t ins, ByteView headerAndData) const {
    Bytes input = macInput(ins, s.counter, s.transactionId);
    append(input, headerAndData);
    return truncateMac(cmac(KeyType::Aes128, s.macKey, input));
}

Res<Bytes> Desfire::run(const Command& c) {
    if (c.ins == 0x5A) {
        // Selecting an application ends any session (datasheet §10.2.1).
        resetSession();
    }
    if (m_ev1) {
        return runEv1(c);
    }
    if (!m_session) {
        Bytes body = c.header;
        append(body, c.data);
        return transceiveFrames(c.ins, body);
    }
    Ev2Session& s = *m_session;
    Bytes body = c.header;
    if (c.commandMode == CommMode::Full && !c.data.empty()) {
        const Bytes iv = ev2Iv(s.encKey, false, s.transactionId, s.counter);
        append(body, encryptCbc(KeyType::Aes128, s.encKey, iv, padIso9797M2(c.data, 16)));
    } else {
        append(body, c.data);
    }
    if (c.commandMode != CommMode::Plain) {
        append(body, commandMac(s, c.ins, body));
    }
    auto response = transceiveFrames(c.ins, body);
    if (!response) {
        return response;
    }
    if (!m_session) {
        return response; // the command ended the session (e.g. a key changed)
    }
    // The counter counts command-response pairs (AN12343 §6.2).
    ++s.counter;
    Bytes data = std::move(response).value();
    if (c.responseMode == CommMode::Plain) {
        return data;
    }
    if (data.size() < 8) {
        resetSession();
        return failure<Bytes>(ErrorCode::IntegrityError,
                              "the card's answer lacks its MAC: the session is closed");
    }
    const Bytes mac(data.end() - 8, data.end());
    data.resize(data.size() - 8);
    Bytes input = macInput(static_cast<std::uint8_t>(Status::Ok), s.counter, s.transactionId);
    append(input, data);
    const Bytes expected = truncateMac(cmac(KeyType::Aes128, s.macKey, input));
    if (CRYPTO_memcmp(expected.data(), mac.data(), 8) != 0) {
        resetSession();
        return failure<Bytes>(ErrorCode::IntegrityError,
                              "the MAC of the card's answer does not match: the data were "
                              "altered on the way, or this is not the card we authenticated");
    }
    if (c.responseMode == CommMode::Full && !data.empty()) {
        if (data.size() % 16 != 0) {
            resetSession();
            return failure<Bytes>(ErrorCode::Malformed, "encrypted data are not whole blocks");
        }
        const Bytes iv = ev2Iv(s.encKey, true, s.transactionId, s.counter);
        Bytes plain = decryptCbc(KeyType::Aes128, s.encKey, iv, data);
        // Remove ISO/IEC 9797-1 method 2 padding: the last 0x80 and the zeros after it.
        auto last =
            std::find_if(plain.rbegin(), plain.rend(), [](std::uint8_t b) { return b != 0; });
        if (last == plain.rend() || *last != 0x80) {
            resetSession();
            return failure<Bytes>(ErrorCode::IntegrityError, "the decrypted answer is not padded");
        }
        plain.resize(static_cast<std::size_t>(plain.rend() - last - 1));
        return plain;
    }
    return data;
}

// --- Authentication (AN12343 §6.4, AN12196 §4.2) ----------------------------------------

Desfire::Handshake::~Handshake() {
    wipe(rndA);
    wipe(rndB);
}

Res<Desfire::Handshake>
Desfire::handshake(std::uint8_t ins, ByteView body, std::size_t randomLength,
                   std::size_t answerLength, const std::function<Bytes(ByteView)>& openChallenge,
                   const std::function<Bytes(ByteView, ByteView)>& sealToken) {
    bool more = false;
    auto challenge = exchange(ins, body, more);
    if (!challenge) {
        return fail(challenge.error());
    }
    if (!more || challenge->size() != randomLength) {
        return failure<Handshake>(ErrorCode::Malformed,
                                  fmt::format("the card's challenge is {} bytes, not {}",
                                              challenge->size(), randomLength));
    }
    Handshake h;
    h.rndB = openChallenge(challenge.value());
    h.rndA = m_random(randomLength);
    Bytes token = h.rndA;
    append(token, rotateLeft(h.rndB));
    h.sent = sealToken(challenge.value(), token);
    wipe(token);
    auto answer = exchange(kInsAdditionalFrame, h.sent, more);
    if (!answer) {
        return fail(answer.error());
    }
    if (more || answer->size() != answerLength) {
        return failure<Handshake>(ErrorCode::Malformed,
                                  fmt::format("the card's authentication answer is {} bytes, "
                                              "not {}",
                                              answer->size(), answerLength));
    }
    h.answer = std::move(answer).value();
    return h;
}

Res<Done> Desfire::authenticateEv2(bool first, std::uint8_t keyNo, ByteView key) {
    if (key.size() != 16) {
        return failure<Done>(ErrorCode::Malformed, "EV2 authentication takes an AES-128 key");
    }
    if (!first && !m_session) {
        return failure<Done>(ErrorCode::NotAuthenticated,
                             "AuthenticateEV2NonFirst needs an EV2 session");
    }
    const std::uint8_t ins = first ? 0x71 : 0x77;
    // First: KeyNo || LenCap (0: no PCD capabilities). NonFirst: KeyNo.
    const Bytes part1 = first ? Bytes{keyNo, 0x00} : Bytes{keyNo};
    std::optional<Ev2Session> previous = std::move(m_session);
    m_session.reset();
    const Bytes zeroIv(16, 0);
    auto h = handshake(
        ins, part1, 16, first ? 32 : 16,
        [&](ByteView c) { return decryptCbc(KeyType::Aes128, key, zeroIv, c); },
        [&](ByteView, ByteView token) { return encryptCbc(KeyType::Aes128, key, zeroIv, token); });
    if (!h) {
        return fail(h.error());
    }
    // First: TI || RndA' || PDcap2 || PCDcap2. NonFirst: RndA'.
    Bytes plain = decryptCbc(KeyType::Aes128, key, zeroIv, h->answer);
    const std::size_t rndAAt = first ? 4 : 0;
    const Bytes rotatedA = rotateLeft(h->rndA);
    if (CRYPTO_memcmp(plain.data() + rndAAt, rotatedA.data(), 16) != 0) {
        wipe(plain);
        return failure<Done>(
            ErrorCode::IntegrityError,
            "the card did not prove it holds the key: wrong card or forged answer");
    }
    Ev2SessionKeys keys = ev2SessionKeys(key, h->rndA, h->rndB);
    Ev2Session s;
    s.encKey = std::move(keys.enc);
    s.macKey = std::move(keys.mac);
    s.keyNo = keyNo;
    if (first) {
        s.transactionId.assign(plain.begin(), plain.begin() + 4);
        s.counter = 0;
    } else {
        s.transactionId = previous->transactionId;
        s.counter = previous->counter;
    }
    wipe(plain);
    m_session = std::move(s);
    return Done{};
}

Res<Done> Desfire::authenticateEv2First(std::uint8_t keyNo, ByteView key) {
    return authenticateEv2(true, keyNo, key);
}

Res<Done> Desfire::authenticateEv2NonFirst(std::uint8_t keyNo, ByteView key) {
    return authenticateEv2(false, keyNo, key);
}

Res<Done> Desfire::changeKey(std::uint8_t keyNo, ByteView newKey, std::uint8_t newVersion,
                             std::optional<ByteView> oldKey) {
    if (!m_session) {
        return failure<Done>(ErrorCode::NotAuthenticated,
                             "ChangeKey needs an authenticated session");
    }
    if (newKey.size() != 16) {
        return failure<Done>(ErrorCode::Malformed, "the union's keys are AES-128 (16 bytes)");
    }
    // AN12343 §10.7.1 / AN12196 §6.16: changing the key of the session: NewKey || KeyVer;
    // another key: (NewKey XOR OldKey) || KeyVer || CRC32(NewKey).
    const bool sameKey = (keyNo & 0x3F) == m_session->keyNo;
    Bytes data;
    if (sameKey) {
        append(data, newKey);
        data.push_back(newVersion);
    } else {
        if (!oldKey || oldKey->size() != 16) {
            return failure<Done>(ErrorCode::Malformed,
                                 "changing another key needs that key's current value");
        }
        for (std::size_t i = 0; i < 16; ++i) {
            data.push_back(newKey[i] ^ (*oldKey)[i]);
        }
        data.push_back(newVersion);
        const std::uint32_t crc = crc32Desfire(newKey);
        for (int i = 0; i < 4; ++i) {
            data.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
        }
    }
    Command c{
        0xC4, {keyNo}, std::move(data), CommMode::Full, sameKey ? CommMode::Plain : CommMode::Mac};
    auto r = run(c);
    wipe(c.data);
    if (!r) {
        return fail(r.error());
    }
    if (sameKey) {
        // The session's key is gone: the card has ended the session (no response MAC).
        resetSession();
    }
    return Done{};
}

Res<Done> Desfire::enableRandomUid() {
    // SetConfiguration (0x5C) option 0x00, data byte bit 1: random ID (datasheet §10.4.4).
    Command c{0x5C, {0x00}, {0x02}, CommMode::Full, CommMode::Mac};
    auto r = run(c);
    if (!r) {
        return fail(r.error());
    }
    return Done{};
}

// --- EV1: AuthenticateAES and CMAC secure messaging ---------------------------------------
//
// DESFire EV1 keeps one running IV per session, zero after authentication. Every command
// (INS || header || data) is CMAC'd through it, the CMAC becoming the next IV; the 8-byte
// CMAC is sent only after file data written in MAC mode. Every answer carries the first 8 bytes of
// the CMAC over data || status, chained the same way. Facts from libfreefare
// (mifare_desfire_crypto.c, mifare_cryto_preprocess_data / postprocess_data, AS_NEW).

Res<Done> Desfire::authenticateAes(std::uint8_t keyNo, ByteView key) {
    if (key.size() != 16) {
        return failure<Done>(ErrorCode::Malformed, "AuthenticateAES takes an AES-128 key");
    }
    resetSession();
    // The CBC chain runs through the whole exchange: the challenge's ciphertext is the IV of
    // the host's answer, whose last block is the IV of the card's.
    auto h = handshake(
        0xAA, Bytes{keyNo}, 16, 16,
        [&](ByteView c) { return decryptCbc(KeyType::Aes128, key, Bytes(16, 0), c); },
        [&](ByteView c, ByteView token) { return encryptCbc(KeyType::Aes128, key, c, token); });
    if (!h) {
        return fail(h.error());
    }
    Bytes rotatedA = decryptCbc(KeyType::Aes128, key, ByteView(h->sent).last(16), h->answer);
    const bool ok = CRYPTO_memcmp(rotatedA.data(), rotateLeft(h->rndA).data(), 16) == 0;
    wipe(rotatedA);
    if (!ok) {
        return failure<Done>(
            ErrorCode::IntegrityError,
            "the card did not prove it holds the key: wrong card or forged answer");
    }
    Ev1Session session;
    session.key = ev1AesSessionKey(h->rndA, h->rndB);
    session.iv = Bytes(16, 0);
    m_ev1 = std::move(session);
    return Done{};
}

Res<Bytes> Desfire::runEv1(const Command& c) {
    if (c.commandMode == CommMode::Full || c.responseMode == CommMode::Full) {
        return failure<Bytes>(ErrorCode::Configuration,
                              "FULL mode after AuthenticateAES (EV1) is not supported here: "
                              "authenticate with AuthenticateEV2First");
    }
    Ev1Session& s = *m_ev1;
    Bytes body = c.header;
    append(body, c.data);
    Bytes macInputCmd{c.ins};
    append(macInputCmd, body);
    s.iv = cmacChained(s.key, s.iv, macInputCmd);
    // EV1 sends the CMAC only with file data written in MAC mode; management commands are
    // CMAC'd into the chain but go plain (libfreefare: MDCM_MACED with MAC_COMMAND).
    if (c.commandMode == CommMode::Mac && !c.data.empty()) {
        append(body, ByteView(s.iv).first(8));
    }
    auto response = transceiveFrames(c.ins, body);
    if (!response || !m_ev1) {
        return response;
    }
    Bytes data = std::move(response).value();
    if (data.size() < 8) {
        resetSession();
        return failure<Bytes>(ErrorCode::IntegrityError,
                              "the card's answer lacks its CMAC: the session is closed");
    }
    const Bytes mac(data.end() - 8, data.end());
    data.resize(data.size() - 8);
    Bytes input = data;
    input.push_back(static_cast<std::uint8_t>(Status::Ok));
    s.iv = cmacChained(s.key, s.iv, input);
    if (CRYPTO_memcmp(s.iv.data(), mac.data(), 8) != 0) {
        resetSession();
        return failure<Bytes>(ErrorCode::IntegrityError,
                              "the CMAC of the card's answer does not match: the data were "
                              "altered on the way, or this is not the card we authenticated");
    }
    return data;
}

// --- Legacy (DESFire EV0 "native") authentication and ChangeKey --------------------------
//
// The legacy scheme runs the block cipher in "send mode" (the host deciphers what it sends:
// each block is D(K, plain XOR previous output)) and "receive mode" (plain = D(K, block) XOR
// previous input), with the chaining value reset to zero for every message. Facts from the
// DESFire (EV0) protocol as libfreefare implements it (mifare_desfire.c `authenticate`,
// mifare_desfire_crypto.c `mifare_cypher_blocks_chained`).

namespace {

Bytes legacySend(ByteView key, ByteView data) {
    Bytes out;
    Bytes previous(8, 0);
    for (std::size_t i = 0; i < data.size(); i += 8) {
        Bytes block(data.begin() + static_cast<long>(i), data.begin() + static_cast<long>(i + 8));
        for (std::size_t k = 0; k < 8; ++k) {
            block[k] ^= previous[k];
        }
        previous = decryptEcb(KeyType::Des2K, key, block);
        append(out, previous);
    }
    return out;
}

Bytes legacyReceive(ByteView key, ByteView data) {
    return decryptCbc(KeyType::Des2K, key, Bytes(8, 0), data);
}

// CRC_A of ISO/IEC 14443-3 (init 0x6363, reflected polynomial 0x8408), LSB first.
Bytes crcA(ByteView data) {
    std::uint16_t crc = 0x6363;
    for (std::uint8_t b : data) {
        b ^= static_cast<std::uint8_t>(crc & 0xFF);
        b ^= static_cast<std::uint8_t>(b << 4);
        crc = static_cast<std::uint16_t>((crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4));
    }
    return {static_cast<std::uint8_t>(crc), static_cast<std::uint8_t>(crc >> 8)};
}

} // namespace

Res<Done> Desfire::authenticateLegacy(std::uint8_t keyNo, ByteView key) {
    if (key.size() != 16) {
        return failure<Done>(ErrorCode::Malformed, "legacy authentication takes a 16-byte DES key");
    }
    resetSession();
    auto h = handshake(
        0x0A, Bytes{keyNo}, 8, 8, [&](ByteView c) { return legacyReceive(key, c); },
        [&](ByteView, ByteView token) { return legacySend(key, token); });
    if (!h) {
        return fail(h.error());
    }
    Bytes rotatedA = legacyReceive(key, h->answer);
    const bool ok = CRYPTO_memcmp(rotatedA.data(), rotateLeft(h->rndA).data(), 8) == 0;
    wipe(rotatedA);
    if (!ok) {
        return failure<Done>(
            ErrorCode::IntegrityError,
            "the card did not prove it holds the key: wrong card or forged answer");
    }
    // A key with equal halves is single DES to the card, and so is its session key.
    // (Built here and assigned: clang decides optional<LegacySession>'s traits inside the class
    // definition, before the member initialisers are known, and then refuses emplace().)
    LegacySession session;
    session.key = isSingleDesKey(key) ? ev1SingleDesSessionKey(h->rndA, h->rndB)
                                      : ev1DesSessionKey(KeyType::Des2K, h->rndA, h->rndB);
    session.keyNo = keyNo;
    m_legacy = std::move(session);
    return Done{};
}

Res<Done> Desfire::changeKeySettings(std::uint8_t settings) {
    if (!m_legacy) {
        auto r = run(cmd::changeKeySettings(settings));
        if (!r) {
            return fail(r.error());
        }
        return Done{};
    }
    // D40: settings || CRC_A(settings), zero-padded to a DES block, sent in send mode
    // (libfreefare mifare_desfire_change_key_settings with AS_LEGACY ENC_COMMAND).
    Bytes plain{settings};
    append(plain, crcA(plain));
    plain.resize(8, 0x00);
    const Bytes body = legacySend(m_legacy->key, plain);
    wipe(plain);
    const auto r = transceiveFrames(0x54, body);
    if (!r) {
        return fail(r.error());
    }
    return Done{};
}

Res<Done> Desfire::changeKeyLegacy(std::uint8_t keyNo, ByteView newAesKey,
                                   std::uint8_t newVersion) {
    if (!m_legacy) {
        return failure<Done>(ErrorCode::NotAuthenticated, "needs a legacy session");
    }
    if (newAesKey.size() != 16 || (keyNo & 0x0F) != m_legacy->keyNo) {
        return failure<Done>(ErrorCode::Malformed,
                             "a legacy ChangeKey here replaces the authenticated key with AES");
    }
    // NewKey || KeyVer || CRC_A(NewKey || KeyVer), zero-padded to whole DES blocks, sent in
    // send mode under the session key.
    Bytes plain(newAesKey.begin(), newAesKey.end());
    plain.push_back(newVersion);
    append(plain, crcA(plain));
    plain.resize((plain.size() + 7) / 8 * 8, 0x00);
    Bytes body{keyNo};
    append(body, legacySend(m_legacy->key, plain));
    wipe(plain);
    const auto r = transceiveFrames(0xC4, body);
    resetSession(); // the session's key is gone, on success and on failure alike
    if (!r) {
        return fail(r.error());
    }
    return Done{};
}

// --- Convenience wrappers -----------------------------------------------------------------

Res<Version> Desfire::getVersion() {
    auto r = run(cmd::getVersion());
    if (!r) {
        return fail(r.error());
    }
    const Bytes& b = r.value();
    // Three frames: hardware (7), software (7), UID 7 + batch 5 + week + year (14).
    if (b.size() != 28) {
        return failure<Version>(ErrorCode::Malformed,
                                fmt::format("GetVersion returned {} bytes, not 28", b.size()));
    }
    Version v;
    v.hardware.assign(b.begin(), b.begin() + 7);
    v.software.assign(b.begin() + 7, b.begin() + 14);
    v.uid.assign(b.begin() + 14, b.begin() + 21);
    v.batch.assign(b.begin() + 21, b.begin() + 26);
    v.productionWeek = b[26];
    v.productionYear = b[27];
    return v;
}

Res<Bytes> Desfire::getCardUid() {
    if (!m_session && !m_ev1) {
        return failure<Bytes>(ErrorCode::NotAuthenticated,
                              "GetCardUID needs an authenticated session");
    }
    return run(cmd::getCardUid());
}

Res<std::vector<std::uint32_t>> Desfire::getApplicationIds() {
    auto r = run(cmd::getApplicationIds());
    if (!r) {
        return fail(r.error());
    }
    if (r->size() % 3 != 0) {
        return failure<std::vector<std::uint32_t>>(ErrorCode::Malformed,
                                                   "application ids are not 3 bytes each");
    }
    std::vector<std::uint32_t> ids;
    for (std::size_t i = 0; i < r->size(); i += 3) {
        ids.push_back(static_cast<std::uint32_t>((*r)[i]) |
                      static_cast<std::uint32_t>((*r)[i + 1]) << 8 |
                      static_cast<std::uint32_t>((*r)[i + 2]) << 16);
    }
    return ids;
}

Res<Bytes> Desfire::getFileIds() {
    return run(cmd::getFileIds());
}

Res<KeySettings> Desfire::getKeySettings() {
    auto r = run(cmd::getKeySettings());
    if (!r) {
        return fail(r.error());
    }
    if (r->size() != 2) {
        return failure<KeySettings>(ErrorCode::Malformed,
                                    "GetKeySettings returned the wrong length");
    }
    const std::uint8_t crypto = (*r)[1] & 0xC0;
    return KeySettings{(*r)[0], static_cast<std::uint8_t>((*r)[1] & 0x0F),
                       crypto == 0x80   ? KeyType::Aes128
                       : crypto == 0x40 ? KeyType::Des3K
                                        : KeyType::Des2K};
}

Res<std::uint8_t> Desfire::getKeyVersion(std::uint8_t keyNo) {
    auto r = run(cmd::getKeyVersion(keyNo));
    if (!r) {
        return fail(r.error());
    }
    if (r->size() != 1) {
        return failure<std::uint8_t>(ErrorCode::Malformed,
                                     "GetKeyVersion returned the wrong length");
    }
    return (*r)[0];
}

Res<std::uint32_t> Desfire::freeMemory() {
    auto r = run(cmd::freeMemory());
    if (!r) {
        return fail(r.error());
    }
    if (r->size() != 3) {
        return failure<std::uint32_t>(ErrorCode::Malformed, "FreeMemory returned the wrong length");
    }
    return static_cast<std::uint32_t>((*r)[0]) | static_cast<std::uint32_t>((*r)[1]) << 8 |
           static_cast<std::uint32_t>((*r)[2]) << 16;
}

Res<Done> Desfire::formatPicc() {
    auto r = run(cmd::formatPicc());
    if (!r) {
        return fail(r.error());
    }
    return Done{};
}

Res<Done> Desfire::selectApplication(std::uint32_t aid) {
    auto r = run(cmd::selectApplication(aid));
    if (!r) {
        return fail(r.error());
    }
    return Done{};
}

Res<Bytes> Desfire::readData(std::uint8_t fileNo, std::uint32_t offset, std::uint32_t length,
                             CommMode mode) {
    // Answers come back in as many frames as they need (AF chaining), so one command reads a
    // whole file of ordinary size; only very long reads are split.
    constexpr std::uint32_t kReadChunk = 1024;
    Bytes out;
    for (std::uint32_t done = 0; done < length;) {
        const std::uint32_t n = std::min(kReadChunk, length - done);
        auto r = run(cmd::readData(fileNo, offset + done, n, mode));
        if (!r) {
            return r;
        }
        if (r->size() != n) {
            return failure<Bytes>(
                ErrorCode::Malformed,
                fmt::format("asked for {} bytes, the card sent {}", n, r->size()));
        }
        append(out, r.value());
        done += n;
    }
    return out;
}

Res<Bytes> Desfire::readDataChained(std::uint8_t fileNo, std::uint32_t offset, std::uint32_t length,
                                    CommMode mode) {
    if (length == 0 || length > kMaxChainedRead) {
        return failure<Bytes>(
            ErrorCode::Configuration,
            fmt::format("a chained read takes 1 to {} bytes, not {}", kMaxChainedRead, length));
    }
    auto r = run(cmd::readDataChained(fileNo, offset, length, mode));
    if (r && r->size() != length) {
        return failure<Bytes>(
            ErrorCode::Malformed,
            fmt::format("asked for {} bytes, the card sent {}", length, r->size()));
    }
    return r;
}

Res<Done> Desfire::writeData(std::uint8_t fileNo, std::uint32_t offset, ByteView data,
                             CommMode mode) {
    const bool iso = m_frames.chaining == Chaining::Iso;
    const std::size_t chunk = iso ? isoWriteChunk(mode) : kNativeWriteChunk;
    for (std::size_t done = 0; done < data.size();) {
        const std::size_t n = std::min(chunk, data.size() - done);
        const auto at = static_cast<std::uint32_t>(offset + done);
        auto r = run(iso ? cmd::writeDataChained(fileNo, at, data.subspan(done, n), mode)
                         : cmd::writeData(fileNo, at, data.subspan(done, n), mode));
        if (!r) {
            return fail(r.error());
        }
        done += n;
    }
    return Done{};
}

} // namespace unioncard::card::desfire
