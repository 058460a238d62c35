// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/cbor.hpp>
#include <unioncard/card/cose.hpp>
#include <unioncard/registry/status_list.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <ctime>
#include <limits>

namespace unioncard::registry {

namespace cbor = card::cbor;
namespace cose = card::cose;

// The payload's keys (docs/status-list.md §Payload). One table for both kinds; which keys a
// kind must, may and must not carry is checked in allowedKeys().
namespace {

constexpr std::uint64_t kKeyFormat = 1;
constexpr std::uint64_t kKeyKind = 2;
constexpr std::uint64_t kKeyVersion = 3;
constexpr std::uint64_t kKeyBase = 4;
constexpr std::uint64_t kKeyIssuedAt = 5;
constexpr std::uint64_t kKeyRegions = 6;
constexpr std::uint64_t kKeyGrowth = 7;
constexpr std::uint64_t kKeyCount = 8;
constexpr std::uint64_t kKeyGolombM = 9;
constexpr std::uint64_t kKeyBits = 10;
constexpr std::uint64_t kKeySuspendedCount = 11;
constexpr std::uint64_t kKeySuspendedM = 12;
constexpr std::uint64_t kKeySuspendedBits = 13;
constexpr std::uint64_t kKeySigner = 14;

constexpr std::uint64_t kFormatVersion = 1;
constexpr std::uint64_t kKindSnapshot = 1;
constexpr std::uint64_t kKindDelta = 2;
constexpr std::uint64_t kTagEpochSeconds = 1; // RFC 8949 §3.4.2
// A P-256 certificate is about 500 bytes; the trust list allows the same.
constexpr std::size_t kMaxCertificateSize = 4096;
// The Golomb parameter never needs to exceed the positions covered (kMaxCoveredPositions <
// 2^27); 2^40 keeps every remainder within the bit I/O's 56-bit reach.
constexpr std::uint64_t kMaxGolombM = std::uint64_t{1} << 40;
// Issued-at as epoch seconds: anything past year 36812 is a damaged field, not a date.
constexpr std::uint64_t kMaxEpochSeconds = std::uint64_t{1} << 40;

StatusListError makeError(StatusListErrorCode code, std::string message) {
    return {code, std::move(message)};
}

template <class T> Result<T, StatusListError> failure(StatusListErrorCode code, std::string text) {
    return fail(makeError(code, std::move(text)));
}

std::string formatTime(Seconds t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min);
}

std::string formatDuration(std::chrono::seconds d) {
    const auto total = d.count();
    const auto days = total / 86400;
    const auto hours = (total % 86400) / 3600;
    const auto minutes = (total % 3600) / 60;
    if (days > 0) {
        return hours > 0 ? fmt::format("{} d {} h", days, hours) : fmt::format("{} d", days);
    }
    if (hours > 0) {
        return minutes > 0 ? fmt::format("{} h {} min", hours, minutes)
                           : fmt::format("{} h", hours);
    }
    return fmt::format("{} min", minutes);
}

// ---------------------------------------------------------------------------------------------
// Bits, most significant first within each byte (docs/status-list.md §Golomb coding).

class BitWriter {
public:
    /// Appends the low `bits` bits of `value` (bits <= 56).
    void put(std::uint64_t value, unsigned bits) {
        if (bits == 0) {
            return;
        }
        m_acc = (m_acc << bits) | (value & ((std::uint64_t{1} << bits) - 1));
        m_pending += bits;
        while (m_pending >= 8) {
            m_pending -= 8;
            m_out.push_back(static_cast<std::uint8_t>(m_acc >> m_pending));
        }
        m_acc &= (std::uint64_t{1} << m_pending) - 1;
    }
    void ones(std::uint64_t count) {
        for (; count >= 32; count -= 32) {
            put(0xFFFFFFFFu, 32);
        }
        put((std::uint64_t{1} << count) - 1, static_cast<unsigned>(count));
    }
    /// The bytes, the last one padded with zero bits.
    Bytes finish() && {
        if (m_pending > 0) {
            m_out.push_back(static_cast<std::uint8_t>(m_acc << (8 - m_pending)));
        }
        return std::move(m_out);
    }

private:
    Bytes m_out;
    std::uint64_t m_acc = 0;
    unsigned m_pending = 0;
};

class BitReader {
public:
    explicit BitReader(std::span<const std::uint8_t> data)
        : m_data(data), m_total(static_cast<std::uint64_t>(data.size()) * 8) {}

    /// Reads `bits` (<= 56) bits; false if the data ends first.
    bool read(unsigned bits, std::uint64_t& out) {
        if (bits > m_total - m_pos) {
            return false;
        }
        out = bits == 0 ? 0 : peek() >> (64 - bits);
        m_pos += bits;
        return true;
    }
    /// Reads a run of one bits and the zero that ends it; false if the data ends first or the
    /// run is longer than `limit`.
    bool readUnary(std::uint64_t limit, std::uint64_t& count) {
        count = 0;
        while (true) {
            const std::uint64_t left = m_total - m_pos;
            const auto run = static_cast<std::uint64_t>(std::countl_one(peek()));
            // peek() reads zeros past the end, so a run that reaches the end is not ended there.
            if (run >= left) {
                return false;
            }
            count += run;
            if (count > limit) {
                return false;
            }
            if (run < 64) {
                m_pos += run + 1;
                return true;
            }
            m_pos += 64;
        }
    }
    /// Whether what is left is the final byte's zero padding only.
    bool atPaddedEnd() const {
        const std::uint64_t left = m_total - m_pos;
        return left < 8 && (left == 0 || (peek() >> (64 - left)) == 0);
    }

private:
    // The 64 bits from the current position, zeros past the end.
    std::uint64_t peek() const {
        const std::size_t byte = static_cast<std::size_t>(m_pos / 8);
        const unsigned shift = static_cast<unsigned>(m_pos % 8);
        std::uint64_t w = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            w = (w << 8) | (byte + i < m_data.size() ? m_data[byte + i] : 0);
        }
        if (shift > 0) {
            const std::uint8_t next = byte + 8 < m_data.size() ? m_data[byte + 8] : 0;
            w = (w << shift) | (next >> (8 - shift));
        }
        return w;
    }

    std::span<const std::uint8_t> m_data;
    std::uint64_t m_total;
    std::uint64_t m_pos = 0;
};

