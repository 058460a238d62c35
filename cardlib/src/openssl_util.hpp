// SPDX-License-Identifier: Apache-2.0
#pragma once

// Ownership of OpenSSL objects, and the text of OpenSSL's error queue. Private to cardlib.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace unioncard::card::ossl {

template <auto Free> struct Deleter {
    template <class T> void operator()(T* p) const { Free(p); }
};
template <class T, auto Free> using Ptr = std::unique_ptr<T, Deleter<Free>>;

using Bio = Ptr<BIO, BIO_free_all>;
using PkeyCtx = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtx = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;

inline std::shared_ptr<EVP_PKEY> sharePkey(EVP_PKEY* k) {
    return {k, EVP_PKEY_free};
}
inline std::shared_ptr<X509> shareX509(X509* x) {
    return {x, X509_free};
}

/// The reasons on OpenSSL's error queue, joined, and the queue cleared.
inline std::string errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) {
            out += "; ";
        }
        out += buf;
    }
    return out.empty() ? std::string("no detail from OpenSSL") : out;
}

inline Bio memoryBio(const void* data, std::size_t size) {
    return Bio(BIO_new_mem_buf(data, static_cast<int>(size)));
}

inline std::string bioText(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

} // namespace unioncard::card::ossl
