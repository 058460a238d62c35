// SPDX-License-Identifier: Apache-2.0
// Fuzz target for the card record decoder: every byte string a hostile card or QR code could
// hand a verifier goes through the same path as in the field (CBOR, COSE_Sign1, payload, and
// the verifier against a trust list). None of it may crash, hang, leak or read out of bounds.

#include "../support/test_signing.hpp"

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/cbor.hpp>
#include <unioncard/card/cose.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/record_text.hpp>
#include <unioncard/card/trust_list.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>

using namespace unioncard::card;

namespace {

// One trust list for the whole run, with a station key made at start-up.
const TrustList& trustList() {
    static const TrustList list = [] {
        const auto s = testsupport::TestSigning::make("st-fuzz");
        const Seconds from{std::chrono::sys_days{std::chrono::year{2025} / 1 / 1}};
        auto bytes = TrustList::build(s.rootKey, s.root, {s.station.certificate}, 1, from);
        auto loaded = TrustList::load(*bytes, std::nullopt);
        if (!loaded) {
            std::abort();
        }
        return std::move(loaded).value();
    }();
    return list;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const auto today = std::chrono::sys_days{std::chrono::year{2027} / 6 / 1};
    const auto v = verifyRecord(input, trustList(), today);
    if (v.verdict == Verdict::Valid) {
        std::abort(); // nobody but the fuzz root's station can sign, and it signs nothing here
    }
    if (auto view = inspectRecord(input)) {
        if (view->record) {
            // What decodes must encode back to the same bytes: one meaning, one encoding.
            if (encodePayload(view->record.value()) != view->payload) {
                std::abort();
            }
        }
    }
    if (auto value = cbor::decode(input)) {
        if (cbor::encode(value.value()) != Bytes(input.begin(), input.end())) {
            std::abort();
        }
    }
    (void)TrustList::load(input, std::nullopt);
    // The same bytes as a scanned QR's text: what decodes must encode back to the same text.
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto bytes = recordFromText(text)) {
        std::string_view body = text.substr(kRecordTextPrefix.size());
        while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
            body.remove_suffix(1);
        }
        if (base45Encode(bytes.value()) != body) {
            std::abort();
        }
        (void)verifyRecord(bytes.value(), trustList(), today);
    }
    return 0;
}