// A Golomb code with parameter M (Golomb 1966): the quotient g / M in unary (that many ones and
// a zero), the remainder g mod M in truncated binary: with b = ceil(log2 M) and u = 2^b - M,
// remainders below u take b - 1 bits, the others take b bits as r + u.
class Golomb {
public:
    explicit Golomb(std::uint64_t m)
        : m_m(m), m_b(m <= 1 ? 0u : static_cast<unsigned>(64 - std::countl_zero(m - 1))),
          m_u((std::uint64_t{1} << m_b) - m) {}

    std::uint64_t cost(std::uint64_t g) const {
        const std::uint64_t r = g % m_m;
        return g / m_m + 1 + (r < m_u ? m_b - 1 : m_b);
    }
    void put(BitWriter& w, std::uint64_t g) const {
        w.ones(g / m_m);
        w.put(0, 1);
        const std::uint64_t r = g % m_m;
        if (r < m_u) {
            w.put(r, m_b - 1);
        } else {
            w.put(r + m_u, m_b);
        }
    }
    /// Reads one value no larger than `limit`; false if the bits end or the value is larger.
    bool get(BitReader& r, std::uint64_t limit, std::uint64_t& g) const {
        std::uint64_t q = 0;
        std::uint64_t x = 0;
        if (!r.readUnary(limit / m_m, q)) {
            return false;
        }
        if (m_b > 0) {
            if (!r.read(m_b - 1, x)) {
                return false;
            }
            if (x >= m_u) {
                std::uint64_t low = 0;
                if (!r.read(1, low)) {
                    return false;
                }
                x = ((x << 1) | low) - m_u;
            }
        }
        g = q * m_m + x;
        return g <= limit;
    }

private:
    std::uint64_t m_m;
    unsigned m_b;
    std::uint64_t m_u;
};

// The M that codes `gaps` in the fewest bits. For geometric gaps the best M is near
// ln 2 / p (Gallager and van Voorhis 1975), p the density: candidates span M0/2 .. 2 M0, all of
// them when they are few, else 256 evenly spaced (the cost is flat near its minimum). The
// work is at most about twice the positions covered. Integer arithmetic only, so that every
// machine picks the same M for the same list.
std::uint64_t bestGolombM(const std::vector<std::uint64_t>& gaps) {
    if (gaps.empty()) {
        return 1;
    }
    std::uint64_t sum = 0;
    for (std::uint64_t g : gaps) {
        sum += g;
    }
    const std::uint64_t meanPlusOne = (sum + gaps.size()) / gaps.size();
    const std::uint64_t m0 = std::clamp<std::uint64_t>(meanPlusOne * 693 / 1000, 1, kMaxGolombM);
    const std::uint64_t lo = std::max<std::uint64_t>(1, m0 / 2);
    const std::uint64_t hi = std::min<std::uint64_t>(kMaxGolombM, m0 * 2 + 2);
    const std::uint64_t step = std::max<std::uint64_t>(1, (hi - lo) / 256);
    std::uint64_t best = lo;
    std::uint64_t bestCost = std::numeric_limits<std::uint64_t>::max();
    for (std::uint64_t m = lo; m <= hi; m += step) {
        const Golomb code(m);
        std::uint64_t total = 0;
        for (std::uint64_t g : gaps) {
            total += code.cost(g);
        }
        if (total < bestCost) {
            bestCost = total;
            best = m;
        }
    }
    return best;
}

Bytes golombBits(const std::vector<std::uint64_t>& gaps, std::uint64_t m) {
    BitWriter w;
    const Golomb code(m);
    for (std::uint64_t g : gaps) {
        code.put(w, g);
    }
    return std::move(w).finish();
}

// ---------------------------------------------------------------------------------------------
// The 2-bit arrays

inline Validity slotOf(const std::vector<std::uint64_t>& words, std::uint64_t serial) {
    return static_cast<Validity>(
        (words[static_cast<std::size_t>(serial >> 5)] >> ((serial & 31) * 2)) & 3);
}

inline void setSlot(std::vector<std::uint64_t>& words, std::uint64_t serial, Validity v) {
    std::uint64_t& word = words[static_cast<std::size_t>(serial >> 5)];
    const unsigned shift = static_cast<unsigned>((serial & 31) * 2);
    word = (word & ~(std::uint64_t{3} << shift)) | (static_cast<std::uint64_t>(v) << shift);
}

std::size_t wordsFor(std::uint64_t size) {
    return static_cast<std::size_t>((size + 31) / 32);
}

// A changed card's new validity is one of the two others; the delta's bit says which, in the
// order Valid, Suspended, Revoked.
Validity otherValidity(Validity old, bool second) {
    switch (old) {
    case Validity::Valid:
        return second ? Validity::Revoked : Validity::Suspended;
    case Validity::Suspended:
        return second ? Validity::Revoked : Validity::Valid;
    case Validity::Revoked:
        return second ? Validity::Suspended : Validity::Valid;
    }
    return Validity::Revoked;
}

