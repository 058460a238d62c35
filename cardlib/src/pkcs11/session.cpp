// SPDX-License-Identifier: Apache-2.0
// PKCS#11 tokens through p11-kit's v2.40 header (card/pkcs11.hpp): the module loaded with dlopen
// and reached only through C_GetFunctionList (PKCS#11 v2.40 base, C_GetFunctionList).
#include <unioncard/card/pkcs11.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <dlfcn.h>
#include <map>
#include <system_error>

namespace unioncard::card::pkcs11 {

namespace {

Error error(ErrorCode code, std::string message) {
    return {code, std::move(message)};
}

// ---- the module: loaded once per path, initialised while anyone uses it ---------------------

struct LoadedModule {
    void* handle = nullptr;
    CK_FUNCTION_LIST_PTR functions = nullptr;
    int users = 0;
    bool finalize = false; ///< we initialised it, so we finalise it
};

std::mutex gModulesMutex;
std::map<std::string, LoadedModule> gModules;

Result<CK_FUNCTION_LIST_PTR, Error> acquireModule(const std::filesystem::path& path) {
    using R = Result<CK_FUNCTION_LIST_PTR, Error>;
    std::error_code ec;
    if (path.empty() || !std::filesystem::is_regular_file(path, ec)) {
        return R(fail(error(ErrorCode::ModuleUnavailable,
                            fmt::format("there is no PKCS#11 module at '{}': install the token's "
                                        "module or correct the path",
                                        path.string()))));
    }
    const std::lock_guard lock(gModulesMutex);
    LoadedModule& module = gModules[path.string()];
    if (module.handle == nullptr) {
        dlerror();
        void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = dlerror();
            gModules.erase(path.string());
            return R(fail(error(ErrorCode::ModuleUnavailable,
                                fmt::format("cannot load the PKCS#11 module '{}': {}",
                                            path.string(), why != nullptr ? why : "unknown"))));
        }
        auto* getFunctionList =
            reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList"));
        CK_FUNCTION_LIST_PTR functions = nullptr;
        if (getFunctionList == nullptr || getFunctionList(&functions) != CKR_OK ||
            functions == nullptr) {
            dlclose(handle);
            gModules.erase(path.string());
            return R(fail(error(ErrorCode::ModuleUnavailable,
                                fmt::format("'{}' is not a PKCS#11 module (C_GetFunctionList is "
                                            "missing or failed)",
                                            path.string()))));
        }
        module.handle = handle;
        module.functions = functions;
    }
    if (module.users == 0) {
        // The module may be called from several threads; let it use the system's locks
        // (PKCS#11 v2.40 base, C_Initialize with CKF_OS_LOCKING_OK).
        CK_C_INITIALIZE_ARGS args{};
        args.flags = CKF_OS_LOCKING_OK;
        const CK_RV rv = module.functions->C_Initialize(&args);
        if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
            module.finalize = false; // someone else in this process did: they finalise it
        } else if (rv != CKR_OK) {
            return R(fail(errorOf(
                rv, fmt::format("cannot initialise the PKCS#11 module '{}'", path.string()))));
        } else {
            module.finalize = true;
        }
    }
    ++module.users;
    return module.functions;
}

void releaseModule(const std::string& path) {
    const std::lock_guard lock(gModulesMutex);
    auto it = gModules.find(path);
    if (it == gModules.end() || it->second.users == 0) {
        return;
    }
    if (--it->second.users == 0 && it->second.finalize) {
        it->second.functions->C_Finalize(nullptr);
    }
    // The library stays mapped: a module may leave atexit handlers or thread-local destructors
    // behind (SoftHSM2's OpenSSL backend does) that must not outlive their code.
}

std::string trimmed(const unsigned char* text, std::size_t size) {
    std::string out(reinterpret_cast<const char*>(text), size);
    while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) {
        out.pop_back();
    }
    return out;
}

} // namespace

