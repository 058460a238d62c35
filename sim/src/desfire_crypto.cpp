// SPDX-License-Identifier: Apache-2.0
#include "desfire_crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cassert>
#include <memory>

namespace unioncard::sim::detail {
namespace {

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

const EVP_CIPHER* evpCipher(Cipher cipher, bool chained) {
    switch (cipher) {
    case Cipher::Tdes2k:
        return chained ? EVP_des_ede_cbc() : EVP_des_ede_ecb();
    case Cipher::Tdes3k:
        return chained ? EVP_des_ede3_cbc() : EVP_des_ede3_ecb();
    case Cipher::Aes:
        return chained ? EVP_aes_128_cbc() : EVP_aes_128_ecb();
    }
    return nullptr;
}

Bytes run(Cipher cipher, ByteView key, const std::uint8_t* iv, ByteView data, bool encrypt) {
    assert(key.size() == keySize(cipher));
    assert(data.size() % blockSize(cipher) == 0);
    Bytes out(data.size() + blockSize(cipher));
    if (data.empty())
        return {};
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    int total = 0;
    // Failures here are resource exhaustion inside OpenSSL, not input errors: the sizes are
    // asserted above. The card answers with empty data then, which fails every MAC check.
    if (!ctx || EVP_CipherInit_ex(ctx.get(), evpCipher(cipher, iv != nullptr), nullptr, key.data(),
                                  iv, encrypt ? 1 : 0) != 1)
        return {};
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    if (EVP_CipherUpdate(ctx.get(), out.data(), &len, data.data(), static_cast<int>(data.size())) !=
        1)
        return {};
    total = len;
    if (EVP_CipherFinal_ex(ctx.get(), out.data() + total, &len) != 1)
        return {};
    total += len;
    out.resize(static_cast<std::size_t>(total));
    return out;
}

void shiftLeft1(Bytes& block, std::uint8_t rb) {
    const bool carry = (block[0] & 0x80) != 0;
    for (std::size_t i = 0; i + 1 < block.size(); ++i)
        block[i] = static_cast<std::uint8_t>((block[i] << 1) | (block[i + 1] >> 7));
    block.back() = static_cast<std::uint8_t>(block.back() << 1);
    if (carry)
        block.back() ^= rb;
}

} // namespace

std::size_t blockSize(Cipher cipher) {
    return cipher == Cipher::Aes ? 16 : 8;
}

std::size_t keySize(Cipher cipher) {
    return cipher == Cipher::Tdes3k ? 24 : 16;
}

Bytes ecb(Cipher cipher, ByteView key, ByteView data, bool encrypt) {
    return run(cipher, key, nullptr, data, encrypt);
}

Bytes cbc(Cipher cipher, ByteView key, ByteView iv, ByteView data, bool encrypt) {
    assert(iv.size() == blockSize(cipher));
    return run(cipher, key, iv.data(), data, encrypt);
}

Bytes cmac(Cipher cipher, ByteView key, ByteView iv, ByteView data) {
    // SP 800-38B §6.1: K1 = L<<1 (^Rb), K2 = K1<<1 (^Rb), L = E(K, 0); Rb = 0x87 for 128-bit
    // blocks, 0x1B for 64-bit blocks.
    const std::size_t bs = blockSize(cipher);
    const std::uint8_t rb = bs == 16 ? 0x87 : 0x1B;
    Bytes k1 = ecb(cipher, key, Bytes(bs, 0), true);
    if (k1.size() != bs)
        return {};
    shiftLeft1(k1, rb);
    Bytes k2 = k1;
    shiftLeft1(k2, rb);

    Bytes last;
    const bool complete = !data.empty() && data.size() % bs == 0;
    const std::size_t headLen = complete ? data.size() - bs : data.size() / bs * bs;
    if (complete) {
        last.assign(data.end() - static_cast<std::ptrdiff_t>(bs), data.end());
        for (std::size_t i = 0; i < bs; ++i)
            last[i] ^= k1[i];
    } else {
        last.assign(data.begin() + static_cast<std::ptrdiff_t>(headLen), data.end());
        last.push_back(0x80);
        last.resize(bs, 0x00);
        for (std::size_t i = 0; i < bs; ++i)
            last[i] ^= k2[i];
    }
    Bytes all(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(headLen));
    all.insert(all.end(), last.begin(), last.end());
    Bytes chained = cbc(cipher, key, iv, all, true);
    if (chained.size() < bs)
        return {};
    return Bytes(chained.end() - static_cast<std::ptrdiff_t>(bs), chained.end());
}

Bytes cmacEvp(ByteView aesKey, ByteView data) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
    if (mac == nullptr)
        return {};
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    Bytes out(16);
    std::size_t outLen = 0;
    char cipherName[] = "AES-128-CBC";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipherName, 0),
        OSSL_PARAM_construct_end(),
    };
    const bool ok = ctx != nullptr &&
                    EVP_MAC_init(ctx, aesKey.data(), aesKey.size(), params) == 1 &&
                    EVP_MAC_update(ctx, data.data(), data.size()) == 1 &&
                    EVP_MAC_final(ctx, out.data(), &outLen, out.size()) == 1;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    if (!ok)
        return {};
    out.resize(outLen);
    return out;
}

