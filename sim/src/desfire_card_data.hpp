// SPDX-License-Identifier: Apache-2.0
#pragma once

// The non-volatile content of a virtual DESFire: what its EEPROM holds, and what a card image
// file stores (layout in virtual_desfire.hpp).

#include "desfire_crypto.hpp"

#include <unioncard/sim/virtual_desfire.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace unioncard::sim::detail {

using Generation = DesfireGeneration;

struct Key {
    Bytes value;              // 16 bytes (2K3DES, AES) or 24 (3K3DES)
    std::uint8_t version = 0; // AES: the version byte; DES: read from the parity bits
};

enum class FileType : std::uint8_t { Standard = 0, Backup = 1 };

struct DataFile {
    FileType type = FileType::Standard;
    std::uint8_t comm = 0;        // communication settings: 00 plain, 01 MAC, 03 full
    std::uint16_t access = 0;     // Read<<12 | Write<<8 | ReadWrite<<4 | Change
    Bytes data;                   // committed content (the only content of a standard file)
    std::optional<Bytes> pending; // backup file: the working copy of an open transaction (volatile)
};

struct Application {
    std::uint8_t keySettings = 0x0F;
    Cipher keyType = Cipher::Tdes2k;
    std::vector<Key> keys;
    std::map<std::uint8_t, DataFile> files;
};

struct CardData {
    std::array<std::uint8_t, 7> uid{};
    std::size_t capacity = 8192;
    bool formatDisabled = false;
    bool randomUid = false;
    Generation generation = Generation::Ev2;
    Application picc;                          // PICC level, AID 000000, one key
    std::map<std::uint32_t, Application> apps; // AID -> application
};

inline constexpr std::uint8_t kImageVersion = 1;

bool writeCardImage(const CardData& card, const std::filesystem::path& path, std::string* error);
std::optional<CardData> readCardImage(const std::filesystem::path& path, std::string* error);

} // namespace unioncard::sim::detail
