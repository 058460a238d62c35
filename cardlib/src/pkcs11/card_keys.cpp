// SPDX-License-Identifier: Apache-2.0
// Card master keys on a PKCS#11 token (card/pkcs11.hpp, TokenCardKeys): the AN10922
// diversification made inside the token with CKM_AES_CMAC (PKCS#11 v2.40 Current Mechanisms,
// AES-CMAC: the full 16-byte MAC), so a stolen reader gives its thief no master key.
#include <unioncard/card/pkcs11.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>

namespace unioncard::card::pkcs11 {

namespace {

constexpr std::size_t kAesKeySize = 16;
constexpr std::size_t kCmacSize = 16;
// AN10922 §2.2 pads D = 0x01 || M to 32 bytes (and then takes CMAC's K2 path); plain CMAC does
// the same for a D of 17 to 32 bytes only, so M is 16 to 31 bytes here.
constexpr std::size_t kMinInput = 16;
constexpr std::size_t kMaxInput = 31;

CK_BBOOL gTrue = CK_TRUE;
CK_BBOOL gFalse = CK_FALSE;

// "unioncard-<role>-v<N>" back to N, for this role; nothing for another label.
std::optional<std::uint8_t> versionOf(std::string_view label, std::string_view role) {
    const std::string prefix = fmt::format("unioncard-{}-v", role);
    if (label.substr(0, prefix.size()) != prefix) {
        return std::nullopt;
    }
    const std::string_view digits = label.substr(prefix.size());
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 255 ||
        digits.front() == '0') {
        return std::nullopt;
    }
    return static_cast<std::uint8_t>(value);
}

Result<std::vector<CK_OBJECT_HANDLE>, Error> aesKeys(const Session& s) {
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    return s.find({attribute(CKA_CLASS, cls), attribute(CKA_KEY_TYPE, type)});
}

} // namespace

std::string cardKeyLabel(std::string_view role, std::uint8_t version) {
    return fmt::format("unioncard-{}-v{}", role, version);
}

TokenCardKeys::TokenCardKeys(std::shared_ptr<Session> session, std::vector<Key> keys)
    : m_session(std::move(session)), m_keys(std::move(keys)) {}

Result<std::unique_ptr<TokenCardKeys>, Error>
TokenCardKeys::open(const std::filesystem::path& module, const std::string& tokenLabel,
                    const Secret& pin, const std::vector<std::string>& roles) {
    using R = Result<std::unique_ptr<TokenCardKeys>, Error>;
    auto session = Session::open(module, tokenLabel, pin);
    if (!session) {
        return R(fail(session.error()));
    }
    const Session& s = **session;
    if (auto missing = s.require(CKM_AES_CMAC, CKF_SIGN, "CKM_AES_CMAC")) {
        return R(fail(std::move(*missing)));
    }
    auto handles = aesKeys(s);
    if (!handles) {
        return R(fail(handles.error()));
    }
    std::vector<Key> keys;
    for (const CK_OBJECT_HANDLE h : *handles) {
        auto label = s.attributeValue(h, CKA_LABEL);
        if (!label) {
            continue;
        }
        const std::string text(label->begin(), label->end());
        for (const auto& role : roles) {
            const auto version = versionOf(text, role);
            if (!version) {
                continue;
            }
            // A key that can leave the token is no better than a key file: refuse it rather
            // than use it, so the weakness is seen at installation.
            if (s.flag(h, CKA_SENSITIVE) != true || s.flag(h, CKA_EXTRACTABLE) != false ||
                s.flag(h, CKA_SIGN) != true) {
                return R(fail(Error{ErrorCode::Damaged,
                                    fmt::format("the token key '{}' is extractable, not "
                                                "sensitive or cannot sign (CMAC): re-import it "
                                                "with unioncard keys import-card-key",
                                                text)}));
            }
            auto length = s.attributeValue(h, CKA_VALUE_LEN);
            CK_ULONG size = 0;
            if (length && length->size() == sizeof size) {
                std::copy(length->begin(), length->end(), reinterpret_cast<std::uint8_t*>(&size));
            }
            if (size != kAesKeySize) {
                return R(
                    fail(Error{ErrorCode::Damaged,
                               fmt::format("the token key '{}' is not an AES-128 key", text)}));
            }
            if (std::any_of(keys.begin(), keys.end(), [&](const Key& k) {
                    return k.role == role && k.version == *version;
                })) {
                return R(fail(Error{ErrorCode::Damaged,
                                    fmt::format("the token holds two keys labelled '{}': remove "
                                                "all but one",
                                                text)}));
            }
            keys.push_back({role, *version, h});
        }
    }
    for (const auto& role : roles) {
        if (std::none_of(keys.begin(), keys.end(), [&](const Key& k) { return k.role == role; })) {
            return R(fail(Error{ErrorCode::NotFound,
                                fmt::format("the token '{}' holds no '{}' card key (labelled "
                                            "{}): import it with unioncard keys import-card-key",
                                            tokenLabel, role, cardKeyLabel(role, 1))}));
        }
    }
    std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
        return a.role != b.role ? a.role < b.role : a.version < b.version;
    });
    return std::unique_ptr<TokenCardKeys>(
        new TokenCardKeys(std::move(session).value(), std::move(keys)));
}