std::string rvName(CK_RV rv) {
    switch (rv) {
    case CKR_GENERAL_ERROR:
        return "CKR_GENERAL_ERROR";
    case CKR_FUNCTION_FAILED:
        return "CKR_FUNCTION_FAILED";
    case CKR_ARGUMENTS_BAD:
        return "CKR_ARGUMENTS_BAD";
    case CKR_ATTRIBUTE_SENSITIVE:
        return "CKR_ATTRIBUTE_SENSITIVE";
    case CKR_ATTRIBUTE_TYPE_INVALID:
        return "CKR_ATTRIBUTE_TYPE_INVALID";
    case CKR_ATTRIBUTE_VALUE_INVALID:
        return "CKR_ATTRIBUTE_VALUE_INVALID";
    case CKR_DEVICE_ERROR:
        return "CKR_DEVICE_ERROR";
    case CKR_DEVICE_MEMORY:
        return "CKR_DEVICE_MEMORY";
    case CKR_DEVICE_REMOVED:
        return "CKR_DEVICE_REMOVED";
    case CKR_ENCRYPTED_DATA_INVALID:
        return "CKR_ENCRYPTED_DATA_INVALID";
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
        return "CKR_ENCRYPTED_DATA_LEN_RANGE";
    case CKR_KEY_HANDLE_INVALID:
        return "CKR_KEY_HANDLE_INVALID";
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
        return "CKR_KEY_FUNCTION_NOT_PERMITTED";
    case CKR_MECHANISM_INVALID:
        return "CKR_MECHANISM_INVALID";
    case CKR_MECHANISM_PARAM_INVALID:
        return "CKR_MECHANISM_PARAM_INVALID";
    case CKR_OBJECT_HANDLE_INVALID:
        return "CKR_OBJECT_HANDLE_INVALID";
    case CKR_PIN_INCORRECT:
        return "CKR_PIN_INCORRECT";
    case CKR_PIN_LEN_RANGE:
        return "CKR_PIN_LEN_RANGE";
    case CKR_PIN_LOCKED:
        return "CKR_PIN_LOCKED";
    case CKR_SESSION_HANDLE_INVALID:
        return "CKR_SESSION_HANDLE_INVALID";
    case CKR_TEMPLATE_INCONSISTENT:
        return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_TEMPLATE_INCOMPLETE:
        return "CKR_TEMPLATE_INCOMPLETE";
    case CKR_TOKEN_NOT_PRESENT:
        return "CKR_TOKEN_NOT_PRESENT";
    case CKR_TOKEN_NOT_RECOGNIZED:
        return "CKR_TOKEN_NOT_RECOGNIZED";
    case CKR_USER_NOT_LOGGED_IN:
        return "CKR_USER_NOT_LOGGED_IN";
    case CKR_USER_PIN_NOT_INITIALIZED:
        return "CKR_USER_PIN_NOT_INITIALIZED";
    case CKR_CRYPTOKI_NOT_INITIALIZED:
        return "CKR_CRYPTOKI_NOT_INITIALIZED";
    default:
        return fmt::format("CKR 0x{:08X}", rv);
    }
}

Error errorOf(CK_RV rv, std::string_view what) {
    ErrorCode code = ErrorCode::Device;
    switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_LEN_RANGE:
        return {ErrorCode::WrongSecret,
                fmt::format("{}: the token refused the PIN ({}); check it and try again, the "
                            "token locks after too many wrong tries",
                            what, rvName(rv))};
    case CKR_PIN_LOCKED:
        return {ErrorCode::PinLocked,
                fmt::format("{}: the token has locked the user PIN ({}); its security officer "
                            "must unlock it",
                            what, rvName(rv))};
    case CKR_USER_PIN_NOT_INITIALIZED:
        return {ErrorCode::Invalid,
                fmt::format("{}: the token has no user PIN yet ({}); initialise it first", what,
                            rvName(rv))};
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
        code = ErrorCode::Unsupported;
        break;
    case CKR_ENCRYPTED_DATA_INVALID:
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
        code = ErrorCode::Damaged;
        break;
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_REMOVED:
        code = ErrorCode::TokenNotFound;
        break;
    default:
        break;
    }
    return {code, fmt::format("{}: {}", what, rvName(rv))};
}

Result<std::vector<CK_OBJECT_HANDLE>, Error>
Session::find(std::vector<CK_ATTRIBUTE> attributes) const {
    using R = Result<std::vector<CK_OBJECT_HANDLE>, Error>;
    const std::lock_guard lock(m_mutex);
    CK_RV rv = m_f->C_FindObjectsInit(m_session, attributes.data(),
                                      static_cast<CK_ULONG>(attributes.size()));
    if (rv != CKR_OK) {
        return R(fail(errorOf(rv, "cannot search the token")));
    }
    std::vector<CK_OBJECT_HANDLE> found;
    for (;;) {
        std::array<CK_OBJECT_HANDLE, 16> batch{};
        CK_ULONG n = 0;
        rv = m_f->C_FindObjects(m_session, batch.data(), batch.size(), &n);
        if (rv != CKR_OK || n == 0) {
            break;
        }
        found.insert(found.end(), batch.begin(), batch.begin() + static_cast<long>(n));
    }
    m_f->C_FindObjectsFinal(m_session);
    if (rv != CKR_OK) {
        return R(fail(errorOf(rv, "cannot search the token")));
    }
    return found;
}

/// The one object these attributes name; `what` says what it is, for the messages.
Result<CK_OBJECT_HANDLE, Error> Session::findOne(std::vector<CK_ATTRIBUTE> attributes,
                                                 std::string_view what) const {
    using R = Result<CK_OBJECT_HANDLE, Error>;
    auto found = find(std::move(attributes));
    if (!found) {
        return R(fail(found.error()));
    }
    if (found->empty()) {
        return R(fail(error(ErrorCode::NotFound,
                            fmt::format("the token '{}' holds no {}", m_tokenLabel, what))));
    }
    if (found->size() > 1) {
        return R(fail(error(ErrorCode::Damaged,
                            fmt::format("the token '{}' holds {} objects that could be the {}; "
                                        "remove all but one",
                                        m_tokenLabel, found->size(), what))));
    }
    return found->front();
}