std::uint16_t crc16a(ByteView data) {
    std::uint16_t crc = 0x6363;
    for (std::uint8_t byte : data) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0x8408)
                            : static_cast<std::uint16_t>(crc >> 1);
    }
    return crc;
}

std::uint32_t crc32Desfire(ByteView data) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (std::uint8_t byte : data) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return crc;
}

Bytes padM2(ByteView data, std::size_t block) {
    Bytes out(data.begin(), data.end());
    out.push_back(0x80);
    while (out.size() % block != 0)
        out.push_back(0x00);
    return out;
}

bool unpadM2(Bytes& data) {
    while (!data.empty() && data.back() == 0x00)
        data.pop_back();
    if (data.empty() || data.back() != 0x80)
        return false;
    data.pop_back();
    return true;
}

Bytes rotateLeft1(ByteView data) {
    if (data.empty())
        return {};
    Bytes out(data.begin() + 1, data.end());
    out.push_back(data[0]);
    return out;
}

Bytes ev2SessionVector(bool forEncKey, ByteView rndA, ByteView rndB) {
    assert(rndA.size() == 16 && rndB.size() == 16);
    Bytes sv = forEncKey ? Bytes{0xA5, 0x5A} : Bytes{0x5A, 0xA5};
    sv.insert(sv.end(), {0x00, 0x01, 0x00, 0x80});
    sv.insert(sv.end(), rndA.begin(), rndA.begin() + 2); // RndA[15..14]
    for (std::size_t i = 0; i < 6; ++i)                  // RndA[13..8] ^ RndB[15..10]
        sv.push_back(static_cast<std::uint8_t>(rndA[2 + i] ^ rndB[i]));
    sv.insert(sv.end(), rndB.begin() + 6, rndB.end()); // RndB[9..0]
    sv.insert(sv.end(), rndA.begin() + 8, rndA.end()); // RndA[7..0]
    return sv;
}

Bytes truncateMac(ByteView fullMac) {
    Bytes out;
    for (std::size_t i = 1; i < fullMac.size(); i += 2)
        out.push_back(fullMac[i]);
    return out;
}

Bytes ev2Iv(ByteView sesEnc, bool forCommand, ByteView ti, std::uint16_t cmdCtr) {
    Bytes input = forCommand ? Bytes{0xA5, 0x5A} : Bytes{0x5A, 0xA5};
    input.insert(input.end(), ti.begin(), ti.end());
    input.push_back(static_cast<std::uint8_t>(cmdCtr & 0xFF));
    input.push_back(static_cast<std::uint8_t>(cmdCtr >> 8));
    input.resize(16, 0x00);
    return ecb(Cipher::Aes, sesEnc, input, true);
}

Bytes ev2Mac(ByteView sesMac, std::uint8_t cmdOrStatus, std::uint16_t cmdCtr, ByteView ti,
             ByteView data) {
    Bytes input{cmdOrStatus, static_cast<std::uint8_t>(cmdCtr & 0xFF),
                static_cast<std::uint8_t>(cmdCtr >> 8)};
    input.insert(input.end(), ti.begin(), ti.end());
    input.insert(input.end(), data.begin(), data.end());
    return truncateMac(cmacEvp(sesMac, input));
}

bool equalConstantTime(ByteView a, ByteView b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace unioncard::sim::detail