bool isSecondOther(Validity old, Validity now) {
    return otherValidity(old, true) == now;
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the builder and the decoder

// Region sizes and offsets from an issuedUpTo table; the error says what is wrong.
struct RegionTable {
    std::array<std::uint64_t, kStatusMaxRegion + 1> start{};
    std::array<std::uint64_t, kStatusMaxRegion + 1> size{};
    std::uint64_t total = 0;
};

std::optional<StatusListError> addRegion(RegionTable& t, int previous, std::uint64_t region,
                                         std::uint64_t upTo, StatusListErrorCode code) {
    if (region < kStatusMinRegion || region > kStatusMaxRegion) {
        return makeError(code, fmt::format("region {} is outside {}..{}", region, kStatusMinRegion,
                                           kStatusMaxRegion));
    }
    if (static_cast<int>(region) <= previous) {
        return makeError(code, fmt::format("region {} follows region {}: regions must be listed "
                                           "once each, ascending",
                                           region, previous));
    }
    if (upTo > kStatusMaxSerial) {
        return makeError(code, fmt::format("region {}'s issued-up-to serial {} has more than 9 "
                                           "digits",
                                           region, upTo));
    }
    if (t.total + upTo + 1 > kMaxCoveredPositions) {
        return makeError(StatusListErrorCode::TooLarge,
                         fmt::format("the list covers more than {} card numbers, more than a "
                                     "verifier holds",
                                     kMaxCoveredPositions));
    }
    const auto r = static_cast<std::size_t>(region);
    t.start[r] = t.total;
    t.size[r] = upTo + 1;
    t.total += upTo + 1;
    return std::nullopt;
}

std::optional<StatusListError> checkSigner(const card::PrivateKey& signer,
                                           const card::Certificate& cert, Seconds issuedAt) {
    if (!cert.isStatusSigner()) {
        return makeError(
            StatusListErrorCode::InvalidArgument,
            fmt::format("certificate '{}' is not a status-signing certificate", cert.commonName()));
    }
    if (cert.publicKey().toPem() != signer.publicKey().toPem()) {
        return makeError(StatusListErrorCode::InvalidArgument,
                         "the signing key does not match the status signer's certificate");
    }
    if (issuedAt < cert.notBefore() || issuedAt > cert.notAfter()) {
        return makeError(StatusListErrorCode::InvalidArgument,
                         fmt::format("the status signer's certificate is valid from {} to {}, "
                                     "not at the list's issued-at {}",
                                     formatTime(cert.notBefore()), formatTime(cert.notAfter()),
                                     formatTime(issuedAt)));
    }
    return std::nullopt;
}

cbor::Value epochSeconds(Seconds t) {
    return cbor::Value::tagged(
        kTagEpochSeconds, cbor::Value(static_cast<std::uint64_t>(t.time_since_epoch().count())));
}

Result<Bytes, StatusListError> signPayload(const cbor::Map& map, const card::PrivateKey& signer,
                                           const card::Certificate& cert) {
    const Bytes payload = cbor::encode(cbor::Value(map));
    auto signedBytes = cose::sign(signer, cert.keyId(), payload);
    if (!signedBytes) {
        return failure<Bytes>(StatusListErrorCode::Crypto,
                              "cannot sign the status list: " + signedBytes.error().message);
    }
    if (signedBytes->size() > kMaxStatusListSize) {
        return failure<Bytes>(StatusListErrorCode::TooLarge,
                              fmt::format("the signed list would be {} bytes, more than the {} a "
                                          "verifier reads",
                                          signedBytes->size(), kMaxStatusListSize));
    }
    return std::move(signedBytes).value();
}

// ---------------------------------------------------------------------------------------------
// Reading a signed list: the envelope, the fields common to both kinds, the signer.

struct Envelope {
    cose::Sign1 message;
    cbor::Value payload{std::uint64_t{0}};
    std::uint64_t version = 0;
    std::optional<std::uint64_t> base;
    Seconds issuedAt{};
    std::optional<card::Certificate> certificate;
};

const std::uint64_t* uintAt(const cbor::Value& map, std::uint64_t key) {
    const cbor::Value* v = map.find(key);
    return v != nullptr ? v->get<std::uint64_t>() : nullptr;
}

Result<Envelope, StatusListError> openEnvelope(std::span<const std::uint8_t> bytes,
                                               std::uint64_t expectedKind) {
    using R = Result<Envelope, StatusListError>;
    const char* what = expectedKind == kKindSnapshot ? "status list" : "status list delta";
    if (bytes.size() > kMaxStatusListSize) {
        return failure<Envelope>(StatusListErrorCode::TooLarge,
                                 fmt::format("the {} is {} bytes, more than the {} allowed", what,
                                             bytes.size(), kMaxStatusListSize));
    }
    auto message = cose::decode(bytes, kMaxStatusListSize);
    if (!message) {
        return failure<Envelope>(
            StatusListErrorCode::Damaged,
            fmt::format("the {} is not a signed list: {}", what, message.error()));
    }
    auto payload = cbor::decode(message->payload);
    if (!payload || payload->get<cbor::Map>() == nullptr) {
        return failure<Envelope>(StatusListErrorCode::Damaged,
                                 fmt::format("the {}'s content is not a CBOR map{}", what,
                                             payload ? "" : ": " + payload.error()));
    }
    const cbor::Value& map = payload.value();
    const auto* format = uintAt(map, kKeyFormat);
    if (format == nullptr) {
        return failure<Envelope>(StatusListErrorCode::Damaged,
                                 fmt::format("the {} names no format version", what));
    }
    if (*format != kFormatVersion) {
        return failure<Envelope>(StatusListErrorCode::Unsupported,
                                 fmt::format("the {} is in format version {}; this program reads "
                                             "version {}: update it",
                                             what, *format, kFormatVersion));
    }
    const auto* kind = uintAt(map, kKeyKind);
    if (kind == nullptr || (*kind != kKindSnapshot && *kind != kKindDelta)) {
        return failure<Envelope>(StatusListErrorCode::Damaged,
                                 "the list is neither a snapshot nor a delta");
    }
    if (*kind != expectedKind) {
        return failure<Envelope>(StatusListErrorCode::WrongKind,
                                 expectedKind == kKindSnapshot
                                     ? "this is a delta; a whole list (snapshot) was expected"
                                     : "this is a whole list (snapshot); a delta was expected");
    }
    // Every key must be one this kind has: a version 1 list carries nothing else.
    for (const auto& [key, value] : *map.get<cbor::Map>()) {
        const auto* k = key.get<std::uint64_t>();
        const bool snapshotOnly = k != nullptr && (*k == kKeySuspendedCount ||
                                                   *k == kKeySuspendedM || *k == kKeySuspendedBits);
        const bool deltaOnly = k != nullptr && (*k == kKeyBase || *k == kKeyGrowth);
        if (k == nullptr || *k < kKeyFormat || *k > kKeySigner ||
            (expectedKind == kKindDelta && snapshotOnly) ||
            (expectedKind == kKindSnapshot && deltaOnly)) {
            return failure<Envelope>(StatusListErrorCode::Damaged,
                                     fmt::format("the {} holds a field a version 1 {} does not "
                                                 "have",
                                                 what, what));
        }
    }
    Envelope env;
    const auto* version = uintAt(map, kKeyVersion);
    const cbor::Value* issued = map.find(kKeyIssuedAt);
    const auto* issuedTag = issued != nullptr ? issued->get<cbor::Tagged>() : nullptr;
    const auto* issuedSeconds = issuedTag != nullptr && issuedTag->tag == kTagEpochSeconds
                                    ? issuedTag->item->get<std::uint64_t>()
                                    : nullptr;
    if (version == nullptr || issuedSeconds == nullptr || *issuedSeconds > kMaxEpochSeconds) {
        return failure<Envelope>(StatusListErrorCode::Damaged,
                                 fmt::format("the {} lacks its version or issue time", what));
    }
    env.version = *version;
    env.issuedAt = Seconds{std::chrono::seconds{static_cast<std::int64_t>(*issuedSeconds)}};
    if (expectedKind == kKindDelta) {
        const auto* base = uintAt(map, kKeyBase);
        if (base == nullptr) {
            return failure<Envelope>(StatusListErrorCode::Damaged,
                                     "the delta does not say which version it applies to");
        }
        env.base = *base;
    }
    if (const cbor::Value* der = map.find(kKeySigner); der != nullptr) {
        const auto* derBytes = der->get<Bytes>();
        if (derBytes == nullptr || derBytes->size() > kMaxCertificateSize) {
            return failure<Envelope>(StatusListErrorCode::Damaged,
                                     fmt::format("the {}'s signer certificate is damaged", what));
        }
        auto cert = card::Certificate::fromDer(*derBytes);
        if (!cert) {
            return failure<Envelope>(StatusListErrorCode::Damaged,
                                     fmt::format("the {}'s signer certificate is damaged", what));
        }
        env.certificate = std::move(cert).value();
    } else if (expectedKind == kKindSnapshot) {
        return failure<Envelope>(StatusListErrorCode::Damaged,
                                 "the status list carries no signer certificate");
    }
    env.message = std::move(message).value();
    env.payload = std::move(payload).value();
    return R(std::move(env));
}

// Rules of docs/status-list.md §Verification, in order.
std::optional<StatusListError> checkSignature(const Envelope& env, const card::Certificate& cert,
                                              const card::Certificate& root, Seconds now,
                                              std::span<const Bytes> withdrawn) {
    if (!root.isRoot()) {
        return makeError(StatusListErrorCode::UntrustedSigner,
                         "the pinned certificate is not a union root certificate");
    }
    // Before anything else about the signer: a withdrawn one is refused whatever it signed.
    if (std::find(withdrawn.begin(), withdrawn.end(), cert.publicKeyFingerprint()) !=
        withdrawn.end()) {
        return makeError(StatusListErrorCode::WithdrawnSigner,
                         fmt::format("the status signer '{}' was withdrawn by the union (trust "
                                     "list): nothing it signed is taken",
                                     cert.commonName()));
    }
    if (!cert.isStatusSigner()) {
        return makeError(StatusListErrorCode::NotStatusSigner,
                         fmt::format("the list is signed with certificate '{}', which may not "
                                     "sign status lists",
                                     cert.commonName()));
    }
    if (auto chain = cert.chainsTo(root, env.issuedAt); !chain) {
        return makeError(StatusListErrorCode::UntrustedSigner,
                         fmt::format("the status signer '{}' is not certified by the pinned union "
                                     "root at the list's issue time {}: {}",
                                     cert.commonName(), formatTime(env.issuedAt), chain.error()));
    }
    const Bytes kid = cert.keyId();
    if (env.message.kid != kid || !cose::verify(env.message, cert.publicKey())) {
        return makeError(StatusListErrorCode::BadSignature,
                         "the list's signature does not verify: it was altered, or signed by "
                         "another key than its signer certificate's");
    }
    if (env.issuedAt > now + kStatusClockSkew) {
        return makeError(StatusListErrorCode::FromFuture,
                         fmt::format("the list was issued at {}, after this device's clock ({}): "
                                     "check the device's date and time",
                                     formatTime(env.issuedAt), formatTime(now)));
    }
    return std::nullopt;
}

// A Golomb-coded sequence in the payload: count, and M and the bits when count > 0.
struct Coded {
    std::uint64_t count = 0;
    std::uint64_t m = 1;
    std::span<const std::uint8_t> bits;
};

Result<Coded, StatusListError> codedAt(const cbor::Value& map, std::uint64_t countKey,
                                       std::uint64_t mKey, std::uint64_t bitsKey,
                                       std::uint64_t bitsPerItemAtLeast, const char* what) {
    Coded c;
    const auto* count = uintAt(map, countKey);
    const cbor::Value* m = map.find(mKey);
    const cbor::Value* bits = map.find(bitsKey);
    if (count == nullptr) {
        return failure<Coded>(StatusListErrorCode::Damaged,
                              fmt::format("the list does not say how many {} it holds", what));
    }
    c.count = *count;
    if (c.count == 0) {
        if (m != nullptr || bits != nullptr) {
            return failure<Coded>(StatusListErrorCode::Damaged,
                                  fmt::format("the list holds no {} but codes some", what));
        }
        return c;
    }
    const auto* mValue = m != nullptr ? m->get<std::uint64_t>() : nullptr;
    const auto* bytes = bits != nullptr ? bits->get<Bytes>() : nullptr;
    if (mValue == nullptr || *mValue == 0 || *mValue > kMaxGolombM || bytes == nullptr) {
        return failure<Coded>(StatusListErrorCode::Damaged,
                              fmt::format("the coding of the {} is damaged", what));
    }
    // Each item takes at least this many bits: a larger count is a lie.
    if (c.count > bytes->size() * 8 / bitsPerItemAtLeast) {
        return failure<Coded>(
            StatusListErrorCode::Damaged,
            fmt::format("the list claims {} {} in {} bytes", c.count, what, bytes->size()));
    }
    c.m = *mValue;
    c.bits = *bytes;
    return c;
}

// Maps increasing global positions to (region, serial) without a search per position.
class RegionCursor {
public:
    explicit RegionCursor(const RegionTable& t) : m_table(t) {}
    /// The region holding `position` (< total), which is not below the previous one asked.
    std::pair<std::size_t, std::uint64_t> locate(std::uint64_t position) {
        while (m_table.size[m_region] == 0 ||
               position >= m_table.start[m_region] + m_table.size[m_region]) {
            ++m_region;
        }
        return {m_region, position - m_table.start[m_region]};
    }

private:
    const RegionTable& m_table;
    std::size_t m_region = kStatusMinRegion;
};

} // namespace

