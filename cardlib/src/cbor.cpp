// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/cbor.hpp>

#include <cbor.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace unioncard::card::cbor {

const Value* Value::find(std::uint64_t key) const {
    const auto* map = get<Map>();
    if (map == nullptr) {
        return nullptr;
    }
    for (const auto& [k, item] : *map) {
        if (const auto* u = k.get<std::uint64_t>(); u != nullptr && *u == key) {
            return &item;
        }
    }
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Encoding

namespace {

class Writer {
public:
    template <class F> void header(F encodeFn, std::uint64_t argument) {
        unsigned char buf[9];
        const std::size_t n = encodeFn(argument, buf, sizeof buf);
        out.insert(out.end(), buf, buf + n);
    }
    void raw(const void* data, std::size_t size) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        out.insert(out.end(), p, p + size);
    }
    void value(const Value& v) {
        std::visit([this](const auto& x) { write(x); }, v.v);
    }

    Bytes out;

private:
    void write(std::uint64_t u) { header(cbor_encode_uint, u); }
    void write(Negative n) { header(cbor_encode_negint, n.n); }
    void write(const Bytes& b) {
        header(cbor_encode_bytestring_start, b.size());
        raw(b.data(), b.size());
    }
    void write(const std::string& s) {
        header(cbor_encode_string_start, s.size());
        raw(s.data(), s.size());
    }
    void write(const Array& a) {
        header(cbor_encode_array_start, a.size());
        for (const auto& item : a) {
            value(item);
        }
    }
    void write(const Map& m) {
        header(cbor_encode_map_start, m.size());
        for (const auto& [k, item] : m) {
            value(k);
            value(item);
        }
    }
    void write(const Tagged& t) {
        header(cbor_encode_tag, t.tag);
        value(*t.item);
    }
};

} // namespace

Bytes encode(const Value& value) {
    Writer w;
    w.value(value);
    return std::move(w.out);
}

// ---------------------------------------------------------------------------------------------
// Decoding: libcbor's streaming decoder reads one header (and a definite string's content) per
// call and reports it through a callback; the callbacks only note what was seen, and the loop
// below checks it against the header length libcbor consumed, then builds the tree.

namespace {

enum class Event { None, Unsigned, Negative, Bytes, Text, Array, Map, Tag, Refused };

struct Seen {
    Event event = Event::None;
    std::uint64_t argument = 0; ///< the integer, the tag, or the number of items
    int width = 0;              ///< bytes the argument was encoded in (0: in the initial byte)
    const std::uint8_t* data = nullptr;
    const char* refusedWhat = nullptr;
};

Seen& seen(void* ctx) {
    return *static_cast<Seen*>(ctx);
}

template <int Width, Event E, class T> void onInt(void* ctx, T value) {
    seen(ctx) = Seen{E, value, Width, nullptr, nullptr};
}

void onBytes(void* ctx, cbor_data data, std::size_t length) {
    seen(ctx) = Seen{Event::Bytes, length, -1, data, nullptr};
}
void onText(void* ctx, cbor_data data, std::size_t length) {
    seen(ctx) = Seen{Event::Text, length, -1, data, nullptr};
}
void onArray(void* ctx, std::size_t size) {
    seen(ctx) = Seen{Event::Array, size, -1, nullptr, nullptr};
}
void onMap(void* ctx, std::size_t size) {
    seen(ctx) = Seen{Event::Map, size, -1, nullptr, nullptr};
}
void onTag(void* ctx, std::uint64_t tag) {
    seen(ctx) = Seen{Event::Tag, tag, -1, nullptr, nullptr};
}
template <const char* What> void refuse(void* ctx) {
    seen(ctx) = Seen{Event::Refused, 0, 0, nullptr, What};
}
constexpr char kIndefinite[] = "an indefinite-length item";
constexpr char kSimple[] = "a simple value (true, false, null or undefined)";
constexpr char kFloat[] = "a floating-point number";
void refuseFloat(void* ctx, float) {
    refuse<kFloat>(ctx);
}
void refuseDouble(void* ctx, double) {
    refuse<kFloat>(ctx);
}
void refuseBool(void* ctx, bool) {
    refuse<kSimple>(ctx);
}

const cbor_callbacks& callbacks() {
    static const cbor_callbacks cb = [] {
        cbor_callbacks c = cbor_empty_callbacks;
        c.uint8 = onInt<1, Event::Unsigned, std::uint8_t>;
        c.uint16 = onInt<2, Event::Unsigned, std::uint16_t>;
        c.uint32 = onInt<4, Event::Unsigned, std::uint32_t>;
        c.uint64 = onInt<8, Event::Unsigned, std::uint64_t>;
        c.negint8 = onInt<1, Event::Negative, std::uint8_t>;
        c.negint16 = onInt<2, Event::Negative, std::uint16_t>;
        c.negint32 = onInt<4, Event::Negative, std::uint32_t>;
        c.negint64 = onInt<8, Event::Negative, std::uint64_t>;
        c.byte_string = onBytes;
        c.string = onText;
        c.array_start = onArray;
        c.map_start = onMap;
        c.tag = onTag;
        c.byte_string_start = refuse<kIndefinite>;
        c.string_start = refuse<kIndefinite>;
        c.indef_array_start = refuse<kIndefinite>;
        c.indef_map_start = refuse<kIndefinite>;
        c.indef_break = refuse<kIndefinite>;
        c.float2 = refuseFloat;
        c.float4 = refuseFloat;
        c.float8 = refuseDouble;
        c.undefined = refuse<kSimple>;
        c.null = refuse<kSimple>;
        c.boolean = refuseBool;
        return c;
    }();
    return cb;
}

// The number of argument bytes the shortest encoding of `argument` takes (RFC 8949 §4.2.1).
int shortestWidth(std::uint64_t argument) {
    if (argument < 24) {
        return 0;
    }
    if (argument <= 0xFF) {
        return 1;
    }
    if (argument <= 0xFFFF) {
        return 2;
    }
    if (argument <= 0xFFFFFFFF) {
        return 4;
    }
    return 8;
}

bool validUtf8(const std::uint8_t* s, std::size_t n) {
    std::size_t i = 0;
    while (i < n) {
        const std::uint8_t c = s[i];
        std::size_t len;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 (RFC 3629 §3).
        static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return false;
        }
        i += len;
    }
    return true;
}

