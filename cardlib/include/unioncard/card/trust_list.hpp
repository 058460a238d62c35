// SPDX-License-Identifier: Apache-2.0
#pragma once

// The trust list a verifier holds: the union root certificate and the station certificates it
// accepts records from, signed by the root as a COSE_Sign1 (format in docs/card-format.md).
// A station that is withdrawn is left out of the next list.

#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace unioncard::card {

/// What the union has withdrawn before its time, carried by the trust list (docs/card-format.md
/// §Trust list): card key versions whose masters were stolen (a reader refuses a chip keyed with
/// them) and status signers whose keys were (a desk refuses every status list they signed,
/// however long their certificate still runs).
struct Withdrawals {
    std::vector<std::uint8_t> retiredCardKeyVersions; ///< 1 to 255
    /// SHA-256 of each withdrawn signer's public key (Certificate::publicKeyFingerprint): the
    /// key is what was stolen, and any certificate of it is refused.
    std::vector<Bytes> withdrawnStatusSigners;
};

class TrustList {
public:
    static constexpr std::size_t kMaxSize = 4 * 1024 * 1024;

    /// Signs a list of station certificates with the root key. Every certificate must be a
    /// record signer issued by this root; ids must be unique.
    static Result<Bytes, KeyError> build(const PrivateKey& rootKey, const Certificate& root,
                                         const std::vector<Certificate>& stations,
                                         std::uint64_t sequence, Seconds issuedAt,
                                         const Withdrawals& withdrawals = {});

    /// Reads and checks a list: its signature by the root inside it, and, if given, that root's
    /// SHA-256 fingerprint (the pin a verifier is configured with). Refuses the whole list if
    /// any part is wrong.
    static Result<TrustList, std::string> load(std::span<const std::uint8_t> bytes,
                                               const std::optional<Bytes>& pinnedRootFingerprint);

    const Certificate& root() const { return m_root; }
    const std::vector<Certificate>& stations() const { return m_stations; }
    std::uint64_t sequence() const { return m_sequence; }
    Seconds issuedAt() const { return m_issuedAt; }
    /// The station certificate with this key id, or null.
    const Certificate* findStation(std::span<const std::uint8_t> kid) const;
    const Withdrawals& withdrawals() const { return m_withdrawals; }
    /// Whether the union withdrew this status signer's key.
    bool isWithdrawnStatusSigner(const Certificate& signer) const;

private:
    TrustList(Certificate root, std::vector<Certificate> stations, std::uint64_t sequence,
              Seconds issuedAt, Withdrawals withdrawals);
    Certificate m_root;
    std::vector<Certificate> m_stations;
    std::vector<Bytes> m_kids; ///< key id of each station, in the same order
    std::uint64_t m_sequence;
    Seconds m_issuedAt;
    Withdrawals m_withdrawals;
};

} // namespace unioncard::card
