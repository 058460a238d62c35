// SPDX-License-Identifier: Apache-2.0
// Card image files: the versioned binary layout documented in virtual_desfire.hpp.
#include "desfire_card_data.hpp"

#include <openssl/crypto.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <system_error>

namespace unioncard::sim::detail {
namespace {

constexpr char kMagic[8] = {'U', 'C', 'D', 'E', 'S', 'F', 'I', 'R'};
constexpr std::size_t kMaxFileSize = 0xFFFFFF; // file sizes are 3 bytes on the wire

void fail(std::string* error, std::string message) {
    if (error != nullptr)
        *error = std::move(message);
}

class Writer {
public:
    void u8(std::uint8_t v) { m_out.push_back(v); }
    void u16(std::uint16_t v) {
        u8(static_cast<std::uint8_t>(v));
        u8(static_cast<std::uint8_t>(v >> 8));
    }
    void u24(std::uint32_t v) {
        u16(static_cast<std::uint16_t>(v));
        u8(static_cast<std::uint8_t>(v >> 16));
    }
    void u32(std::uint32_t v) {
        u16(static_cast<std::uint16_t>(v));
        u16(static_cast<std::uint16_t>(v >> 16));
    }
    void bytes(ByteView v) { m_out.insert(m_out.end(), v.begin(), v.end()); }
    Bytes& out() { return m_out; }

private:
    Bytes m_out;
};

class Reader {
public:
    explicit Reader(ByteView in) : m_in(in) {}
    bool ok() const { return m_ok; }
    std::uint8_t u8() {
        if (m_pos >= m_in.size()) {
            m_ok = false;
            return 0;
        }
        return m_in[m_pos++];
    }
    std::uint16_t u16() {
        const std::uint16_t lo = u8();
        return static_cast<std::uint16_t>(lo | (u8() << 8));
    }
    std::uint32_t u24() {
        const std::uint32_t lo = u16();
        return lo | (static_cast<std::uint32_t>(u8()) << 16);
    }
    std::uint32_t u32() {
        const std::uint32_t lo = u16();
        return lo | (static_cast<std::uint32_t>(u16()) << 16);
    }
    Bytes bytes(std::size_t n) {
        if (m_in.size() - m_pos < n || m_pos > m_in.size()) {
            m_ok = false;
            return {};
        }
        Bytes out(m_in.begin() + static_cast<std::ptrdiff_t>(m_pos),
                  m_in.begin() + static_cast<std::ptrdiff_t>(m_pos + n));
        m_pos += n;
        return out;
    }
    bool atEnd() const { return m_pos == m_in.size(); }

private:
    ByteView m_in;
    std::size_t m_pos = 0;
    bool m_ok = true;
};

void writeApp(Writer& w, std::uint32_t aid, const Application& app) {
    w.u24(aid);
    w.u8(app.keySettings);
    w.u8(static_cast<std::uint8_t>(app.keyType));
    w.u8(static_cast<std::uint8_t>(app.keys.size()));
    for (const Key& key : app.keys) {
        w.u8(key.version);
        w.u8(static_cast<std::uint8_t>(key.value.size()));
        w.bytes(key.value);
    }
    w.u8(static_cast<std::uint8_t>(app.files.size()));
    for (const auto& [fileNo, file] : app.files) {
        w.u8(fileNo);
        w.u8(static_cast<std::uint8_t>(file.type));
        w.u8(file.comm);
        w.u16(file.access);
        w.u32(static_cast<std::uint32_t>(file.data.size()));
        w.bytes(file.data); // committed content only: an open transaction is volatile
    }
}

std::optional<std::pair<std::uint32_t, Application>> readApp(Reader& r) {
    Application app;
    const std::uint32_t aid = r.u24();
    app.keySettings = r.u8();
    const std::uint8_t type = r.u8();
    if (type > 2)
        return std::nullopt;
    app.keyType = static_cast<Cipher>(type);
    const std::uint8_t keyCount = r.u8();
    if (keyCount == 0 || keyCount > 14)
        return std::nullopt;
    for (std::uint8_t i = 0; i < keyCount && r.ok(); ++i) {
        Key key;
        key.version = r.u8();
        const std::uint8_t len = r.u8();
        if (len != keySize(app.keyType))
            return std::nullopt;
        key.value = r.bytes(len);
        app.keys.push_back(std::move(key));
    }
    const std::uint8_t fileCount = r.u8();
    for (std::uint8_t i = 0; i < fileCount && r.ok(); ++i) {
        const std::uint8_t fileNo = r.u8();
        DataFile file;
        const std::uint8_t fileType = r.u8();
        if (fileType > 1 || fileNo > 31)
            return std::nullopt;
        file.type = static_cast<FileType>(fileType);
        file.comm = r.u8();
        file.access = r.u16();
        const std::uint32_t size = r.u32();
        if (size > kMaxFileSize)
            return std::nullopt;
        file.data = r.bytes(size);
        if (!app.files.emplace(fileNo, std::move(file)).second)
            return std::nullopt;
    }
    if (!r.ok())
        return std::nullopt;
    return std::make_pair(aid, std::move(app));
}

} // namespace

bool writeCardImage(const CardData& card, const std::filesystem::path& path, std::string* error) {
    Writer w;
    w.bytes(ByteView(reinterpret_cast<const std::uint8_t*>(kMagic), sizeof kMagic));
    w.u8(kImageVersion);
    w.bytes(card.uid);
    w.u32(static_cast<std::uint32_t>(card.capacity));
    // Bits 3-2: the generation (0 EV2, the only one before it was recorded; 1 EV1; 2 EV3).
    const std::uint8_t generation = card.generation == Generation::Ev1   ? 1
                                    : card.generation == Generation::Ev3 ? 2
                                                                         : 0;
    w.u8(static_cast<std::uint8_t>((card.formatDisabled ? 1 : 0) | (card.randomUid ? 2 : 0) |
                                   generation << 2));
    writeApp(w, 0, card.picc);
    w.u8(static_cast<std::uint8_t>(card.apps.size()));
    for (const auto& [aid, app] : card.apps)
        writeApp(w, aid, app);

    // Atomic replacement: a reader of `path` sees the old image or the new one, never half.
    std::filesystem::path temp = path;
    temp += ".tmp";
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(w.out().data()),
                  static_cast<std::streamsize>(w.out().size()));
        out.flush();
        if (!out) {
            OPENSSL_cleanse(w.out().data(), w.out().size());
            std::error_code ignored;
            std::filesystem::remove(temp, ignored);
            fail(error, "cannot write the card image " + temp.string());
            return false;
        }
    }
    OPENSSL_cleanse(w.out().data(), w.out().size());
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    if (ec) {
        std::filesystem::remove(temp, ec);
        fail(error, "cannot replace the card image " + path.string());
        return false;
    }
    return true;
}

