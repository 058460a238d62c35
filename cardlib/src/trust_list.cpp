// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/card_record.hpp>
#include <unioncard/card/cbor.hpp>
#include <unioncard/card/cose.hpp>
#include <unioncard/card/trust_list.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace unioncard::card {

// Payload of a trust list (docs/card-format.md §Trust list), keys ascending:
//   {1: version, 2: sequence, 3: 1(issued at, epoch seconds), 4: root cert DER, 5: [station
//   DER...], ? 6: [retired card key version...], ? 7: [withdrawn status signer key SHA-256...]}
// 6 and 7 are present only when not empty, so a list that withdraws nothing is what it was.
namespace {
constexpr std::uint64_t kVersionKey = 1;
constexpr std::uint64_t kSequenceKey = 2;
constexpr std::uint64_t kIssuedKey = 3;
constexpr std::uint64_t kRootKey = 4;
constexpr std::uint64_t kStationsKey = 5;
constexpr std::uint64_t kRetiredKeyVersionsKey = 6;
constexpr std::uint64_t kWithdrawnSignersKey = 7;
constexpr std::size_t kFingerprintSize = 32;
constexpr std::uint64_t kTrustListVersion = 1;
constexpr std::uint64_t kTagEpochSeconds = 1; // RFC 8949 §3.4.2
// Bounds for the ASN.1 structures in this list: well over a P-256 certificate's ~500 bytes.
constexpr std::size_t kMaxCertificateSize = 4096;

std::optional<std::string> checkStation(const Certificate& station, const Certificate& root) {
    // (A station whose certificate ended more than a record's lifetime ago can have issued no
    // record still valid; TrustList::build refuses it, so that a leaked old key mints nothing.)
    if (!station.isRecordSigner()) {
        return fmt::format("certificate '{}' is not a card record signing certificate",
                           station.commonName());
    }
    // The chain is checked at the moment the certificate began, so a list may keep a station
    // whose certificate has since expired: its records stay checkable until they expire.
    if (auto chain = station.chainsTo(root, station.notBefore()); !chain) {
        return fmt::format("certificate '{}' was not issued by this root: {}", station.commonName(),
                           chain.error());
    }
    return std::nullopt;
}
} // namespace

Result<Bytes, KeyError> TrustList::build(const PrivateKey& rootKey, const Certificate& root,
                                         const std::vector<Certificate>& stations,
                                         std::uint64_t sequence, Seconds issuedAt,
                                         const Withdrawals& withdrawals) {
    if (!root.isRoot()) {
        return fail(KeyError{KeyErrorCode::Invalid, "the root certificate is not a union root"});
    }
    if (root.publicKey().toPem() != rootKey.publicKey().toPem()) {
        return fail(
            KeyError{KeyErrorCode::Invalid, "the root key does not match the root certificate"});
    }
    cbor::Array entries;
    std::vector<Bytes> kids;
    for (const auto& station : stations) {
        if (auto problem = checkStation(station, root)) {
            return fail(KeyError{KeyErrorCode::Invalid, *problem});
        }
        if (station.notAfter() + kMaxRecordLifetime < issuedAt) {
            return fail(KeyError{KeyErrorCode::Invalid,
                                 fmt::format("station '{}' ended more than a record's lifetime "
                                             "ago: every card it issued has expired, leave it out",
                                             station.commonName())});
        }
        Bytes kid = station.keyId();
        if (std::find(kids.begin(), kids.end(), kid) != kids.end()) {
            return fail(
                KeyError{KeyErrorCode::Invalid, fmt::format("certificate '{}' is on the list twice",
                                                            station.commonName())});
        }
        kids.push_back(std::move(kid));
        entries.emplace_back(station.toDer());
    }
    const auto seconds = static_cast<std::uint64_t>(issuedAt.time_since_epoch().count());
    cbor::Map map{
        {cbor::Value(kVersionKey), cbor::Value(kTrustListVersion)},
        {cbor::Value(kSequenceKey), cbor::Value(sequence)},
        {cbor::Value(kIssuedKey), cbor::Value::tagged(kTagEpochSeconds, cbor::Value(seconds))},
        {cbor::Value(kRootKey), cbor::Value(root.toDer())},
        {cbor::Value(kStationsKey), cbor::Value(std::move(entries))}};
    auto retired = withdrawals.retiredCardKeyVersions;
    std::sort(retired.begin(), retired.end());
    retired.erase(std::unique(retired.begin(), retired.end()), retired.end());
    if (!retired.empty()) {
        if (retired.front() == 0) {
            return fail(KeyError{KeyErrorCode::Invalid, "card key versions are 1 to 255"});
        }
        cbor::Array versions;
        for (const auto v : retired) {
            versions.emplace_back(static_cast<std::uint64_t>(v));
        }
        map.emplace_back(cbor::Value(kRetiredKeyVersionsKey), cbor::Value(std::move(versions)));
    }
    auto signers = withdrawals.withdrawnStatusSigners;
    std::sort(signers.begin(), signers.end());
    signers.erase(std::unique(signers.begin(), signers.end()), signers.end());
    if (!signers.empty()) {
        cbor::Array fingerprints;
        for (auto& f : signers) {
            if (f.size() != kFingerprintSize) {
                return fail(KeyError{KeyErrorCode::Invalid,
                                     "a withdrawn status signer is named by the SHA-256 of its "
                                     "public key (32 bytes)"});
            }
            fingerprints.emplace_back(std::move(f));
        }
        map.emplace_back(cbor::Value(kWithdrawnSignersKey), cbor::Value(std::move(fingerprints)));
    }
    const Bytes payload = cbor::encode(cbor::Value(std::move(map)));
    return cose::sign(rootKey, root.keyId(), payload);
}

