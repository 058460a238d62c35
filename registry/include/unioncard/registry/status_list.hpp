// SPDX-License-Identifier: Apache-2.0
#pragma once

// The signed status list: which issued cards are not valid (suspended or revoked), for
// verifiers that check cards offline. Format, sizes and rules: docs/status-list.md.
//
// A card is addressed by (region, serial) from its number. The list is a revocation list over
// that space: a position it does not list is "not known to be invalid" (the card's own
// signature decides). For each region it also says up to which serial the registry had issued
// when it was built, so that a number above it reads as "not covered" rather than "valid".
//
// The not-valid positions are coded as Golomb-coded gaps (the distributed form stays within a
// few per cent of the information-theoretic minimum), the payload is deterministic CBOR, and the
// whole is a COSE_Sign1 (ES256) by the registry's status signer, whose certificate the union
// root issued (card::issueStatusSignerCertificate). A delta carries only what changed since a
// base version. Everything read from bytes is bounds-checked; nothing here throws.

#include <unioncard/card/card_number.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>
#include <unioncard/registry/model.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace unioncard::registry {

using Bytes = std::vector<std::uint8_t>;

/// Region codes and serials as the card number holds them (docs/card-number.md).
inline constexpr int kStatusMinRegion = 1;
inline constexpr int kStatusMaxRegion = 89;
inline constexpr std::uint64_t kStatusMaxSerial = 999'999'999;
/// A hard cap on the signed bytes a verifier reads (a 3.1M-card snapshot is about 180 KiB).
inline constexpr std::size_t kMaxStatusListSize = 16 * 1024 * 1024;
/// A cap on the positions (serials 0..issuedUpTo of every region) one list may cover: the
/// verifier's in-memory form takes 2 bits each, so this bounds it at 25 MB.
inline constexpr std::uint64_t kMaxCoveredPositions = 100'000'000;
/// How far a list's issued-at may lie ahead of the verifier's clock before it is refused.
inline constexpr std::chrono::seconds kStatusClockSkew{600};

/// One card that is not valid. `validity` is Suspended or Revoked.
struct StatusEntry {
    int region = 0;
    std::uint64_t serial = 0;
    Validity validity = Validity::Revoked;
    bool operator==(const StatusEntry&) const = default;
};

/// What a list says, as plain values: the registry's side of the encoder.
struct StatusListContent {
    std::uint64_t version = 0; ///< the registry's event sequence the list reflects
    Seconds issuedAt{};
    /// (region, highest serial the registry had issued), regions ascending, each at most once.
    /// A region that is absent covers nothing.
    std::vector<std::pair<int, std::uint64_t>> issuedUpTo;
    /// Sorted by (region, serial), no repeats, each within its region's issuedUpTo.
    std::vector<StatusEntry> notValid;
    bool operator==(const StatusListContent&) const = default;
};

enum class StatusListErrorCode {
    InvalidArgument, ///< the caller's content or keys are wrong (encoding side)
    Crypto,          ///< OpenSSL failed where it should not
    TooLarge,        ///< more bytes, or more positions covered, than a verifier takes
    Damaged,         ///< not a well-formed status list: truncated, inconsistent, out of range
    Unsupported,     ///< a format version this verifier does not know
    BadSignature,    ///< the signature does not verify: altered, or signed by another key
    UntrustedSigner, ///< the signer's certificate does not chain to the pinned union root
    WithdrawnSigner, ///< the union withdrew the signer's key (the trust list's Withdrawals)
    NotStatusSigner, ///< the signer's certificate is not for status lists (e.g. a station's)
    WrongKind,       ///< a delta where a snapshot was expected, or the other way round
    BaseMismatch,    ///< a delta for another version than the list it is applied to
    FromFuture,      ///< issued after this device's clock (beyond kStatusClockSkew)
};

struct StatusListError {
    StatusListErrorCode code;
    std::string message; ///< in words: what is wrong and, where it helps, what to do
};