std::optional<CardData> readCardImage(const std::filesystem::path& path, std::string* error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail(error, "cannot open the card image " + path.string());
        return std::nullopt;
    }
    Bytes raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Reader r(raw);
    CardData card;
    const Bytes magic = r.bytes(sizeof kMagic);
    const bool magicOk = r.ok() && std::equal(magic.begin(), magic.end(), kMagic);
    const std::uint8_t version = r.u8();
    bool ok = magicOk && version == kImageVersion;
    if (ok) {
        const Bytes uid = r.bytes(7);
        if (r.ok())
            std::copy(uid.begin(), uid.end(), card.uid.begin());
        card.capacity = r.u32();
        const std::uint8_t flags = r.u8();
        card.formatDisabled = (flags & 1) != 0;
        card.randomUid = (flags & 2) != 0;
        const int generation = (flags >> 2) & 3;
        card.generation = generation == 1   ? Generation::Ev1
                          : generation == 2 ? Generation::Ev3
                                            : Generation::Ev2;
        ok = (card.capacity == 2048 || card.capacity == 4096 || card.capacity == 8192) &&
             generation != 3 && (flags & 0xF0) == 0;
    }
    if (ok) {
        auto picc = readApp(r);
        ok =
            picc && picc->first == 0 && picc->second.keys.size() == 1 && picc->second.files.empty();
        if (ok)
            card.picc = std::move(picc->second);
    }
    if (ok) {
        const std::uint8_t appCount = r.u8();
        for (std::uint8_t i = 0; i < appCount && ok; ++i) {
            auto app = readApp(r);
            ok = app && app->first != 0 &&
                 card.apps.emplace(app->first, std::move(app->second)).second;
        }
        ok = ok && r.ok() && r.atEnd();
    }
    OPENSSL_cleanse(raw.data(), raw.size());
    if (!ok) {
        fail(error, magicOk && version != kImageVersion
                        ? "the card image " + path.string() + " has an unknown format version"
                        : "the card image " + path.string() + " is damaged or not a card image");
        return std::nullopt;
    }
    return card;
}

} // namespace unioncard::sim::detail
