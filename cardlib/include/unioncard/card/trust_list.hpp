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

class TrustList {
public:
    static constexpr std::size_t kMaxSize = 4 * 1024 * 1024;

    /// Signs a list of station certificates with the root key. Every certificate must be a
    /// record signer issued by this root; ids must be unique.
    static Result<Bytes, KeyError> build(const PrivateKey& rootKey, const Certificate& root,
                                         const std::vector<Certificate>& stations,
                                         std::uint64_t sequence, Seconds issuedAt);

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

private:
    TrustList(Certificate root, std::vector<Certificate> stations, std::uint64_t sequence,
              Seconds issuedAt);
    Certificate m_root;
    std::vector<Certificate> m_stations;
    std::vector<Bytes> m_kids; ///< key id of each station, in the same order
    std::uint64_t m_sequence;
    Seconds m_issuedAt;
};

} // namespace unioncard::card