std::vector<std::uint8_t> TokenCardKeys::versions(std::string_view role) const {
    std::vector<std::uint8_t> out;
    for (const auto& k : m_keys) {
        if (k.role == role) {
            out.push_back(k.version);
        }
    }
    return out;
}

Result<Bytes, std::string> TokenCardKeys::diversify(std::string_view role, std::uint8_t version,
                                                    std::span<const std::uint8_t> input) const {
    const auto key = std::find_if(m_keys.begin(), m_keys.end(), [&](const Key& k) {
        return k.role == role && k.version == version;
    });
    if (key == m_keys.end()) {
        return fail(fmt::format("the token '{}' holds no '{}' card key of version {}",
                                m_session->tokenLabel(), role, version));
    }
    if (input.size() < kMinInput || input.size() > kMaxInput) {
        return fail(fmt::format("the diversification input is {} bytes; on a token it must be "
                                "{} to {} (AN10922's padding is then plain CMAC's)",
                                input.size(), kMinInput, kMaxInput));
    }
    Bytes data;
    data.reserve(input.size() + 1);
    data.push_back(0x01); // AN10922 §2.2: the AES-128 diversification constant
    data.insert(data.end(), input.begin(), input.end());
    CK_MECHANISM mechanism{CKM_AES_CMAC, nullptr, 0};
    Bytes out(kCmacSize);
    CK_ULONG outSize = out.size();
    CK_FUNCTION_LIST_PTR f = m_session->f();
    const std::lock_guard lock(m_session->mutex());
    CK_RV rv = f->C_SignInit(m_session->handle(), &mechanism, key->handle);
    if (rv == CKR_OK) {
        rv = f->C_Sign(m_session->handle(), data.data(), data.size(), out.data(), &outSize);
    }
    if (rv != CKR_OK || outSize != kCmacSize) {
        OPENSSL_cleanse(out.data(), out.size());
        return fail(
            errorOf(rv, fmt::format("the token cannot make the card's '{}' key", role)).message);
    }
    return out;
}

std::optional<Error> importCardKey(const Session& s, std::string_view role, std::uint8_t version,
                                   std::span<const std::uint8_t> key) {
    if (key.size() != kAesKeySize || version == 0) {
        return Error{ErrorCode::Invalid, "a card master key is 16 bytes, of version 1 to 255"};
    }
    if (auto missing = s.require(CKM_AES_CMAC, CKF_SIGN, "CKM_AES_CMAC")) {
        return missing;
    }
    const std::string label = cardKeyLabel(role, version);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    auto existing = s.find({attribute(CKA_CLASS, cls), attribute(CKA_KEY_TYPE, type),
                            textAttribute(CKA_LABEL, label)});
    if (!existing) {
        return existing.error();
    }
    if (!existing->empty()) {
        return Error{ErrorCode::AlreadyExists,
                     fmt::format("the token '{}' holds '{}' already: a version is made once",
                                 s.tokenLabel(), label)};
    }
    Bytes value(key.begin(), key.end());
    std::vector<CK_ATTRIBUTE> attributes = {attribute(CKA_CLASS, cls),
                                            attribute(CKA_KEY_TYPE, type),
                                            attribute(CKA_TOKEN, gTrue),
                                            attribute(CKA_PRIVATE, gTrue),
                                            attribute(CKA_SENSITIVE, gTrue),
                                            attribute(CKA_EXTRACTABLE, gFalse),
                                            attribute(CKA_SIGN, gTrue),
                                            attribute(CKA_VERIFY, gFalse),
                                            attribute(CKA_ENCRYPT, gFalse),
                                            attribute(CKA_DECRYPT, gFalse),
                                            attribute(CKA_WRAP, gFalse),
                                            attribute(CKA_UNWRAP, gFalse),
                                            attribute(CKA_DERIVE, gFalse),
                                            textAttribute(CKA_LABEL, label),
                                            bytesAttribute(CKA_VALUE, value.data(), value.size())};
    CK_OBJECT_HANDLE object = 0;
    const std::lock_guard lock(s.mutex());
    const CK_RV rv = s.f()->C_CreateObject(s.handle(), attributes.data(),
                                           static_cast<CK_ULONG>(attributes.size()), &object);
    OPENSSL_cleanse(value.data(), value.size());
    if (rv != CKR_OK) {
        return errorOf(rv, fmt::format("the token cannot store '{}'", label));
    }
    return std::nullopt;
}

} // namespace unioncard::card::pkcs11