Result<TrustList, std::string> TrustList::load(std::span<const std::uint8_t> bytes,
                                               const std::optional<Bytes>& pinnedRootFingerprint) {
    using R = Result<TrustList, std::string>;
    auto message = cose::decode(bytes, kMaxSize);
    if (!message) {
        return R(fail("the trust list is not a signed list: " + message.error()));
    }
    cbor::DecodeLimits limits;
    auto payload = cbor::decode(message->payload, limits);
    if (!payload || payload->get<cbor::Map>() == nullptr) {
        return R(fail(std::string("the trust list's content is not a CBOR map")));
    }
    const auto* version = payload->find(kVersionKey);
    const auto* sequence = payload->find(kSequenceKey);
    const auto* issued = payload->find(kIssuedKey);
    const auto* rootDer = payload->find(kRootKey);
    const auto* stations = payload->find(kStationsKey);
    const auto* issuedTag = issued != nullptr ? issued->get<cbor::Tagged>() : nullptr;
    const auto* issuedSeconds = issuedTag != nullptr && issuedTag->tag == kTagEpochSeconds
                                    ? issuedTag->item->get<std::uint64_t>()
                                    : nullptr;
    if (version == nullptr || version->get<std::uint64_t>() == nullptr ||
        *version->get<std::uint64_t>() != kTrustListVersion || sequence == nullptr ||
        sequence->get<std::uint64_t>() == nullptr || issuedSeconds == nullptr ||
        rootDer == nullptr || rootDer->get<Bytes>() == nullptr || stations == nullptr ||
        stations->get<cbor::Array>() == nullptr) {
        return R(fail(std::string("the trust list is not a version 1 list")));
    }
    // Every entry is one this code knows: an unknown one could be a withdrawal it would miss.
    Withdrawals withdrawals;
    const auto* retired = payload->find(kRetiredKeyVersionsKey);
    const auto* withdrawn = payload->find(kWithdrawnSignersKey);
    const std::size_t known = 5 + (retired != nullptr ? 1 : 0) + (withdrawn != nullptr ? 1 : 0);
    if (payload->get<cbor::Map>()->size() != known) {
        return R(fail(std::string("the trust list has entries this verifier does not know: "
                                  "update it")));
    }
    if (retired != nullptr) {
        const auto* items = retired->get<cbor::Array>();
        for (const auto& item : items != nullptr ? *items : cbor::Array{}) {
            const auto* v = item.get<std::uint64_t>();
            if (v == nullptr || *v == 0 || *v > 255) {
                return R(fail(std::string("the trust list's retired card key versions are not "
                                          "versions 1 to 255")));
            }
            withdrawals.retiredCardKeyVersions.push_back(static_cast<std::uint8_t>(*v));
        }
        if (items == nullptr || items->empty()) {
            return R(fail(std::string("the trust list's retired card key versions are not a "
                                      "list of versions")));
        }
    }
    if (withdrawn != nullptr) {
        const auto* items = withdrawn->get<cbor::Array>();
        for (const auto& item : items != nullptr ? *items : cbor::Array{}) {
            const auto* f = item.get<Bytes>();
            if (f == nullptr || f->size() != kFingerprintSize) {
                return R(fail(std::string("a withdrawn status signer on the trust list is not a "
                                          "SHA-256 fingerprint")));
            }
            withdrawals.withdrawnStatusSigners.push_back(*f);
        }
        if (items == nullptr || items->empty()) {
            return R(fail(std::string("the trust list's withdrawn status signers are not a list "
                                      "of fingerprints")));
        }
    }
    if (rootDer->get<Bytes>()->size() > kMaxCertificateSize) {
        return R(fail(std::string("the trust list's root certificate is oversized")));
    }
    auto root = Certificate::fromDer(*rootDer->get<Bytes>());
    if (!root || !root->isRoot()) {
        return R(fail(std::string("the trust list's root is not a union root certificate")));
    }
    if (pinnedRootFingerprint && root->fingerprint() != *pinnedRootFingerprint) {
        return R(fail(fmt::format("the trust list's root ({}) is not the pinned union root ({})",
                                  formatFingerprint(root->fingerprint()),
                                  formatFingerprint(*pinnedRootFingerprint))));
    }
    if (message->kid != root->keyId() || !cose::verify(*message, root->publicKey())) {
        return R(fail(std::string("the trust list's signature does not verify: it was altered "
                                  "or not signed by its root")));
    }
    std::vector<Certificate> certs;
    for (const auto& entry : *stations->get<cbor::Array>()) {
        const auto* der = entry.get<Bytes>();
        if (der == nullptr || der->size() > kMaxCertificateSize) {
            return R(fail(std::string("a trust list entry is not a certificate")));
        }
        auto cert = Certificate::fromDer(*der);
        if (!cert) {
            return R(fail(std::string("a trust list entry is not a certificate")));
        }
        if (auto problem = checkStation(cert.value(), root.value())) {
            return R(fail(*problem));
        }
        certs.push_back(std::move(cert).value());
    }
    return TrustList(std::move(root).value(), std::move(certs), *sequence->get<std::uint64_t>(),
                     Seconds{std::chrono::seconds{static_cast<std::int64_t>(*issuedSeconds)}},
                     std::move(withdrawals));
}

TrustList::TrustList(Certificate root, std::vector<Certificate> stations, std::uint64_t sequence,
                     Seconds issuedAt, Withdrawals withdrawals)
    : m_root(std::move(root)), m_stations(std::move(stations)), m_sequence(sequence),
      m_issuedAt(issuedAt), m_withdrawals(std::move(withdrawals)) {
    for (const auto& c : m_stations) {
        m_kids.push_back(c.keyId());
    }
}

const Certificate* TrustList::findStation(std::span<const std::uint8_t> kid) const {
    for (std::size_t i = 0; i < m_kids.size(); ++i) {
        if (std::equal(m_kids[i].begin(), m_kids[i].end(), kid.begin(), kid.end())) {
            return &m_stations[i];
        }
    }
    return nullptr;
}

bool TrustList::isWithdrawnStatusSigner(const Certificate& signer) const {
    const Bytes f = signer.publicKeyFingerprint();
    const auto& w = m_withdrawals.withdrawnStatusSigners;
    return std::find(w.begin(), w.end(), f) != w.end();
}

} // namespace unioncard::card
