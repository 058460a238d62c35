// SPDX-License-Identifier: Apache-2.0
#pragma once

// MIFARE DESFire EV2/EV3, host side, over ISO/IEC 7816-4 wrapped native commands
// (`90 INS 00 00 Lc data 00`, status `91 xx`, `91 AF` for more frames; DESFire EV2 datasheet
// §9.1 "ISO/IEC 7816-4 wrapping"), with EV2 secure messaging (AN12343 §6, AN12196 §4).
//
// Each command is a value (`Command`) built by a function in `cmd::`, so its bytes can be
// checked against the datasheet with no card; `Desfire` sends commands through a
// CardConnection, chains frames, and applies the secure messaging of the current session.

#include <unioncard/card/desfire/crypto.hpp>
#include <unioncard/card/result.hpp>
#include <unioncard/card/transport.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace unioncard::card::desfire {

/// Status codes of the card (DESFire EV2 datasheet, "Status and error codes").
enum class Status : std::uint8_t {
    Ok = 0x00,
    NoChanges = 0x0C,
    OutOfMemory = 0x0E,
    IllegalCommand = 0x1C,
    IntegrityError = 0x1E,
    NoSuchKey = 0x40,
    LengthError = 0x7E,
    PermissionDenied = 0x9D,
    ParameterError = 0x9E,
    ApplicationNotFound = 0xA0,
    AuthenticationError = 0xAE,
    AdditionalFrame = 0xAF,
    BoundaryError = 0xBE,
    CommandAborted = 0xCA,
    DuplicateError = 0xDE,
    FileNotFound = 0xF0,
};

std::string_view describe(Status status);

enum class ErrorCode {
    Transport,        ///< the reader or the card went away: see `fault`
    CardStatus,       ///< the card answered with an error status: see `status`
    IntegrityError,   ///< a response MAC or check did not match: an attack or a broken card
    Malformed,        ///< the card's answer breaks the protocol
    NotAuthenticated, ///< the command needs a session this object does not have
    WrongCard,        ///< not the card the operation needs (not blank, not a union card, ...)
    Configuration,    ///< the profile or the key store lacks what the operation needs
    KeyRetired,       ///< the card's keys are of a version the union has retired (trust list)
};

struct Error {
    ErrorCode code;
    std::string message;
    std::optional<Status> status;
    std::optional<FaultCode> fault;
};

template <class T> using Res = Result<T, Error>;
struct Done {}; ///< a command that returns nothing

/// Communication modes of files and commands (datasheet "communication modes").
enum class CommMode : std::uint8_t { Plain = 0x00, Mac = 0x01, Full = 0x03 };

/// A native command: INS, the header part (sent in plain and covered by the MAC), the data
/// part (encrypted in FULL mode), and how the command and its response are protected.
struct Command {
    std::uint8_t ins;
    Bytes header;
    Bytes data;
    CommMode commandMode = CommMode::Plain;
    CommMode responseMode = CommMode::Plain;
};

/// Access rights of a file: key numbers 0-13, 0xE free access, 0xF never.
struct AccessRights {
    std::uint8_t read = 0xF;
    std::uint8_t write = 0xF;
    std::uint8_t readWrite = 0xF;
    std::uint8_t change = 0xF;
    /// The two bytes as sent: (RW << 4 | Change), (Read << 4 | Write), LSB first.
    Bytes encode() const;
};

inline constexpr std::uint8_t kFreeAccess = 0xE;
inline constexpr std::uint8_t kNoAccess = 0xF;

/// The chip generation GetVersion names (hardware type 01, DESFire; major version 00 D40
/// (MF3ICD40), 01 EV1, 12 or 22 EV2 (22: EV2 XL), 33 EV3; proxmark3 cmdhfmfdes.c getCardType).
enum class Generation { Unknown, D40, Ev1, Ev2, Ev3 };
std::string_view describe(Generation generation);

struct Version {
    Bytes hardware; ///< 7 bytes: vendor, type, subtype, major, minor, storage size, protocol
    Bytes software; ///< 7 bytes
    Bytes uid;      ///< 7 bytes (zeros when random UID is on)
    Bytes batch;    ///< 5 bytes batch number
    std::uint8_t productionWeek = 0;
    std::uint8_t productionYear = 0;
    /// Storage in bytes from the size byte (2^(n>>1), "+" when the low bit is set).
    std::size_t storageBytes() const;
    /// What the hardware version names; Unknown for another vendor, type or version.
    Generation generation() const;
};

/// How commands longer than one native frame travel (the card profile's [chip] settings).
enum class Chaining {
    Native, ///< one command in frames of `commandData` bytes, each answered 91 AF (every DESFire)
    Iso,    ///< ReadData AD / WriteData 8D, split by the reader's ISO/IEC 14443-4 chaining (EV2+)
};

