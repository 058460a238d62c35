// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/cbor.hpp>
#include <unioncard/card/cose.hpp>

#include <fmt/format.h>

namespace unioncard::card::cose {

namespace {

Bytes protectedHeaderFor(std::span<const std::uint8_t> kid) {
    // Keys ascending (RFC 8949 §4.2.1): 1 (alg) before 4 (kid).
    return cbor::encode(
        cbor::Map{{cbor::Value(kHeaderAlg),
                   cbor::Value(cbor::Negative{static_cast<std::uint64_t>(-1 - kAlgEs256)})},
                  {cbor::Value(kHeaderKid), cbor::Value(Bytes(kid.begin(), kid.end()))}});
}

} // namespace

Bytes sigStructure(std::span<const std::uint8_t> protectedHeader,
                   std::span<const std::uint8_t> payload) {
    return cbor::encode(
        cbor::Array{cbor::Value(std::string("Signature1")),
                    cbor::Value(Bytes(protectedHeader.begin(), protectedHeader.end())),
                    cbor::Value(Bytes{}), cbor::Value(Bytes(payload.begin(), payload.end()))});
}

Result<Bytes, KeyError> sign(const PrivateKey& key, std::span<const std::uint8_t> kid,
                             std::span<const std::uint8_t> payload) {
    return sign(static_cast<const RecordSigningKey&>(key), kid, payload);
}

Result<Bytes, KeyError> sign(const RecordSigningKey& key, std::span<const std::uint8_t> kid,
                             std::span<const std::uint8_t> payload) {
    const Bytes header = protectedHeaderFor(kid);
    auto signature = key.signRaw(sigStructure(header, payload));
    if (!signature) {
        return fail(signature.error());
    }
    return cbor::encode(cbor::Value::tagged(
        kTagSign1, cbor::Array{cbor::Value(header), cbor::Value(cbor::Map{}),
                               cbor::Value(Bytes(payload.begin(), payload.end())),
                               cbor::Value(std::move(signature).value())}));
}

Result<Sign1, std::string> decode(std::span<const std::uint8_t> bytes, std::size_t maxSize) {
    using R = Result<Sign1, std::string>;
    if (bytes.size() > maxSize) {
        return R(fail(fmt::format("{} bytes is more than the {} allowed", bytes.size(), maxSize)));
    }
    auto decoded = cbor::decode(bytes);
    if (!decoded) {
        return R(fail("not CBOR: " + decoded.error()));
    }
    const auto* tagged = decoded->get<cbor::Tagged>();
    if (tagged == nullptr || tagged->tag != kTagSign1) {
        return R(fail("not a COSE_Sign1 message (tag 18 is missing)"));
    }
    const auto* parts = tagged->item->get<cbor::Array>();
    if (parts == nullptr || parts->size() != 4) {
        return R(fail("a COSE_Sign1 message is an array of four items"));
    }
    const auto* protectedBytes = (*parts)[0].get<Bytes>();
    const auto* unprotected = (*parts)[1].get<cbor::Map>();
    const auto* payload = (*parts)[2].get<Bytes>();
    const auto* signature = (*parts)[3].get<Bytes>();
    if (protectedBytes == nullptr || unprotected == nullptr || payload == nullptr ||
        signature == nullptr) {
        return R(fail("the COSE_Sign1 items have the wrong types (RFC 9052 §4.2)"));
    }
    if (!unprotected->empty()) {
        return R(fail("the unprotected header must be empty"));
    }
    auto header = cbor::decode(*protectedBytes);
    if (!header || header->get<cbor::Map>() == nullptr) {
        return R(fail("the protected header is not a CBOR map"));
    }
    if (header->get<cbor::Map>()->size() != 2) {
        return R(fail("the protected header must hold exactly alg and kid"));
    }
    const auto* alg = header->find(kHeaderAlg);
    const auto* kid = header->find(kHeaderKid);
    const auto* algValue = alg != nullptr ? alg->get<cbor::Negative>() : nullptr;
    if (algValue == nullptr || algValue->n != static_cast<std::uint64_t>(-1 - kAlgEs256)) {
        return R(fail("the algorithm is not ES256 (-7)"));
    }
    const auto* kidValue = kid != nullptr ? kid->get<Bytes>() : nullptr;
    if (kidValue == nullptr || kidValue->size() != kKidLength) {
        return R(fail(fmt::format("the key id must be {} bytes", kKidLength)));
    }
    if (signature->size() != 64) {
        return R(fail(fmt::format("an ES256 signature is 64 bytes, not {}", signature->size())));
    }
    return Sign1{*protectedBytes, *kidValue, *payload, *signature};
}

bool verify(const Sign1& message, const PublicKey& key) {
    return key.verifyRaw(sigStructure(message.protectedHeader, message.payload), message.signature);
}

} // namespace unioncard::card::cose
