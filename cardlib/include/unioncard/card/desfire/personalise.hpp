// SPDX-License-Identifier: Apache-2.0
#pragma once

// Personalising a blank DESFire card with the union's application, and reading the signed card
// record back as a verifier does. Each is one operation; the APDUs it took are reported.

#include <unioncard/card/desfire/desfire.hpp>
#include <unioncard/card/desfire/master_keys.hpp>
#include <unioncard/card/desfire/profile.hpp>

namespace unioncard::card::desfire {

/// A card's own keys: each master key diversified with the card's UID, the AID and the
/// profile's system identifier (AN10922 §2.2). The PICC master key is diversified with AID 0.
/// `version`: the key set's version (MasterKeys::version, or the card's GetKeyVersion).
Res<Bytes> cardKey(const Profile& profile, const CardKeySource& keys, std::string_view role,
                   std::uint8_t version, ByteView uid);
/// The same with an in-memory key set's own version.
Res<Bytes> cardKey(const Profile& profile, const MasterKeys& keys, std::string_view role,
                   ByteView uid);

struct PersonaliseReport {
    Bytes uid;
    std::size_t apdus = 0;         ///< for the whole personalisation and its read-back
    std::size_t readBackApdus = 0; ///< of which the read-back check
};

/// Takes a blank card, factory-fresh (PICC master key the zero DES key) or a union card erased
/// with FormatPICC (which keeps the union's card master key), installs the profile's
/// application with diversified keys, writes `record` into the "record" file (committed as one
/// transaction), and reads it back through the verifier's path.
Res<PersonaliseReport> personalise(Desfire& card, const Profile& profile, const MasterKeys& keys,
                                   ByteView record);

/// Which key opened the card level for an erase.
enum class EraseKey {
    Union,   ///< the union's card master key (AES), as every personalised card has
    Factory, ///< the factory key: personalisation stopped before it changed the card master key
};

/// Erases (FormatPICC) a card this system started or finished personalising, whatever step it
/// stopped at: the card level is opened with the union's card master key (AuthenticateEV2First,
/// or AuthenticateAES on an EV1 whose key an older station set) or, failing that, the factory
/// key. A card neither opens is another's: WrongCard, and nothing is sent after the refusal.
Res<EraseKey> eraseCard(Desfire& card, const Profile& profile, const MasterKeys& keys,
                        const Version& version);

struct ReadReport {
    Bytes uid;
    Bytes record;
    std::size_t apdus = 0;
};

struct ReadOptions {
    /// The UID the reader already knows from anticollision (PC/SC part 3 GET DATA, FF CA 00 00
    /// 00; libnfc's target info). Given, the read skips GetVersion's three exchanges: it is no
    /// weaker, because a chip that reports another UID must then hold that UID's key.
    std::optional<Bytes> uid;
    /// The union application is selected already (the station's read-back, right after it
    /// committed the record in the same application): the read starts with authentication.
    bool applicationSelected = false;
    /// Key versions the union has retired (the trust list's): a card whose read key is of one of
    /// them is refused with KeyRetired before any authentication.
    std::vector<std::uint8_t> retiredKeyVersions{};
};

/// The verifier's read: the card's UID, the union application, authentication with the
/// card's diversified read key (a copy of the data on another chip fails here), and the
/// record read under MAC with ReadData 0xAD: one exchange for the first 224 bytes, which
/// hold any record the format allows (the largest is 204 bytes); a file whose record does not
/// end there is read to its end and refused by the record's checks. Needs only the "record-read"
/// master key. With the UID from the reader: select, authenticate (2), read: 4 card exchanges.
/// The read key's version: when `keys` holds one version and none is retired, that one;
/// otherwise the card is asked (GetKeyVersion, one exchange more). The version only chooses the
/// master: a card that names another version than its keys fails authentication as a copy does.
Res<ReadReport> readRecord(Desfire& card, const Profile& profile, const CardKeySource& keys,
                           const ReadOptions& options = {});

} // namespace unioncard::card::desfire
