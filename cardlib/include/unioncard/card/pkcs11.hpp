// SPDX-License-Identifier: Apache-2.0
#pragma once

// PKCS#11 tokens (an HSM, a smart-card token, SoftHSM2 in tests), written against the v2.40
// header p11-kit ships (Debian libp11-kit-dev, <p11-kit/pkcs11.h>). The module is loaded with
// dlopen and reached only through its C_GetFunctionList table, so nothing links against p11-kit
// or the module; the caller names the module's shared library. The station's key store
// (station/key_store.hpp) and the verifier's card keys (TokenCardKeys below) both use it.

#include <unioncard/card/desfire/master_keys.hpp>
#include <unioncard/card/keys.hpp>
#include <unioncard/card/result.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <p11-kit/pkcs11.h>
#include <string>
#include <string_view>
#include <vector>

namespace unioncard::card::pkcs11 {

enum class ErrorCode {
    NotFound,          ///< the token holds no such object
    WrongSecret,       ///< the PIN is wrong or missing
    PinLocked,         ///< the token has locked the PIN: its security officer must reset it
    ModuleUnavailable, ///< the module cannot be loaded or is not a PKCS#11 module
    TokenNotFound,     ///< no token with that label in any slot
    AlreadyExists,     ///< provisioning refuses to replace an object
    Damaged,           ///< an object is not what it should be
    Invalid,           ///< arguments that cannot serve
    Unsupported,       ///< the token lacks a mechanism
    Device,            ///< the token or its module failed (the return value is in the message)
};

struct Error {
    ErrorCode code;
    std::string message; ///< in words; never holds key bytes or a PIN
};

/// "CKR_PIN_INCORRECT", or the value in hex for one without a name here.
std::string rvName(CK_RV rv);
/// The error a return value means, `what` saying what was being done.
Error errorOf(CK_RV rv, std::string_view what);

template <class T> CK_ATTRIBUTE attribute(CK_ATTRIBUTE_TYPE type, T& value) {
    return {type, &value, sizeof value};
}
inline CK_ATTRIBUTE bytesAttribute(CK_ATTRIBUTE_TYPE type, const void* data, std::size_t size) {
    return {type, const_cast<void*>(data), static_cast<CK_ULONG>(size)};
}
inline CK_ATTRIBUTE textAttribute(CK_ATTRIBUTE_TYPE type, const std::string& text) {
    return bytesAttribute(type, text.data(), text.size());
}

/// One logged-in session on the token labelled `tokenLabel`. A module is loaded once per path
/// and initialised (CKF_OS_LOCKING_OK) while any session uses it, then finalised; it stays
/// mapped after that, since modules leave handlers behind that must not outlive their code.
class Session {
public:
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();

    /// Loads the module, finds the token, opens a read-write session and logs in (CKU_USER).
    static Result<std::shared_ptr<Session>, Error>
    open(const std::filesystem::path& module, const std::string& tokenLabel, const Secret& pin);

    /// A session is used by one thread at a time (PKCS#11 v2.40 base, sessions); every operation
    /// of several calls (init, then the operation) holds this for its whole length.
    std::mutex& mutex() const { return m_mutex; }
    CK_FUNCTION_LIST_PTR f() const { return m_f; }
    CK_SESSION_HANDLE handle() const { return m_session; }
    const std::string& tokenLabel() const { return m_tokenLabel; }
    const std::filesystem::path& module() const { return m_module; }

    Result<std::vector<CK_OBJECT_HANDLE>, Error> find(std::vector<CK_ATTRIBUTE> attributes) const;
    /// The one object these attributes name; `what` says what it is, for the messages.
    Result<CK_OBJECT_HANDLE, Error> findOne(std::vector<CK_ATTRIBUTE> attributes,
                                            std::string_view what) const;
    Result<Bytes, CK_RV> attributeValue(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const;
    std::optional<bool> flag(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const;
    /// Whether the token offers `mechanism` for `flags` (PKCS#11 v2.40, C_GetMechanismInfo).
    std::optional<Error> require(CK_MECHANISM_TYPE mechanism, CK_FLAGS flags,
                                 std::string_view name) const;

private:
    Session() = default;

    CK_FUNCTION_LIST_PTR m_f = nullptr;
    CK_SLOT_ID m_slot = 0;
    CK_SESSION_HANDLE m_session = 0;
    bool m_open = false;
    bool m_acquired = false;
    std::filesystem::path m_module;
    std::string m_tokenLabel;
    mutable std::mutex m_mutex;
};

/// The label of a card master key on a token: "unioncard-<role>-v<version>".
std::string cardKeyLabel(std::string_view role, std::uint8_t version);

/// Card master keys on a token, where they never leave it: AES-128 secret keys labelled
/// cardKeyLabel(role, version), CKA_SIGN only, CKA_SENSITIVE, not CKA_EXTRACTABLE. A card's
/// own key is made inside the token: CKM_AES_CMAC (C_Sign) over the AN10922 input 0x01 || M,
/// which equals AN10922 §2.2's padded CMAC for an M of 16 to 31 bytes (the union's M is 19:
/// UID 7, AID 3, system identifier 9); a shorter M is refused. Only the per-card key comes out.
class TokenCardKeys final : public desfire::CardKeySource {
public:
    /// Opens the token and finds every version of `roles` on it; refuses a key that could
    /// leave the token (extractable, or not sensitive), or a role with no key.
    static Result<std::unique_ptr<TokenCardKeys>, Error>
    open(const std::filesystem::path& module, const std::string& tokenLabel, const Secret& pin,
         const std::vector<std::string>& roles = {"record-read"});

    Result<Bytes, std::string> diversify(std::string_view role, std::uint8_t version,
                                         std::span<const std::uint8_t> input) const override;
    std::vector<std::uint8_t> versions(std::string_view role) const override;

    struct Key {
        std::string role;
        std::uint8_t version;
        CK_OBJECT_HANDLE handle;
    };

private:
    TokenCardKeys(std::shared_ptr<Session> session, std::vector<Key> keys);
    std::shared_ptr<Session> m_session;
    std::vector<Key> m_keys;
};

/// Puts a master key on the token for TokenCardKeys (C_CreateObject: CKO_SECRET_KEY, CKK_AES,
/// token object, private, sensitive, not extractable, CKA_SIGN only); refuses to replace a key
/// of that label, or a token without CKM_AES_CMAC.
std::optional<Error> importCardKey(const Session& session, std::string_view role,
                                   std::uint8_t version, std::span<const std::uint8_t> key);

} // namespace unioncard::card::pkcs11