Result<Bytes, CK_RV> Session::attributeValue(CK_OBJECT_HANDLE object,
                                             CK_ATTRIBUTE_TYPE type) const {
    const std::lock_guard lock(m_mutex);
    CK_ATTRIBUTE attr{type, nullptr, 0};
    CK_RV rv = m_f->C_GetAttributeValue(m_session, object, &attr, 1);
    if (rv != CKR_OK) {
        return fail(rv);
    }
    if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
        return fail(static_cast<CK_RV>(CKR_ATTRIBUTE_SENSITIVE));
    }
    Bytes value(attr.ulValueLen);
    attr.pValue = value.data();
    rv = m_f->C_GetAttributeValue(m_session, object, &attr, 1);
    if (rv != CKR_OK) {
        return fail(rv);
    }
    value.resize(attr.ulValueLen);
    return value;
}

std::optional<bool> Session::flag(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const {
    auto value = attributeValue(object, type);
    if (!value || value->size() != sizeof(CK_BBOOL)) {
        return std::nullopt;
    }
    return value->front() != CK_FALSE;
}

/// Whether the token offers `mechanism` for `flags` (PKCS#11 v2.40, C_GetMechanismInfo).
std::optional<Error> Session::require(CK_MECHANISM_TYPE mechanism, CK_FLAGS flags,
                                      std::string_view name) const {
    CK_MECHANISM_INFO info{};
    const CK_RV rv = m_f->C_GetMechanismInfo(m_slot, mechanism, &info);
    if (rv != CKR_OK || (info.flags & flags) != flags) {
        return error(ErrorCode::Unsupported,
                     fmt::format("the token '{}' does not offer {} for what the key store "
                                 "needs it",
                                 m_tokenLabel, name));
    }
    return std::nullopt;
}

Session::~Session() {
    if (m_open) {
        // Login state belongs to the application and token, not to a session; once the
        // application's last session with the token closes, the token is logged out
        // (PKCS#11 v2.40 base, session model and C_CloseSession).
        m_f->C_CloseSession(m_session);
    }
    if (m_acquired) {
        releaseModule(m_module.string());
    }
}

Result<std::shared_ptr<Session>, Error> Session::open(const std::filesystem::path& module,
                                                      const std::string& tokenLabel,
                                                      const Secret& pin) {
    using R = Result<std::shared_ptr<Session>, Error>;
    // CK_TOKEN_INFO.label is 32 bytes, blank padded (PKCS#11 v2.40 base, CK_TOKEN_INFO).
    if (tokenLabel.empty() || tokenLabel.size() > 32) {
        return R(fail(error(ErrorCode::Invalid, "a token label has 1 to 32 characters")));
    }
    if (pin.empty()) {
        return R(fail(error(ErrorCode::WrongSecret, "no PIN was given for the token")));
    }
    std::shared_ptr<Session> session(new Session);
    session->m_module = module;
    session->m_tokenLabel = tokenLabel;
    auto functions = acquireModule(module);
    if (!functions) {
        return R(fail(functions.error()));
    }
    session->m_acquired = true;
    session->m_f = functions.value();
    CK_FUNCTION_LIST_PTR f = session->m_f;

    CK_ULONG count = 0;
    CK_RV rv = f->C_GetSlotList(CK_TRUE, nullptr, &count);
    std::vector<CK_SLOT_ID> slots(count);
    if (rv == CKR_OK && count > 0) {
        rv = f->C_GetSlotList(CK_TRUE, slots.data(), &count);
        slots.resize(count);
    }
    if (rv != CKR_OK) {
        return R(fail(errorOf(rv, "cannot list the module's slots")));
    }
    bool found = false;
    for (const CK_SLOT_ID slot : slots) {
        CK_TOKEN_INFO info{};
        if (f->C_GetTokenInfo(slot, &info) != CKR_OK || (info.flags & CKF_TOKEN_INITIALIZED) == 0) {
            continue;
        }
        if (trimmed(info.label, sizeof info.label) == tokenLabel) {
            session->m_slot = slot;
            found = true;
            break;
        }
    }
    if (!found) {
        return R(fail(error(ErrorCode::TokenNotFound,
                            fmt::format("no token labelled '{}' in {}: is it plugged in and "
                                        "initialised?",
                                        tokenLabel, module.filename().string()))));
    }
    rv = f->C_OpenSession(session->m_slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                          &session->m_session);
    if (rv != CKR_OK) {
        return R(
            fail(errorOf(rv, fmt::format("cannot open a session on the token '{}'", tokenLabel))));
    }
    session->m_open = true;
    // The PIN goes to the module only; C_Login's pointer is not const in the v2.40 prototype,
    // but the module does not write through it.
    rv = f->C_Login(session->m_session, CKU_USER,
                    reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.c_str())),
                    static_cast<CK_ULONG>(pin.view().size()));
    // Login is per application and token (PKCS#11 v2.40, C_Login): another store of this process
    // may have logged in already.
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        return R(fail(errorOf(rv, fmt::format("cannot log in to the token '{}'", tokenLabel))));
    }
    return session;
}

} // namespace unioncard::card::pkcs11