std::string_view toString(StatusListErrorCode code);

class StatusList;

/// Builds a signed snapshot from entries given in order, without holding them all as
/// StatusEntry values (the registry streams 3.1 million rows): the gaps are kept as integers
/// until finish() picks the Golomb parameter that codes them shortest.
class StatusListBuilder {
public:
    /// `issuedUpTo` as in StatusListContent (checked: regions 1..89 ascending, serials in range,
    /// at most kMaxCoveredPositions covered).
    static Result<StatusListBuilder, StatusListError>
    create(std::uint64_t version, Seconds issuedAt,
           std::vector<std::pair<int, std::uint64_t>> issuedUpTo);

    /// Adds the next not-valid card: after the previous one in (region, serial) order, within
    /// its region's issuedUpTo, Suspended or Revoked. On an error nothing is added.
    std::optional<StatusListError> add(const StatusEntry& entry);

    /// The signed snapshot. `signerCert` must be a status-signing certificate for `signer`.
    Result<Bytes, StatusListError> finish(const card::PrivateKey& signer,
                                          const card::Certificate& signerCert) const;

    std::uint64_t count() const { return m_gaps.size(); }

private:
    friend class StatusList; // fromContent() checks entries with the builder
    StatusListBuilder() = default;
    std::uint64_t m_version = 0;
    Seconds m_issuedAt{};
    std::vector<std::pair<int, std::uint64_t>> m_issuedUpTo;
    std::array<std::uint64_t, kStatusMaxRegion + 1> m_regionStart{}; ///< global offset
    std::array<std::uint64_t, kStatusMaxRegion + 1> m_regionSize{};  ///< 0: not covered
    std::uint64_t m_total = 0;                                       ///< positions covered
    std::uint64_t m_next = 0;                   ///< first position the next entry may take
    std::vector<std::uint64_t> m_gaps;          ///< positions skipped before each listed one
    std::vector<std::uint64_t> m_suspendedGaps; ///< the same within the listed sequence
    std::uint64_t m_nextSuspendedIndex = 0;
};

/// Fits a table of regions' highest serials (as issuedUpTo) into `budget` positions. When the
/// regions together cover more, every region is cut at one common ceiling, the highest that
/// fits: regions below it keep their whole range and only the outsized ones lose their top,
/// whose cards a verifier then reads as newer than the list (never as valid). A table that fits
/// comes back unchanged. So one card with an absurd serial can never stop publication.
std::vector<std::pair<int, std::uint64_t>>
fitCoverage(std::vector<std::pair<int, std::uint64_t>> issuedUpTo,
            std::uint64_t budget = kMaxCoveredPositions);

/// Encodes and signs a snapshot of `content` (a StatusListBuilder fed with its entries).
Result<Bytes, StatusListError> encodeSnapshot(const StatusListContent& content,
                                              const card::PrivateKey& signer,
                                              const card::Certificate& signerCert);

/// Encodes and signs the delta that turns `from` into `to`. `to` must cover every region `from`
/// covers, up to at least the same serial, and have a higher version. The signer's certificate
/// is left out when `from.signer()` is that same certificate (a verifier holding `from` has it);
/// otherwise it is included.
Result<Bytes, StatusListError> encodeDelta(const StatusList& from, const StatusList& to,
                                           const card::PrivateKey& signer,
                                           const card::Certificate& signerCert);

/// The verifier's form of a list: a 2-bit validity per covered position, per region, so that a
/// lookup is two array reads (about 775 KB for 3.1 million cards).
class StatusList {
public:
    /// Reads a signed snapshot and checks it: size, format, the signer's certificate (a status
    /// signer that chains to `pinnedRoot` at the list's issued-at), the key id and signature, and
    /// every count and range inside; refuses a list issued after `now` + kStatusClockSkew.
    /// `withdrawnSigners`: public key fingerprints of status signers the union withdrew (the
    /// trust list's Withdrawals): a list any of them signed is WithdrawnSigner, whatever its
    /// dates and whichever certificate of that key it carries.
    static Result<StatusList, StatusListError> load(std::span<const std::uint8_t> bytes,
                                                    const card::Certificate& pinnedRoot,
                                                    Seconds now,
                                                    std::span<const Bytes> withdrawnSigners = {});