std::string_view toString(StatusListErrorCode code) {
    switch (code) {
    case StatusListErrorCode::InvalidArgument:
        return "invalid_argument";
    case StatusListErrorCode::Crypto:
        return "crypto";
    case StatusListErrorCode::TooLarge:
        return "too_large";
    case StatusListErrorCode::Damaged:
        return "damaged";
    case StatusListErrorCode::Unsupported:
        return "unsupported";
    case StatusListErrorCode::BadSignature:
        return "bad_signature";
    case StatusListErrorCode::UntrustedSigner:
        return "untrusted_signer";
    case StatusListErrorCode::WithdrawnSigner:
        return "withdrawn_signer";
    case StatusListErrorCode::NotStatusSigner:
        return "not_status_signer";
    case StatusListErrorCode::WrongKind:
        return "wrong_kind";
    case StatusListErrorCode::BaseMismatch:
        return "base_mismatch";
    case StatusListErrorCode::FromFuture:
        return "from_future";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Builder

std::vector<std::pair<int, std::uint64_t>>
fitCoverage(std::vector<std::pair<int, std::uint64_t>> issuedUpTo, std::uint64_t budget) {
    // Region r covers min(upTo, ceiling) + 1 positions; find the highest ceiling that fits.
    const auto covered = [&](std::uint64_t ceiling) {
        std::uint64_t total = 0;
        for (const auto& [region, upTo] : issuedUpTo)
            total += std::min(upTo, ceiling) + 1;
        return total;
    };
    std::uint64_t highest = 0;
    for (const auto& [region, upTo] : issuedUpTo)
        highest = std::max(highest, upTo);
    if (covered(highest) <= budget)
        return issuedUpTo;
    std::uint64_t low = 0; // fits, unless the regions alone outnumber the budget
    std::uint64_t high = highest;
    while (high - low > 1) {
        const std::uint64_t middle = low + (high - low) / 2;
        (covered(middle) <= budget ? low : high) = middle;
    }
    for (auto& [region, upTo] : issuedUpTo)
        upTo = std::min(upTo, low);
    return issuedUpTo;
}

Result<StatusListBuilder, StatusListError>
StatusListBuilder::create(std::uint64_t version, Seconds issuedAt,
                          std::vector<std::pair<int, std::uint64_t>> issuedUpTo) {
    if (issuedAt.time_since_epoch().count() < 0 ||
        static_cast<std::uint64_t>(issuedAt.time_since_epoch().count()) > kMaxEpochSeconds) {
        return failure<StatusListBuilder>(StatusListErrorCode::InvalidArgument,
                                          "the issue time is outside what the format holds");
    }
    RegionTable table;
    int previous = 0;
    for (const auto& [region, upTo] : issuedUpTo) {
        if (region < 0) {
            return failure<StatusListBuilder>(StatusListErrorCode::InvalidArgument,
                                              fmt::format("region {} is negative", region));
        }
        if (auto e = addRegion(table, previous, static_cast<std::uint64_t>(region), upTo,
                               StatusListErrorCode::InvalidArgument)) {
            return fail(std::move(*e));
        }
        previous = region;
    }
    StatusListBuilder b;
    b.m_version = version;
    b.m_issuedAt = issuedAt;
    b.m_issuedUpTo = std::move(issuedUpTo);
    b.m_regionStart = table.start;
    b.m_regionSize = table.size;
    b.m_total = table.total;
    return b;
}

std::optional<StatusListError> StatusListBuilder::add(const StatusEntry& entry) {
    if (entry.region < kStatusMinRegion || entry.region > kStatusMaxRegion ||
        m_regionSize[static_cast<std::size_t>(entry.region)] == 0) {
        return makeError(StatusListErrorCode::InvalidArgument,
                         fmt::format("card {}/{} is in a region the list does not cover",
                                     entry.region, entry.serial));
    }
    const auto r = static_cast<std::size_t>(entry.region);
    if (entry.serial >= m_regionSize[r]) {
        return makeError(StatusListErrorCode::InvalidArgument,
                         fmt::format("card {}/{} is above the region's issued-up-to serial {}",
                                     entry.region, entry.serial, m_regionSize[r] - 1));
    }
    if (entry.validity != Validity::Suspended && entry.validity != Validity::Revoked) {
        return makeError(StatusListErrorCode::InvalidArgument,
                         fmt::format("card {}/{} is listed as {}; only suspended and revoked "
                                     "cards are listed",
                                     entry.region, entry.serial, toString(entry.validity)));
    }
    const std::uint64_t position = m_regionStart[r] + entry.serial;
    if (position < m_next) {
        return makeError(StatusListErrorCode::InvalidArgument,
                         fmt::format("card {}/{} comes after a later card or is listed twice: "
                                     "entries must be in (region, serial) order",
                                     entry.region, entry.serial));
    }
    if (entry.validity == Validity::Suspended) {
        const std::uint64_t index = m_gaps.size();
        m_suspendedGaps.push_back(index - m_nextSuspendedIndex);
        m_nextSuspendedIndex = index + 1;
    }
    m_gaps.push_back(position - m_next);
    m_next = position + 1;
    return std::nullopt;
}

Result<Bytes, StatusListError>
StatusListBuilder::finish(const card::PrivateKey& signer,
                          const card::Certificate& signerCert) const {
    if (auto e = checkSigner(signer, signerCert, m_issuedAt)) {
        return fail(std::move(*e));
    }
    cbor::Array regions;
    regions.reserve(m_issuedUpTo.size());
    for (const auto& [region, upTo] : m_issuedUpTo) {
        regions.emplace_back(
            cbor::Array{cbor::Value(static_cast<std::uint64_t>(region)), cbor::Value(upTo)});
    }
    cbor::Map map;
    map.emplace_back(cbor::Value(kKeyFormat), cbor::Value(kFormatVersion));
    map.emplace_back(cbor::Value(kKeyKind), cbor::Value(kKindSnapshot));
    map.emplace_back(cbor::Value(kKeyVersion), cbor::Value(m_version));
    map.emplace_back(cbor::Value(kKeyIssuedAt), epochSeconds(m_issuedAt));
    map.emplace_back(cbor::Value(kKeyRegions), cbor::Value(std::move(regions)));
    map.emplace_back(cbor::Value(kKeyCount), cbor::Value(std::uint64_t{m_gaps.size()}));
    if (!m_gaps.empty()) {
        const std::uint64_t m = bestGolombM(m_gaps);
        map.emplace_back(cbor::Value(kKeyGolombM), cbor::Value(m));
        map.emplace_back(cbor::Value(kKeyBits), cbor::Value(golombBits(m_gaps, m)));
    }
    map.emplace_back(cbor::Value(kKeySuspendedCount),
                     cbor::Value(std::uint64_t{m_suspendedGaps.size()}));
    if (!m_suspendedGaps.empty()) {
        const std::uint64_t m = bestGolombM(m_suspendedGaps);
        map.emplace_back(cbor::Value(kKeySuspendedM), cbor::Value(m));
        map.emplace_back(cbor::Value(kKeySuspendedBits),
                         cbor::Value(golombBits(m_suspendedGaps, m)));
    }
    map.emplace_back(cbor::Value(kKeySigner), cbor::Value(signerCert.toDer()));
    return signPayload(map, signer, signerCert);
}

Result<Bytes, StatusListError> encodeSnapshot(const StatusListContent& content,
                                              const card::PrivateKey& signer,
                                              const card::Certificate& signerCert) {
    auto builder = StatusListBuilder::create(content.version, content.issuedAt, content.issuedUpTo);
    if (!builder) {
        return fail(builder.error());
    }
    for (const auto& entry : content.notValid) {
        if (auto e = builder->add(entry)) {
            return fail(std::move(*e));
        }
    }
    return builder->finish(signer, signerCert);
}

// ---------------------------------------------------------------------------------------------
// Snapshot

Result<StatusList, StatusListError> StatusList::load(std::span<const std::uint8_t> bytes,
                                                     const card::Certificate& pinnedRoot,
                                                     Seconds now,
                                                     std::span<const Bytes> withdrawnSigners) {
    using R = Result<StatusList, StatusListError>;
    auto env = openEnvelope(bytes, kKindSnapshot);
    if (!env) {
        return fail(env.error());
    }
    if (auto e = checkSignature(*env, *env->certificate, pinnedRoot, now, withdrawnSigners)) {
        return fail(std::move(*e));
    }
    // Authentic from here on, but still checked: a registry bug must not crash a verifier.
    const cbor::Value& map = env->payload;
    const cbor::Value* regions = map.find(kKeyRegions);
    const auto* regionArray = regions != nullptr ? regions->get<cbor::Array>() : nullptr;
    if (regionArray == nullptr) {
        return failure<StatusList>(StatusListErrorCode::Damaged,
                                   "the status list has no region table");
    }
    RegionTable table;
    int previous = 0;
    for (const auto& item : *regionArray) {
        const auto* pair = item.get<cbor::Array>();
        const auto* region =
            pair != nullptr && pair->size() == 2 ? (*pair)[0].get<std::uint64_t>() : nullptr;
        const auto* upTo = region != nullptr ? (*pair)[1].get<std::uint64_t>() : nullptr;
        if (upTo == nullptr) {
            return failure<StatusList>(StatusListErrorCode::Damaged,
                                       "an entry of the region table is not [region, serial]");
        }
        if (auto e = addRegion(table, previous, *region, *upTo, StatusListErrorCode::Damaged)) {
            return fail(std::move(*e));
        }
        previous = static_cast<int>(*region);
    }
    auto listed = codedAt(map, kKeyCount, kKeyGolombM, kKeyBits, 1, "listed cards");
    if (!listed) {
        return fail(listed.error());
    }
    auto suspended =
        codedAt(map, kKeySuspendedCount, kKeySuspendedM, kKeySuspendedBits, 1, "suspended cards");
    if (!suspended) {
        return fail(suspended.error());
    }
    if (listed->count > table.total || suspended->count > listed->count) {
        return failure<StatusList>(StatusListErrorCode::Damaged,
                                   fmt::format("the list claims {} listed cards ({} suspended) "
                                               "among {} it covers",
                                               listed->count, suspended->count, table.total));
    }

    StatusList list;
    list.m_version = env->version;
    list.m_issuedAt = env->issuedAt;
    list.m_total = table.total;
    list.m_listed = listed->count;
    list.m_regionSize = table.size;
    for (std::size_t r = 0; r < table.size.size(); ++r) {
        list.m_bits[r].assign(wordsFor(table.size[r]), 0);
    }
    list.m_signer = std::move(env->certificate);

    // Both sequences are read side by side, so that nothing is allocated per listed card.
    BitReader bits(listed->bits);
    BitReader suspendedBits(suspended->bits);
    const Golomb code(listed->m);
    const Golomb suspendedCode(suspended->m);
    const std::uint64_t n = listed->count;
    std::uint64_t nextSuspended = n; // n: none (left)
    std::uint64_t suspendedSeen = 0;
    const auto damaged = [](const char* what) {
        return failure<StatusList>(
            StatusListErrorCode::Damaged,
            fmt::format("the status list's {} are damaged or truncated", what));
    };
    if (suspended->count > 0) {
        std::uint64_t g = 0;
        if (!suspendedCode.get(suspendedBits, n - 1, g)) {
            return damaged("suspended cards");
        }
        nextSuspended = g;
    }
    RegionCursor cursor(table);
    std::uint64_t next = 0; // the first position the next listed card may take
    for (std::uint64_t i = 0; i < n; ++i) {
        std::uint64_t g = 0;
        if (next >= table.total || !code.get(bits, table.total - 1 - next, g)) {
            return damaged("listed cards");
        }
        const std::uint64_t position = next + g;
        const auto [region, serial] = cursor.locate(position);
        Validity v = Validity::Revoked;
        if (i == nextSuspended) {
            v = Validity::Suspended;
            ++suspendedSeen;
            if (suspendedSeen < suspended->count) {
                if (i + 1 >= n || !suspendedCode.get(suspendedBits, n - 2 - i, g)) {
                    return damaged("suspended cards");
                }
                nextSuspended = i + 1 + g;
            }
        }
        setSlot(list.m_bits[region], serial, v);
        next = position + 1;
    }
    if (!bits.atPaddedEnd() || !suspendedBits.atPaddedEnd() || suspendedSeen != suspended->count) {
        return failure<StatusList>(StatusListErrorCode::Damaged,
                                   "the status list's coded cards do not end where the list "
                                   "says: it is damaged");
    }
    return R(std::move(list));
}

Result<StatusList, StatusListError>
StatusList::fromContent(const StatusListContent& content, std::optional<card::Certificate> signer) {
    using R = Result<StatusList, StatusListError>;
    // The builder checks the table and the entries exactly as an encoder would.
    auto builder = StatusListBuilder::create(content.version, content.issuedAt, content.issuedUpTo);
    if (!builder) {
        return fail(builder.error());
    }
    StatusList list;
    list.m_version = content.version;
    list.m_issuedAt = content.issuedAt;
    list.m_regionSize = builder->m_regionSize;
    list.m_total = builder->m_total;
    for (std::size_t r = 0; r < list.m_regionSize.size(); ++r) {
        list.m_bits[r].assign(wordsFor(list.m_regionSize[r]), 0);
    }
    for (const auto& entry : content.notValid) {
        if (auto e = builder->add(entry)) {
            return fail(std::move(*e));
        }
        setSlot(list.m_bits[static_cast<std::size_t>(entry.region)], entry.serial, entry.validity);
    }
    list.m_listed = content.notValid.size();
    list.m_signer = std::move(signer);
    return R(std::move(list));
}

std::optional<std::uint64_t> StatusList::issuedUpTo(int region) const {
    if (region < kStatusMinRegion || region > kStatusMaxRegion ||
        m_regionSize[static_cast<std::size_t>(region)] == 0) {
        return std::nullopt;
    }
    return m_regionSize[static_cast<std::size_t>(region)] - 1;
}

std::optional<std::string> StatusList::stalenessWarning(std::chrono::seconds maxAge,
                                                        Seconds now) const {
    if (!olderThan(maxAge, now)) {
        return std::nullopt;
    }
    return fmt::format(
        "the status list is from {}, {} old, more than the {} allowed: cards "
        "suspended or revoked since then are not known here; connect to the "
        "registry to update the list",
        formatTime(m_issuedAt),
        formatDuration(std::chrono::duration_cast<std::chrono::seconds>(now - m_issuedAt)),
        formatDuration(maxAge));
}

StatusListContent StatusList::content() const {
    StatusListContent c;
    c.version = m_version;
    c.issuedAt = m_issuedAt;
    c.notValid.reserve(static_cast<std::size_t>(m_listed));
    for (int region = kStatusMinRegion; region <= kStatusMaxRegion; ++region) {
        const auto r = static_cast<std::size_t>(region);
        if (m_regionSize[r] == 0) {
            continue;
        }
        c.issuedUpTo.emplace_back(region, m_regionSize[r] - 1);
        const auto& words = m_bits[r];
        for (std::size_t w = 0; w < words.size(); ++w) {
            // One bit per non-zero 2-bit slot, at the slot's low bit.
            std::uint64_t nonZero = (words[w] | (words[w] >> 1)) & 0x5555555555555555u;
            while (nonZero != 0) {
                const unsigned bit = static_cast<unsigned>(std::countr_zero(nonZero));
                const std::uint64_t serial = w * 32 + bit / 2;
                c.notValid.push_back(
                    {region, serial, static_cast<Validity>((words[w] >> bit) & 3)});
                nonZero &= nonZero - 1;
            }
        }
    }
    return c;
}

// ---------------------------------------------------------------------------------------------
// Delta

Result<Bytes, StatusListError> encodeDelta(const StatusList& from, const StatusList& to,
                                           const card::PrivateKey& signer,
                                           const card::Certificate& signerCert) {
    if (to.m_version <= from.m_version) {
        return failure<Bytes>(StatusListErrorCode::InvalidArgument,
                              fmt::format("a delta goes forward: version {} is not after {}",
                                          to.m_version, from.m_version));
    }
    if (to.m_issuedAt < from.m_issuedAt) {
        return failure<Bytes>(StatusListErrorCode::InvalidArgument,
                              "the newer list was issued before the older one");
    }
    if (auto e = checkSigner(signer, signerCert, to.m_issuedAt)) {
        return fail(std::move(*e));
    }
    cbor::Array growth;
    cbor::Array newRegions;
    for (int region = kStatusMinRegion; region <= kStatusMaxRegion; ++region) {
        const auto r = static_cast<std::size_t>(region);
        if (from.m_regionSize[r] > to.m_regionSize[r]) {
            return failure<Bytes>(StatusListErrorCode::InvalidArgument,
                                  fmt::format("region {} covers fewer serials in the newer list; "
                                              "a delta cannot express that: publish a snapshot",
                                              region));
        }
        if (from.m_regionSize[r] > 0) {
            growth.emplace_back(cbor::Value(to.m_regionSize[r] - from.m_regionSize[r]));
        } else if (to.m_regionSize[r] > 0) {
            newRegions.emplace_back(cbor::Array{cbor::Value(static_cast<std::uint64_t>(region)),
                                                cbor::Value(to.m_regionSize[r] - 1)});
        }
    }
    // Positions in the newer list's numbering whose validity changed, with the bit that says
    // which other validity each became.
    std::vector<std::uint64_t> gaps;
    std::vector<bool> second;
    std::uint64_t start = 0;
    std::uint64_t next = 0;
    for (std::size_t r = kStatusMinRegion; r <= kStatusMaxRegion; ++r) {
        const auto& now = to.m_bits[r];
        const auto& old = from.m_bits[r];
        for (std::size_t w = 0; w < now.size(); ++w) {
            const std::uint64_t before = w < old.size() ? old[w] : 0;
            const std::uint64_t x = before ^ now[w];
            std::uint64_t changed = (x | (x >> 1)) & 0x5555555555555555u;
            while (changed != 0) {
                const unsigned bit = static_cast<unsigned>(std::countr_zero(changed));
                const std::uint64_t position = start + w * 32 + bit / 2;
                gaps.push_back(position - next);
                second.push_back(isSecondOther(static_cast<Validity>((before >> bit) & 3),
                                               static_cast<Validity>((now[w] >> bit) & 3)));
                next = position + 1;
                changed &= changed - 1;
            }
        }
        start += to.m_regionSize[r];
    }

    cbor::Map map;
    map.emplace_back(cbor::Value(kKeyFormat), cbor::Value(kFormatVersion));
    map.emplace_back(cbor::Value(kKeyKind), cbor::Value(kKindDelta));
    map.emplace_back(cbor::Value(kKeyVersion), cbor::Value(to.m_version));
    map.emplace_back(cbor::Value(kKeyBase), cbor::Value(from.m_version));
    map.emplace_back(cbor::Value(kKeyIssuedAt), epochSeconds(to.m_issuedAt));
    map.emplace_back(cbor::Value(kKeyRegions), cbor::Value(std::move(newRegions)));
    map.emplace_back(cbor::Value(kKeyGrowth), cbor::Value(std::move(growth)));
    map.emplace_back(cbor::Value(kKeyCount), cbor::Value(std::uint64_t{gaps.size()}));
    if (!gaps.empty()) {
        const std::uint64_t m = bestGolombM(gaps);
        const Golomb code(m);
        BitWriter w;
        for (std::size_t i = 0; i < gaps.size(); ++i) {
            code.put(w, gaps[i]);
            w.put(second[i] ? 1 : 0, 1);
        }
        map.emplace_back(cbor::Value(kKeyGolombM), cbor::Value(m));
        map.emplace_back(cbor::Value(kKeyBits), cbor::Value(std::move(w).finish()));
    }
    // A verifier holding `from` has its signer's certificate: 500 bytes a day saved.
    if (!from.m_signer || from.m_signer->keyId() != signerCert.keyId()) {
        map.emplace_back(cbor::Value(kKeySigner), cbor::Value(signerCert.toDer()));
    }
    return signPayload(map, signer, signerCert);
}

Result<StatusList, StatusListError>
StatusList::applyDelta(std::span<const std::uint8_t> bytes, const card::Certificate& pinnedRoot,
                       Seconds now, std::span<const Bytes> withdrawnSigners) const {
    using R = Result<StatusList, StatusListError>;
    auto env = openEnvelope(bytes, kKindDelta);
    if (!env) {
        return fail(env.error());
    }
    if (*env->base != m_version) {
        return failure<StatusList>(StatusListErrorCode::BaseMismatch,
                                   fmt::format("the delta applies to version {}, but this list is "
                                               "version {}: fetch a whole list or the deltas in "
                                               "between",
                                               *env->base, m_version));
    }
    if (!env->certificate && !m_signer) {
        return failure<StatusList>(StatusListErrorCode::UntrustedSigner,
                                   "the delta carries no signer certificate and this list has "
                                   "none to check it with");
    }
    const card::Certificate& cert = env->certificate ? *env->certificate : *m_signer;
    if (!env->certificate && env->message.kid != cert.keyId()) {
        return failure<StatusList>(StatusListErrorCode::UntrustedSigner,
                                   "the delta is signed by another key than this list and carries "
                                   "no certificate for it");
    }
    if (auto e = checkSignature(*env, cert, pinnedRoot, now, withdrawnSigners)) {
        return fail(std::move(*e));
    }
    if (env->version <= m_version || env->issuedAt < m_issuedAt) {
        return failure<StatusList>(StatusListErrorCode::Damaged,
                                   "the delta goes back in version or time");
    }
    const cbor::Value& map = env->payload;
    const cbor::Value* regionsValue = map.find(kKeyRegions);
    const cbor::Value* growthValue = map.find(kKeyGrowth);
    const auto* newRegions = regionsValue != nullptr ? regionsValue->get<cbor::Array>() : nullptr;
    const auto* growth = growthValue != nullptr ? growthValue->get<cbor::Array>() : nullptr;
    if (newRegions == nullptr || growth == nullptr) {
        return failure<StatusList>(StatusListErrorCode::Damaged,
                                   "the delta lacks its region changes");
    }
    // The newer region table: the base's regions grown, and the new ones.
    std::array<std::uint64_t, kStatusMaxRegion + 1> upTo{};
    std::array<bool, kStatusMaxRegion + 1> covered{};
    std::size_t g = 0;
    for (std::size_t r = kStatusMinRegion; r <= kStatusMaxRegion; ++r) {
        if (m_regionSize[r] == 0) {
            continue;
        }
        const auto* step = g < growth->size() ? (*growth)[g].get<std::uint64_t>() : nullptr;
        if (step == nullptr || *step > kStatusMaxSerial) {
            return failure<StatusList>(StatusListErrorCode::Damaged,
                                       "the delta's region growth does not match the list");
        }
        upTo[r] = m_regionSize[r] - 1 + *step;
        covered[r] = true;
        ++g;
    }
    if (g != growth->size()) {
        return failure<StatusList>(StatusListErrorCode::Damaged,
                                   "the delta's region growth does not match the list");
    }
    int previous = 0;
    for (const auto& item : *newRegions) {
        const auto* pair = item.get<cbor::Array>();
        const auto* region =
            pair != nullptr && pair->size() == 2 ? (*pair)[0].get<std::uint64_t>() : nullptr;
        const auto* top = region != nullptr ? (*pair)[1].get<std::uint64_t>() : nullptr;
        if (top == nullptr || *region < kStatusMinRegion || *region > kStatusMaxRegion ||
            static_cast<int>(*region) <= previous || covered[*region]) {
            return failure<StatusList>(StatusListErrorCode::Damaged,
                                       "the delta's new regions are damaged");
        }
        upTo[*region] = *top;
        covered[*region] = true;
        previous = static_cast<int>(*region);
    }
    RegionTable table;
    previous = 0;
    for (int region = kStatusMinRegion; region <= kStatusMaxRegion; ++region) {
        const auto r = static_cast<std::size_t>(region);
        if (!covered[r]) {
            continue;
        }
        if (auto e = addRegion(table, previous, r, upTo[r], StatusListErrorCode::Damaged)) {
            return fail(std::move(*e));
        }
        previous = region;
    }
    auto changes = codedAt(map, kKeyCount, kKeyGolombM, kKeyBits, 2, "changed cards");
    if (!changes) {
        return fail(changes.error());
    }
    if (changes->count > table.total) {
        return failure<StatusList>(StatusListErrorCode::Damaged,
                                   "the delta changes more cards than the list covers");
    }

    StatusList list;
    list.m_version = env->version;
    list.m_issuedAt = env->issuedAt;
    list.m_total = table.total;
    list.m_regionSize = table.size;
    for (std::size_t r = 0; r < table.size.size(); ++r) {
        list.m_bits[r] = m_bits[r];
        list.m_bits[r].resize(wordsFor(table.size[r]), 0);
    }
    list.m_signer = env->certificate ? std::move(env->certificate) : m_signer;
    std::uint64_t listed = m_listed;

    BitReader bits(changes->bits);
    const Golomb code(changes->m);
    RegionCursor cursor(table);
    std::uint64_t next = 0;
    for (std::uint64_t i = 0; i < changes->count; ++i) {
        std::uint64_t gap = 0;
        std::uint64_t which = 0;
        if (next >= table.total || !code.get(bits, table.total - 1 - next, gap) ||
            !bits.read(1, which)) {
            return failure<StatusList>(StatusListErrorCode::Damaged,
                                       "the delta's changed cards are damaged or truncated");
        }
        const std::uint64_t position = next + gap;
        const auto [region, serial] = cursor.locate(position);
        const Validity old = slotOf(list.m_bits[region], serial);
        const Validity now = otherValidity(old, which != 0);
        setSlot(list.m_bits[region], serial, now);
        if (old == Validity::Valid) {
            ++listed;
        } else if (now == Validity::Valid) {
            --listed;
        }
        next = position + 1;
    }
    if (!bits.atPaddedEnd()) {
        return failure<StatusList>(StatusListErrorCode::Damaged,
                                   "the delta's changed cards do not end where it says");
    }
    list.m_listed = listed;
    return R(std::move(list));
}

} // namespace unioncard::registry