struct FrameLimits {
    /// Data bytes (Lc) of one ISO/IEC 7816-4 wrapped native frame: a wrapped command and its
    /// code are at most 55 bytes (NXP reader library PHAL_MFDFEVX_MAXWRAPPEDAPDU_SIZE; libfreefare
    /// MAX_CAPDU_SIZE; proxmark3 DESFIRE_TX_FRAME_MAX_LEN 54).
    std::size_t commandData = 54;
    Chaining chaining = Chaining::Iso;
};

struct KeySettings {
    std::uint8_t settings = 0;
    std::uint8_t maxKeys = 0;
    KeyType keyType = KeyType::Des2K;
};

namespace cmd {
Command getVersion();
Command getCardUid();
Command getApplicationIds();
Command getFileIds();
Command getKeySettings();
Command getKeyVersion(std::uint8_t keyNo);
Command freeMemory();
Command formatPicc();
Command selectApplication(std::uint32_t aid);
Command createApplication(std::uint32_t aid, std::uint8_t keySettings, std::uint8_t keyCount,
                          KeyType keyType);
Command deleteApplication(std::uint32_t aid);
Command createStdDataFile(std::uint8_t fileNo, CommMode mode, AccessRights rights,
                          std::uint32_t size);
Command createBackupDataFile(std::uint8_t fileNo, CommMode mode, AccessRights rights,
                             std::uint32_t size);
Command readData(std::uint8_t fileNo, std::uint32_t offset, std::uint32_t length, CommMode mode);
/// ReadData with command code 0xAD instead of 0xBD (EV2 and later): the card sends the whole
/// answer with ISO/IEC 14443-4 I-block chaining, which the reader reassembles, instead of
/// 91 AF frames of at most 59 bytes. NXP's reader library names it "Read Data using ISO
/// chaining" (phalMfdfEVx, PHAL_MFDFEVX_CMD_READ_DATA_ISO); proxmark3 sends it for
/// `hf mfdes read --isochain`.
Command readDataChained(std::uint8_t fileNo, std::uint32_t offset, std::uint32_t length,
                        CommMode mode);
Command writeData(std::uint8_t fileNo, std::uint32_t offset, ByteView data, CommMode mode);
/// WriteData with ISO/IEC 14443-4 chaining (INS 8D, EV2 and later): the whole command in one
/// APDU, which the reader splits into frames the card takes.
Command writeDataChained(std::uint8_t fileNo, std::uint32_t offset, ByteView data, CommMode mode);
Command commitTransaction();
Command abortTransaction();
Command changeKeySettings(std::uint8_t settings);
} // namespace cmd

/// Encodes an AID as the card takes it: three bytes, least significant first.
Bytes encodeAid(std::uint32_t aid);

class Desfire {
public:
    explicit Desfire(CardConnection& connection) : m_connection(connection) {}
    ~Desfire();
    Desfire(const Desfire&) = delete;
    Desfire& operator=(const Desfire&) = delete;

    /// Sends a command under the current session's secure messaging and returns its response
    /// data (MAC checked and removed, decrypted in FULL mode).
    Res<Bytes> run(const Command& command);

    Res<Version> getVersion();
    Res<Bytes> getCardUid();
    Res<std::vector<std::uint32_t>> getApplicationIds();
    Res<Bytes> getFileIds();
    Res<KeySettings> getKeySettings();
    Res<std::uint8_t> getKeyVersion(std::uint8_t keyNo);
    Res<std::uint32_t> freeMemory();
    Res<Done> formatPicc();
    Res<Done> selectApplication(std::uint32_t aid);
    Res<Bytes> readData(std::uint8_t fileNo, std::uint32_t offset, std::uint32_t length,
                        CommMode mode);
    /// One PC/SC exchange for up to kMaxChainedRead bytes (cmd::readDataChained): the data and
    /// its 8-byte MAC must fit a short response (Le 00, 256 bytes).
    static constexpr std::uint32_t kMaxChainedRead = 248;
    Res<Bytes> readDataChained(std::uint8_t fileNo, std::uint32_t offset, std::uint32_t length,
                               CommMode mode);
    /// Writes the data as the frame limits allow: with ISO chaining, one WriteData 8D per short
    /// APDU (up to 240 bytes of data under MAC); natively, one WriteData 3D whose frames follow
    /// with AF. A backup file takes effect only at commitTransaction().
    Res<Done> writeData(std::uint8_t fileNo, std::uint32_t offset, ByteView data, CommMode mode);
    /// ChangeKeySettings of the selected level, in an EV2 session or a legacy one (D40: the
    /// settings and their CRC_A enciphered in send mode).
    Res<Done> changeKeySettings(std::uint8_t settings);

    /// The connection the card is on (to hold it for a whole operation: CardHold).
    CardConnection& connection() { return m_connection; }

    /// The card's frame limits, which every command after this obeys.
    void setFrameLimits(FrameLimits limits) { m_frames = limits; }
    const FrameLimits& frameLimits() const { return m_frames; }