    /// The same content, unsigned, for the registry's own use (as the `from` and `to` of
    /// encodeDelta). `signer`: the certificate the snapshot published from this content was
    /// signed with, if any (see encodeDelta).
    static Result<StatusList, StatusListError>
    fromContent(const StatusListContent& content,
                std::optional<card::Certificate> signer = std::nullopt);

    /// Applies a signed delta whose base is this list's version and returns the list at the
    /// delta's version; this list is unchanged. Checks as load() does; a delta without a
    /// certificate must be signed by this list's signer (checked against `pinnedRoot` again at
    /// the delta's issued-at).
    Result<StatusList, StatusListError>
    applyDelta(std::span<const std::uint8_t> bytes, const card::Certificate& pinnedRoot,
               Seconds now, std::span<const Bytes> withdrawnSigners = {}) const;

    /// What the list says about a card: nullopt when it does not cover it (a region it does not
    /// list, or a serial above that region's issuedUpTo: the card may be newer than the list).
    std::optional<Validity> lookup(int region, std::uint64_t serial) const {
        if (region < kStatusMinRegion || region > kStatusMaxRegion ||
            serial >= m_regionSize[static_cast<std::size_t>(region)]) {
            return std::nullopt;
        }
        const std::uint64_t word =
            m_bits[static_cast<std::size_t>(region)][static_cast<std::size_t>(serial >> 5)];
        return static_cast<Validity>((word >> ((serial & 31) * 2)) & 3);
    }
    std::optional<Validity> lookup(const card::CardNumber& number) const {
        return lookup(number.region(), number.serial());
    }

    /// The highest serial the list covers in `region`, or nullopt if it covers none there.
    std::optional<std::uint64_t> issuedUpTo(int region) const;
    std::uint64_t version() const { return m_version; }
    Seconds issuedAt() const { return m_issuedAt; }
    /// Cards listed as suspended or revoked.
    std::uint64_t listedCount() const { return m_listed; }
    /// Positions covered: the sum over regions of issuedUpTo + 1.
    std::uint64_t coveredCount() const { return m_total; }
    /// The status-signing certificate the list was verified with (none for fromContent()).
    const std::optional<card::Certificate>& signer() const { return m_signer; }

    /// Whether the list was issued more than `maxAge` before `now`.
    bool olderThan(std::chrono::seconds maxAge, Seconds now) const {
        return now - m_issuedAt > maxAge;
    }
    /// When the list is older than `maxAge`: what a verifier should say about it, in words.
    std::optional<std::string> stalenessWarning(std::chrono::seconds maxAge, Seconds now) const;

    /// The list as plain values (entries sorted).
    StatusListContent content() const;

private:
    friend Result<Bytes, StatusListError> encodeDelta(const StatusList&, const StatusList&,
                                                      const card::PrivateKey&,
                                                      const card::Certificate&);
    StatusList() = default;

    std::uint64_t m_version = 0;
    Seconds m_issuedAt{};
    /// Per region: serials covered (issuedUpTo + 1; 0 when the region is not covered) and
    /// their 2-bit validities, 32 to a word, serial s in bits 2(s mod 32); unused bits zero.
    std::array<std::uint64_t, kStatusMaxRegion + 1> m_regionSize{};
    std::array<std::vector<std::uint64_t>, kStatusMaxRegion + 1> m_bits;
    std::uint64_t m_total = 0;
    std::uint64_t m_listed = 0;
    std::optional<card::Certificate> m_signer;
};

} // namespace unioncard::registry
