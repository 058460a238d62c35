// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/cbor.hpp>
#include <unioncard/card/desfire/personalise.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>

namespace unioncard::card::desfire {

namespace {

constexpr const char* kRecordFile = "record";
constexpr const char* kReadRole = "record-read";
constexpr const char* kWriteRole = "record-write";
constexpr const char* kAppMasterRole = "app-master";
// A factory-fresh DESFire's PICC master key: the all-zero 2K3DES (single DES) key, and a new
// application's keys: all-zero AES keys (datasheet §10.4 "delivery configuration").
const Bytes kFactoryKey(16, 0);

Error problem(ErrorCode code, std::string message) {
    return Error{code, std::move(message), std::nullopt, std::nullopt};
}

// Adds what the step was doing to an error from the card, keeping its code.
Error during(Error e, std::string_view step) {
    e.message = fmt::format("{}: {}", step, e.message);
    return e;
}

#define UNIONCARD_TRY(expr, step)                                                                  \
    do {                                                                                           \
        auto r_ = (expr);                                                                          \
        if (!r_) {                                                                                 \
            return fail(during(r_.error(), step));                                                 \
        }                                                                                          \
    } while (0)

// The card's UID from GetVersion, once the chip is known to be a DESFire of a generation the
// profile takes: checked before any key is changed, so no card gets the union's keys and then
// refuses every read.
Res<Bytes> uidOf(Desfire& card, const Profile& profile) {
    auto v = card.getVersion();
    if (!v) {
        return fail(during(v.error(), "reading the card's version"));
    }
    if (v->hardware.empty() || v->hardware[0] != 0x04 || v->hardware[1] != 0x01) {
        return fail(problem(ErrorCode::WrongCard,
                            "this is not a MIFARE DESFire card (GetVersion names another chip)"));
    }
    if (const Generation g = v->generation(); !profile.allows(g)) {
        std::string allowed;
        for (const Generation a : profile.generations) {
            allowed += fmt::format("{}{}", allowed.empty() ? "" : ", ", describe(a));
        }
        return fail(problem(
            ErrorCode::WrongCard,
            fmt::format("unsupported card generation: this is a {} (hardware version {:02X}), "
                        "and profile {} takes only {}",
                        describe(g), v->hardware[3], profile.name, allowed)));
    }
    if (std::all_of(v->uid.begin(), v->uid.end(), [](std::uint8_t b) { return b == 0; })) {
        return fail(problem(ErrorCode::WrongCard,
                            "the card hides its UID (random UID): the union's keys are "
                            "diversified from it"));
    }
    return v->uid;
}

// Why a whole operation could not hold the card (CardHold): each operation holds it, so that
// no other program on the reader sends an APDU between an authentication and what it protects.
Error notHeld(const Fault& fault) {
    Error e = problem(ErrorCode::Transport,
                      "the card could not be held for this operation: " + fault.message);
    e.fault = fault.code;
    return e;
}

} // namespace

constexpr std::size_t kUidLength = 7;

Res<Bytes> cardKey(const Profile& profile, const CardKeySource& keys, std::string_view role,
                   std::uint8_t version, ByteView uid) {
    // The UID comes from the card or the reader's anticollision, so from anyone: a union card
    // is a DESFire with a 7-byte UID (ISO/IEC 14443-3 double size), and its keys are derived
    // from exactly those 7 bytes. A 4-byte (random ID) or 10-byte UID is another card.
    if (uid.size() != kUidLength) {
        return fail(problem(ErrorCode::WrongCard,
                            fmt::format("not a union card: the chip has a {}-byte UID, a union "
                                        "card a {}-byte one",
                                        uid.size(), kUidLength)));
    }
    // AN10922 §2.2: M = UID || AID || system identifier, at most 31 bytes.
    if (profile.systemIdentifier.size() > 31 - kUidLength - 3) {
        return fail(problem(ErrorCode::Configuration,
                            fmt::format("profile {}: the system identifier is {} bytes, more "
                                        "than the 21 AN10922 leaves for it",
                                        profile.name, profile.systemIdentifier.size())));
    }
    const std::uint32_t aid = role == profile.piccMasterRole ? 0 : profile.aid;
    auto key =
        keys.diversify(role, version, diversificationInput(uid, aid, profile.systemIdentifier));
    if (!key) {
        return fail(problem(ErrorCode::Configuration, key.error()));
    }
    return std::move(key).value();
}

Res<Bytes> cardKey(const Profile& profile, const MasterKeys& keys, std::string_view role,
                   ByteView uid) {
    return cardKey(profile, keys, role, keys.version(), uid);
}

// What readRecord reads in its first exchange (see there).
constexpr std::uint32_t kFirstRead = 224;

namespace {

// Which version of the read key opens this card (see readRecord).
Res<std::uint8_t> readKeyVersion(Desfire& card, const CardKeySource& keys, std::uint8_t keyNo,
                                 const ReadOptions& options) {
    const auto held = keys.versions(kReadRole);
    if (held.empty()) {
        return fail(problem(ErrorCode::Configuration,
                            fmt::format("the key store has no '{}' master key", kReadRole)));
    }
    if (held.size() == 1 && options.retiredKeyVersions.empty()) {
        return held.front();
    }
    // GetKeyVersion needs no authentication (MF3DHx3 datasheet, GetKeyVersion); its answer is
    // the card's word only, which the authentication then tests.
    auto version = card.getKeyVersion(keyNo);
    if (!version) {
        return fail(during(version.error(), "asking the card for its read key's version"));
    }
    const auto& retired = options.retiredKeyVersions;
    if (std::find(retired.begin(), retired.end(), *version) != retired.end()) {
        return fail(problem(ErrorCode::KeyRetired,
                            fmt::format("the card's keys are of version {}, which the union has "
                                        "retired: its chip cannot be trusted until the card is "
                                        "re-keyed or replaced at an office",
                                        *version)));
    }
    if (std::find(held.begin(), held.end(), *version) == held.end()) {
        return fail(problem(ErrorCode::Configuration,
                            fmt::format("this reader has no record-read key of version {} (it "
                                        "holds {}): load the union's current card keys",
                                        *version, fmt::join(held, ", "))));
    }
    return *version;
}

Res<ReadReport> readRecordHeld(Desfire& card, const Profile& profile, const CardKeySource& keys,
                               const ReadOptions& options) {
    const std::size_t before = card.apduCount();
    const auto* file = profile.file(kRecordFile);
    const auto readKeyNo = profile.keyNumber(kReadRole);
    if (file == nullptr || !readKeyNo) {
        return fail(
            problem(ErrorCode::Configuration,
                    fmt::format("profile {} has no record file or read key", profile.name)));
    }
    card.setFrameLimits(profile.frames);
    // Selecting first ends any session on both sides, so GetVersion runs unauthenticated.
    if (!options.applicationSelected) {
        UNIONCARD_TRY(card.selectApplication(profile.aid), "selecting the union application");
    }
    Res<Bytes> uid = options.uid ? Res<Bytes>(*options.uid) : uidOf(card, profile);
    if (!uid) {
        return fail(uid.error());
    }
    auto version = readKeyVersion(card, keys, *readKeyNo, options);
    if (!version) {
        return fail(version.error());
    }
    auto key = cardKey(profile, keys, kReadRole, *version, uid.value());
    if (!key) {
        return fail(key.error());
    }
    auto auth = card.authenticateEv2First(*readKeyNo, key.value());
    OPENSSL_cleanse(key->data(), key->size());
    if (!auth) {
        return fail(during(auth.error(), "authenticating with the card's read key"));
    }
    // The first read covers any record of ordinary size (about 150 bytes) and, with its MAC
    // and status word, stays within one short frame of the PN532 as well as of PC/SC. With ISO
    // chaining it is one exchange; natively, the card sends it in 59-byte frames.
    const bool iso = profile.frames.chaining == Chaining::Iso;
    auto read = [&](std::uint32_t at, std::uint32_t n) {
        return iso ? card.readDataChained(file->number, at, n, file->mode)
                   : card.readData(file->number, at, n, file->mode);
    };
    const std::uint32_t first = std::min<std::uint32_t>(file->size, kFirstRead);
    auto data = read(0, first);
    if (!data) {
        return fail(during(data.error(), "reading the record file"));
    }
    // A record that does not end within the first read (longer than it, or damaged): read the
    // rest of the file, and let the checks below judge the whole.
    if (first < file->size && !data->empty() && data->front() == 0xD2 &&
        !cbor::itemLength(data.value())) {
        for (std::uint32_t at = first; at < file->size;) {
            const auto n = std::min(Desfire::kMaxChainedRead, file->size - at);
            auto more = read(at, n);
            if (!more) {
                return fail(during(more.error(), "reading the rest of the record file"));
            }
            data->insert(data->end(), more->begin(), more->end());
            at += n;
        }
    }
    // The record is one CBOR item, a tagged COSE_Sign1 (first byte D2), followed by zero
    // padding up to the file's size. An all-zero file was created but never written.
    if (std::all_of(data->begin(), data->end(), [](std::uint8_t b) { return b == 0; })) {
        return fail(
            problem(ErrorCode::WrongCard, "the card holds no record: it was never written"));
    }
    if (data->front() != 0xD2) {
        return fail(
            problem(ErrorCode::WrongCard, "the record file does not start with a signed record"));
    }
    auto length = cbor::itemLength(data.value());
    if (!length) {
        return fail(problem(ErrorCode::WrongCard,
                            "the record file holds no card record: " + length.error()));
    }
    if (!std::all_of(data->begin() + static_cast<long>(*length), data->end(),
                     [](std::uint8_t b) { return b == 0; })) {
        return fail(problem(ErrorCode::WrongCard, "the record file holds data after the record"));
    }
    data->resize(*length);
    return ReadReport{std::move(uid).value(), std::move(data).value(), card.apduCount() - before};
}

} // namespace

Res<ReadReport> readRecord(Desfire& card, const Profile& profile, const CardKeySource& keys,
                           const ReadOptions& options) {
    const CardHold hold(card.connection());
    if (hold.fault()) {
        return fail(notHeld(*hold.fault()));
    }
    return readRecordHeld(card, profile, keys, options);
}

Res<PersonaliseReport> personalise(Desfire& card, const Profile& profile, const MasterKeys& keys,
                                   ByteView record) {
    const std::size_t before = card.apduCount();
    card.setFrameLimits(profile.frames);
    const auto* file = profile.file(kRecordFile);
    const auto writeKeyNo = profile.keyNumber(kWriteRole);
    const auto masterNo = profile.keyNumber(kAppMasterRole);
    if (file == nullptr || !writeKeyNo || !masterNo || *masterNo != 0) {
        return fail(problem(ErrorCode::Configuration,
                            fmt::format("profile {} needs a record file, a write key and the "
                                        "application master as key 0",
                                        profile.name)));
    }
    if (record.empty() || record.size() > file->size) {
        return fail(problem(ErrorCode::Configuration,
                            fmt::format("a {}-byte record does not fit the {}-byte file",
                                        record.size(), file->size)));
    }
    for (const auto& role : profile.roles()) {
        if (!keys.key(role)) {
            return fail(problem(ErrorCode::Configuration,
                                fmt::format("the key store has no '{}' master key", role)));
        }
    }
    const CardHold hold(card.connection());
    if (hold.fault()) {
        return fail(notHeld(*hold.fault()));
    }
    if (profile.randomUid) {
        // The keys are diversified from the UID, which GetVersion stops telling once random UID
        // is on; reading it needs a GetCardUID flow not built yet (threat-model.md, "The chip").
        return fail(problem(ErrorCode::Configuration,
                            fmt::format("profile {} switches random UID on, which this version "
                                        "cannot read cards back from",
                                        profile.name)));
    }
    // The card level first: selecting it ends any session, so GetVersion goes plain.
    UNIONCARD_TRY(card.selectApplication(0), "selecting the card level");
    auto uid = uidOf(card, profile);
    if (!uid) {
        return fail(uid.error());
    }
    // The record must be bound to this chip: one signed for another card, or for none, would
    // be written and then refused by every verifier.
    {
        auto view = inspectRecord(record);
        if (!view || !view->record) {
            return fail(
                problem(ErrorCode::Configuration, "the record to write is not a card record"));
        }
        const auto& bound = view->record.value().chipUid;
        if (!bound || *bound != uid.value()) {
            return fail(problem(ErrorCode::WrongCard,
                                fmt::format("the record is bound to chip {}, but this card is {}",
                                            bound ? toHex(*bound) : std::string("none"),
                                            toHex(uid.value()))));
        }
    }

    // 1. The card level: prove the card is blank, then give it its own master key (AES).
    auto apps = card.getApplicationIds();
    if (!apps) {
        return fail(during(apps.error(), "listing applications"));
    }
    if (!apps->empty()) {
        return fail(problem(
            ErrorCode::WrongCard,
            fmt::format("the card is not blank: it holds {} application(s); a union card can be "
                        "erased with `unioncard card format --uid {}`",
                        apps->size(), toHex(uid.value()))));
    }
    auto piccKey = cardKey(profile, keys, profile.piccMasterRole, uid.value());
    if (!piccKey) {
        return fail(piccKey.error());
    }
    const Wiped piccKeyWiped(piccKey.value());
    const Command createApp =
        cmd::createApplication(profile.aid, profile.appKeySettings,
                               static_cast<std::uint8_t>(profile.keys.size()), KeyType::Aes128);
    if (auto factory = card.authenticateLegacy(0, kFactoryKey)) {
        // A factory card: in the factory key's session, create the application, set the card
        // level's settings, and last give the card its own master key, which ends the session
        // (0x80: the PICC master key becomes an AES key; datasheet §10.5.1, key number byte).
        UNIONCARD_TRY(card.run(createApp), "creating the union application");
        UNIONCARD_TRY(card.changeKeySettings(profile.piccKeySettings),
                      "setting the card level's key settings");
        UNIONCARD_TRY(card.changeKeyLegacy(0x80, piccKey.value(), keys.version()),
                      "changing the card master key");
    } else if (factory.error().status != Status::AuthenticationError) {
        return fail(during(factory.error(), "authenticating with the factory key"));
    } else {
        // An erased union card kept the union's card master key; any other card is not ours
        // to personalise.
        auto auth = card.authenticateEv2First(0, piccKey.value());
        if (!auth) {
            if (auth.error().status == Status::AuthenticationError) {
                return fail(problem(ErrorCode::WrongCard,
                                    "the card is not blank: its card master key is neither the "
                                    "factory key nor the union's"));
            }
            return fail(during(auth.error(), "authenticating with the card master key"));
        }
        UNIONCARD_TRY(card.run(createApp), "creating the union application");
        UNIONCARD_TRY(card.changeKeySettings(profile.piccKeySettings),
                      "setting the card level's key settings");
    }

    // 2. The application: its files, then its keys, key 0 last (changing it ends the session).
    UNIONCARD_TRY(card.selectApplication(profile.aid), "selecting the union application");
    UNIONCARD_TRY(card.authenticateEv2First(0, kFactoryKey),
                  "authenticating to the new application");
    for (const auto& f : profile.files) {
        const Command create = f.backup
                                   ? cmd::createBackupDataFile(f.number, f.mode, f.rights, f.size)
                                   : cmd::createStdDataFile(f.number, f.mode, f.rights, f.size);
        UNIONCARD_TRY(card.run(create), fmt::format("creating file {}", f.name));
    }
    for (const auto& k : profile.keys) {
        if (k.number == 0) {
            continue;
        }
        auto key = cardKey(profile, keys, k.role, uid.value());
        if (!key) {
            return fail(key.error());
        }
        auto changed = card.changeKey(k.number, key.value(), keys.version(), ByteView(kFactoryKey));
        OPENSSL_cleanse(key->data(), key->size());
        if (!changed) {
            return fail(
                during(changed.error(), fmt::format("setting key {} ({})", k.number, k.role)));
        }
    }
    auto appMaster = cardKey(profile, keys, kAppMasterRole, uid.value());
    if (!appMaster) {
        return fail(appMaster.error());
    }
    auto changed = card.changeKey(0, appMaster.value(), keys.version());
    OPENSSL_cleanse(appMaster->data(), appMaster->size());
    if (!changed) {
        return fail(during(changed.error(), "setting the application master key"));
    }

    // 3. The record, written whole in one transaction of the backup file.
    auto writeKey = cardKey(profile, keys, kWriteRole, uid.value());
    if (!writeKey) {
        return fail(writeKey.error());
    }
    auto auth = card.authenticateEv2First(*writeKeyNo, writeKey.value());
    OPENSSL_cleanse(writeKey->data(), writeKey->size());
    if (!auth) {
        return fail(during(auth.error(), "authenticating with the write key"));
    }
    Bytes content(record.begin(), record.end());
    content.resize(file->size, 0x00);
    UNIONCARD_TRY(card.writeData(file->number, 0, content, file->mode), "writing the record");
    if (file->backup) {
        UNIONCARD_TRY(card.run(cmd::commitTransaction()), "committing the record");
    }

    // 4. Read it back as a verifier would: a new session with the read key and a MAC'd read.
    // The application is selected and the UID known from this session's GetVersion.
    const std::size_t readStart = card.apduCount();
    ReadOptions readBack;
    readBack.uid = uid.value();
    readBack.applicationSelected = true;
    auto back = readRecordHeld(card, profile, keys, readBack);
    if (!back) {
        return fail(during(back.error(), "reading the record back"));
    }
    if (back->record != Bytes(record.begin(), record.end())) {
        return fail(problem(ErrorCode::IntegrityError,
                            "the record read back differs from the one written"));
    }
    return PersonaliseReport{std::move(uid).value(), card.apduCount() - before,
                             card.apduCount() - readStart};
}

Res<EraseKey> eraseCard(Desfire& card, const Profile& profile, const MasterKeys& keys,
                        const Version& version) {
    card.setFrameLimits(profile.frames);
    auto piccKey = cardKey(profile, keys, profile.piccMasterRole, version.uid);
    if (!piccKey) {
        return fail(piccKey.error());
    }
    const Wiped piccKeyWiped(piccKey.value());
    const CardHold hold(card.connection());
    if (hold.fault()) {
        return fail(notHeld(*hold.fault()));
    }
    UNIONCARD_TRY(card.selectApplication(0), "selecting the card level");
    // An EV1 knows no EV2 authentication: its AES keys open with AuthenticateAES.
    auto opened = version.generation() == Generation::Ev1
                      ? card.authenticateAes(0, piccKey.value())
                      : card.authenticateEv2First(0, piccKey.value());
    EraseKey used = EraseKey::Union;
    if (!opened && opened.error().status == Status::AuthenticationError) {
        // Not the union's key (yet): a card whose personalisation stopped before its card
        // master key changed still has the factory key.
        opened = card.authenticateLegacy(0, kFactoryKey);
        used = EraseKey::Factory;
        if (!opened && opened.error().status == Status::AuthenticationError) {
            return fail(problem(ErrorCode::WrongCard,
                                "the card master key is neither the union's nor the factory key: "
                                "this card was not issued here, and it is left as it is"));
        }
    }
    if (!opened) {
        return fail(during(opened.error(), "authenticating to the card level"));
    }
    UNIONCARD_TRY(card.formatPicc(), "erasing the card");
    return used;
}

#undef UNIONCARD_TRY

} // namespace unioncard::card::desfire