    /// Legacy Authenticate (0x0A) with a DES or 2K3DES key, as a factory-fresh card's PICC
    /// master key (16 zero bytes) needs. The session allows plain commands (CreateApplication),
    /// changeKeySettings() and changeKeyLegacy().
    Res<Done> authenticateLegacy(std::uint8_t keyNo, ByteView key);
    /// ChangeKey of the key authenticated with, in a legacy session, to an AES-128 key (for
    /// the PICC master key, `keyNo` carries 0x80). Ends the session.
    Res<Done> changeKeyLegacy(std::uint8_t keyNo, ByteView newAesKey, std::uint8_t newVersion);

    /// EV1 AuthenticateAES (0xAA): a session with EV1 secure messaging (CMAC chained through
    /// the session IV on every command and response). cardlib supports its plain and MAC modes;
    /// FULL mode and ChangeKey need EV2 here (the union's profile uses EV2 only).
    Res<Done> authenticateAes(std::uint8_t keyNo, ByteView key);

    /// AuthenticateEV2First (AN12343 §6.4): a new transaction; the command counter restarts.
    Res<Done> authenticateEv2First(std::uint8_t keyNo, ByteView key);
    /// AuthenticateEV2NonFirst: a new key in the same transaction (TI and counter kept).
    Res<Done> authenticateEv2NonFirst(std::uint8_t keyNo, ByteView key);
    /// ChangeKey (datasheet §10.5.1) under the current EV2 session. `keyNo` may carry the
    /// key-type bits for the PICC master key (0x80 AES). When changing a key other than the
    /// one authenticated with, `oldKey` is required (its XOR goes into the cryptogram).
    Res<Done> changeKey(std::uint8_t keyNo, ByteView newKey, std::uint8_t newVersion,
                        std::optional<ByteView> oldKey = std::nullopt);
    /// SetConfiguration option 00: random UID on (irreversible on a real card).
    Res<Done> enableRandomUid();

    bool authenticated() const {
        return m_session.has_value() || m_legacy.has_value() || m_ev1.has_value();
    }
    /// Forgets the session (as the card does after an error).
    void resetSession();

    /// APDUs sent through the connection since construction or the last resetCounters().
    std::size_t apduCount() const { return m_apdus; }
    /// Bytes of the APDUs sent and of the answers received (status words included).
    std::size_t bytesSent() const { return m_bytesSent; }
    std::size_t bytesReceived() const { return m_bytesReceived; }
    void resetCounters() {
        m_apdus = 0;
        m_bytesSent = 0;
        m_bytesReceived = 0;
    }

private:
    /// Test seam: the byte-trace replays (tests/unit/cardlib/desfire/trace_replay_test.cpp)
    /// define it to draw the published RndA and to enter a published session. No library or
    /// program defines it, so nothing outside those tests can.
    friend struct DesfireReplay;

    struct Ev2Session {
        Bytes encKey;
        Bytes macKey;
        Bytes transactionId; // 4 bytes
        std::uint16_t counter = 0;
        std::uint8_t keyNo = 0;
        ~Ev2Session(); // wipes the keys
    };

    Res<Bytes> exchange(std::uint8_t ins, ByteView body, bool& more);
    Res<Bytes> transceiveFrames(std::uint8_t ins, ByteView body);
    Res<Done> authenticateEv2(bool first, std::uint8_t keyNo, ByteView key);

    /// What one run of the challenge-response all authentications share leaves behind; the
    /// random numbers are wiped when it goes.
    struct Handshake {
        Bytes rndA;
        Bytes rndB;
        Bytes sent;   ///< the host's enciphered RndA || RndB'
        Bytes answer; ///< the card's enciphered proof
        ~Handshake();
    };
    /// The card sends E(RndB) for `ins` + `body`; the host answers with RndA || RndB' sealed
    /// by the scheme's cipher mode and receives `answerLength` bytes of proof.
    Res<Handshake> handshake(std::uint8_t ins, ByteView body, std::size_t randomLength,
                             std::size_t answerLength,
                             const std::function<Bytes(ByteView)>& openChallenge,
                             const std::function<Bytes(ByteView, ByteView)>& sealToken);
    Bytes commandMac(const Ev2Session& s, std::uint8_t ins, ByteView headerAndData) const;

    struct LegacySession {
        Bytes key; // 16 bytes, 2K3DES (a single-DES key has equal halves)
        std::uint8_t keyNo = 0;
        ~LegacySession(); // wipes the key
    };

    struct Ev1Session {
        Bytes key;     // the AES session key
        Bytes iv;      // the running CMAC chain, 16 bytes
        ~Ev1Session(); // wipes the key and the chain
    };
    Res<Bytes> runEv1(const Command& command);

    CardConnection& m_connection;
    std::optional<Ev2Session> m_session;
    std::optional<LegacySession> m_legacy;
    std::optional<Ev1Session> m_ev1;
    FrameLimits m_frames;
    std::function<Bytes(std::size_t)> m_random = randomBytes; // RndA: OpenSSL's RAND_bytes
    std::size_t m_apdus = 0;
    std::size_t m_bytesSent = 0;
    std::size_t m_bytesReceived = 0;
};

} // namespace unioncard::card::desfire