// A container being filled, or a tag waiting for its item.
struct Frame {
    Frame(Event k, std::uint64_t n, std::uint64_t t = 0, std::size_t start = 0)
        : kind(k), expected(n), tag(t), keyStart(start) {}
    Event kind;
    std::uint64_t expected; ///< items (for a map: keys and values) still to come
    std::uint64_t tag = 0;
    Array items;
    Map entries;
    std::optional<Value> key;
    std::size_t keyStart = 0; ///< offset of the pending key's encoding
    Bytes previousKey;        ///< encoding of the last key, for the order check
};

} // namespace

namespace {

Result<Value, std::string> decodeItem(std::span<const std::uint8_t> input, DecodeLimits limits,
                                      std::size_t* consumed) {
    using R = Result<Value, std::string>;
    std::vector<Frame> stack;
    std::size_t offset = 0;
    std::size_t itemStart = 0; // where the item being completed began (for map keys)
    std::size_t items = 0;

    // Places a finished item into its parent; returns the root when the tree is complete.
    auto place = [&](Value v, std::size_t start) -> std::optional<std::string> {
        while (true) {
            if (stack.empty()) {
                if (consumed != nullptr) {
                    *consumed = offset;
                } else if (offset != input.size()) {
                    return fmt::format("{} bytes follow the end of the item at offset {}",
                                       input.size() - offset, offset);
                }
                stack.emplace_back(Event::None, 0);
                stack.back().items.push_back(std::move(v));
                return std::nullopt;
            }
            Frame& f = stack.back();
            if (f.kind == Event::Tag) {
                v = Value::tagged(f.tag, std::move(v));
                start = f.keyStart;
                stack.pop_back();
                continue;
            }
            if (f.kind == Event::Array) {
                f.items.push_back(std::move(v));
                --f.expected;
            } else { // map
                if (!f.key) {
                    Bytes encoded(input.begin() + static_cast<std::ptrdiff_t>(start),
                                  input.begin() + static_cast<std::ptrdiff_t>(offset));
                    if (!f.entries.empty() && !(f.previousKey < encoded)) {
                        return fmt::format("map key at offset {} is {} (keys must be unique and "
                                           "in bytewise order)",
                                           start,
                                           f.previousKey == encoded ? "repeated" : "out of order");
                    }
                    f.previousKey = std::move(encoded);
                    f.key = std::move(v);
                    --f.expected;
                    return std::nullopt;
                }
                f.entries.emplace_back(std::move(*f.key), std::move(v));
                f.key.reset();
                --f.expected;
            }
            if (f.expected > 0) {
                return std::nullopt;
            }
            // The container is complete: it becomes an item of its own parent.
            Value done =
                f.kind == Event::Array ? Value(std::move(f.items)) : Value(std::move(f.entries));
            start = f.keyStart;
            stack.pop_back();
            v = std::move(done);
        }
    };

    while (true) {
        if (!stack.empty() && stack.back().kind == Event::None) {
            return std::move(stack.back().items.front());
        }
        if (offset >= input.size()) {
            return R(fail(offset == 0 ? std::string("no data")
                                      : fmt::format("the data ends early, at offset {}", offset)));
        }
        Seen s;
        cbor_decoder_result r{};
        const std::uint8_t initial = input[offset];
        if (initial >= 0xC6 && initial <= 0xD4) {
            // libcbor 0.8 refuses tags 6-20 written in the initial byte as "unassigned", among
            // them COSE_Sign1's tag 18 (libcbor issue #307, fixed in 0.11). Such a header is one
            // byte whose low five bits are the tag; drop this branch once Debian ships 0.11.
            s = Seen{Event::Tag, static_cast<std::uint64_t>(initial & 0x1F), -1, nullptr, nullptr};
            r.read = 1;
            r.status = CBOR_DECODER_FINISHED;
        } else {
            r = cbor_stream_decode(input.data() + offset, input.size() - offset, &callbacks(), &s);
        }
        if (r.status == CBOR_DECODER_NEDATA) {
            return R(fail(fmt::format("the data ends inside the item at offset {}", offset)));
        }
        if (r.status != CBOR_DECODER_FINISHED || s.event == Event::None) {
            return R(fail(fmt::format("byte 0x{:02X} at offset {} is not well-formed CBOR",
                                      input[offset], offset)));
        }
        if (s.event == Event::Refused) {
            return R(fail(fmt::format("offset {} holds {}, which a card record never contains",
                                      offset, s.refusedWhat)));
        }
        itemStart = offset;
        // The header's argument width: known from the callback for integers, from the bytes
        // consumed for the rest.
        std::size_t headerLength = r.read;
        if (s.event == Event::Bytes || s.event == Event::Text) {
            headerLength = r.read - static_cast<std::size_t>(s.argument);
        }
        const int width = s.width >= 0 ? (s.width == 1 && headerLength == 1 ? 0 : s.width)
                                       : static_cast<int>(headerLength) - 1;
        if (width != shortestWidth(s.argument)) {
            return R(
                fail(fmt::format("the item at offset {} is not in its shortest form", offset)));
        }
        offset += r.read;
        if (++items > limits.maxItems) {
            return R(
                fail(fmt::format("more than {} items, at offset {}", limits.maxItems, itemStart)));
        }
        const std::size_t left = input.size() - offset;

        std::optional<Value> complete;
        switch (s.event) {
        case Event::Unsigned:
            complete = Value(s.argument);
            break;
        case Event::Negative:
            complete = Value(Negative{s.argument});
            break;
        case Event::Bytes:
            complete = Value(Bytes(s.data, s.data + s.argument));
            break;
        case Event::Text:
            if (!validUtf8(s.data, s.argument)) {
                return R(fail(fmt::format("the text at offset {} is not valid UTF-8", itemStart)));
            }
            complete = Value(std::string(reinterpret_cast<const char*>(s.data), s.argument));
            break;
        case Event::Array:
        case Event::Map:
        case Event::Tag: {
            if (stack.size() >= limits.maxDepth) {
                return R(fail(fmt::format("items nest deeper than {} levels at offset {}",
                                          limits.maxDepth, itemStart)));
            }
            if (s.event == Event::Tag) {
                stack.emplace_back(Event::Tag, 1, s.argument, itemStart);
                continue;
            }
            const std::uint64_t items = s.event == Event::Map ? s.argument * 2 : s.argument;
            // Every item takes at least one byte: a count larger than what is left is a lie,
            // refused before anything is allocated for it.
            if (s.argument > left || items > left) {
                return R(fail(fmt::format("the {} at offset {} claims {} items, more than the "
                                          "{} bytes that follow",
                                          s.event == Event::Map ? "map" : "array", itemStart,
                                          s.argument, left)));
            }
            if (items == 0) {
                complete = s.event == Event::Map ? Value(Map{}) : Value(Array{});
                break;
            }
            stack.emplace_back(s.event, items, 0, itemStart);
            continue;
        }
        case Event::None:
        case Event::Refused:
            break;
        }
        // A finished item that starts a map entry records where its key encoding begins.
        if (auto error = place(std::move(*complete), itemStart)) {
            return R(fail(std::move(*error)));
        }
    }
}

} // namespace

Result<Value, std::string> decode(std::span<const std::uint8_t> input, DecodeLimits limits) {
    return decodeItem(input, limits, nullptr);
}

Result<std::size_t, std::string> itemLength(std::span<const std::uint8_t> input,
                                            DecodeLimits limits) {
    std::size_t consumed = 0;
    auto item = decodeItem(input, limits, &consumed);
    if (!item) {
        return Result<std::size_t, std::string>(fail(item.error()));
    }
    return consumed;
}

} // namespace unioncard::card::cbor
