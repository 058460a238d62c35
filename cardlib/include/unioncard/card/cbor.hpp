// SPDX-License-Identifier: Apache-2.0
#pragma once

// The subset of CBOR (RFC 8949) that the card record and the trust list use, in deterministic
// encoding (RFC 8949 §4.2.1): integers, byte and text strings, arrays, maps and tags, all of
// definite length with the shortest headers and map keys in bytewise order. libcbor does the
// byte-level work in both directions; this layer refuses everything a signed record never
// needs (floats, simple values, indefinite lengths, non-shortest forms, unsorted or repeated
// keys), so that one meaning has exactly one encoding.

#include <unioncard/card/result.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace unioncard::card::cbor {

using Bytes = std::vector<std::uint8_t>;

struct Value;
using Array = std::vector<Value>;
using Map = std::vector<std::pair<Value, Value>>;

/// A negative integer, stored as CBOR stores it: the value is -1 - n.
struct Negative {
    std::uint64_t n;
    auto operator<=>(const Negative&) const = default;
};

struct Tagged {
    std::uint64_t tag;
    std::shared_ptr<const Value> item;
};

struct Value {
    std::variant<std::uint64_t, Negative, Bytes, std::string, Array, Map, Tagged> v;

    Value(std::uint64_t u) : v(u) {}
    Value(int) = delete; // say which: an unsigned or a negative
    Value(Negative n) : v(n) {}
    Value(Bytes b) : v(std::move(b)) {}
    Value(std::string s) : v(std::move(s)) {}
    Value(Array a) : v(std::move(a)) {}
    Value(Map m) : v(std::move(m)) {}
    Value(Tagged t) : v(std::move(t)) {}

    static Value tagged(std::uint64_t tag, Value item) {
        return Tagged{tag, std::make_shared<const Value>(std::move(item))};
    }

    template <class T> const T* get() const { return std::get_if<T>(&v); }
    /// The item a map holds under an unsigned key, or null.
    const Value* find(std::uint64_t key) const;
};

/// Encodes deterministically. Map entries are written in the order given: callers build maps
/// with keys ascending, which for the small unsigned keys used here is bytewise order too.
Bytes encode(const Value& value);

struct DecodeLimits {
    std::size_t maxDepth = 8;
    /// Items in all (each costs far more memory decoded than its one byte of input): a trust
    /// list of a few thousand certificates stays far below, a flood of tiny items does not.
    std::size_t maxItems = 65536;
};

/// Decodes exactly one item that must fill the input. Never throws; every refusal says what
/// and where.
Result<Value, std::string> decode(std::span<const std::uint8_t> input, DecodeLimits limits = {});

/// The length of the one item at the start of `input` (what follows it is not read), for
/// data stored in a fixed-size container such as a chip file padded with zeros.
Result<std::size_t, std::string> itemLength(std::span<const std::uint8_t> input,
                                            DecodeLimits limits = {});

} // namespace unioncard::card::cbor
