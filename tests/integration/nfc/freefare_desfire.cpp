// SPDX-License-Identifier: Apache-2.0
// Test-only: libfreefare 0.4 (the nfc-tools DESFire client, an implementation independent of
// cardlib and of the virtual card) drives the card through libnfc. It opens libnfc's default
// reader (LIBNFC_DEVICE, set by with_pn532.sh to the PN532 emulator). Being test code that
// needs libfreefare's own types, this file includes <nfc/nfc.h> and <freefare.h> directly.
//
//   freefare_desfire create-write AID FILE HEX   on a blank card: legacy Authenticate with the
//       zero DES PICC key, CreateApplication AID with one AES key, SelectApplication,
//       AuthenticateAES with the zero AES key, CreateStdDataFile FILE (plain, key 0 for all
//       rights, the size of HEX), WriteData HEX, ReadData, compare
//   freefare_desfire read AID FILE LENGTH [KEYNO KEYHEX]   SelectApplication, AuthenticateAES
//       with key KEYNO = KEYHEX (default: key 0, 16 zero bytes), ReadData of LENGTH bytes in
//       the file's communication mode (libfreefare asks GetFileSettings; a MAC'd file's CMAC is
//       checked by libfreefare); prints them in hex
// Exit codes: 0 done, 1 failed (with libfreefare's reason), 2 wrong usage.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <freefare.h>
#include <nfc/nfc.h>
#include <string>
#include <vector>

namespace {

// libfreefare 0.4's read_data copies each frame, MAC or CRC and padding included, into the
// caller's buffer before checking and stripping them ("FIXME: This is bogus: the user has to
// provide a data buffer with enougth room to store CRC + padding or MAC", mifare_desfire.c):
// a buffer of exactly the length read overflows.
constexpr std::size_t kReadSlack = 64;

int failed(MifareTag tag, const char* what) {
    std::fprintf(stderr, "freefare_desfire: %s failed: %s\n", what,
                 tag != nullptr ? freefare_strerror(tag) : "no tag");
    return 1;
}

std::vector<std::uint8_t> fromHex(const std::string& text) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoul(text.substr(i, 2), nullptr, 16)));
    }
    return out;
}

int run(MifareTag tag, const std::string& mode, std::uint32_t aidValue, std::uint8_t file,
        const std::string& argument, std::uint8_t keyNo, std::vector<std::uint8_t> aesKey) {
    std::uint8_t zeroDes[8] = {};
    aesKey.resize(16, 0x00);
    MifareDESFireAID aid = mifare_desfire_aid_new(aidValue);
    MifareDESFireKey aes = mifare_desfire_aes_key_new(aesKey.data());
    MifareDESFireKey des = mifare_desfire_des_key_new(zeroDes);
    int result = 0;
    if (mode == "create-write") {
        const auto data = fromHex(argument);
        std::vector<std::uint8_t> back(data.size() + kReadSlack);
        if (mifare_desfire_authenticate(tag, 0, des) < 0) {
            result = failed(tag, "legacy Authenticate with the zero DES PICC key");
        } else if (mifare_desfire_create_application_aes(tag, aid, 0x0F, 1) < 0) {
            result = failed(tag, "CreateApplication (AES)");
        } else if (mifare_desfire_select_application(tag, aid) < 0) {
            result = failed(tag, "SelectApplication");
        } else if (mifare_desfire_authenticate_aes(tag, 0, aes) < 0) {
            result = failed(tag, "AuthenticateAES key 0");
        } else if (mifare_desfire_create_std_data_file(
                       tag, file, MDCM_PLAIN, MDAR(MDAR_KEY0, MDAR_KEY0, MDAR_KEY0, MDAR_KEY0),
                       static_cast<std::uint32_t>(data.size())) < 0) {
            result = failed(tag, "CreateStdDataFile");
        } else if (mifare_desfire_write_data(tag, file, 0, data.size(), data.data()) !=
                   static_cast<ssize_t>(data.size())) {
            result = failed(tag, "WriteData");
        } else if (mifare_desfire_read_data(tag, file, 0, data.size(), back.data()) !=
                   static_cast<ssize_t>(data.size())) {
            result = failed(tag, "ReadData");
        } else if (!std::equal(data.begin(), data.end(), back.begin())) {
            std::fprintf(stderr, "freefare_desfire: read back other bytes than written\n");
            result = 1;
        } else {
            std::printf("written and read back %zu bytes\n", data.size());
        }
    } else {
        const auto length = static_cast<std::size_t>(std::stoul(argument));
        std::vector<std::uint8_t> data(length + kReadSlack);
        if (mifare_desfire_select_application(tag, aid) < 0) {
            result = failed(tag, "SelectApplication");
        } else if (mifare_desfire_authenticate_aes(tag, keyNo, aes) < 0) {
            result = failed(tag, "AuthenticateAES");
        } else if (mifare_desfire_read_data(tag, file, 0, length, data.data()) !=
                   static_cast<ssize_t>(length)) {
            result = failed(tag, "ReadData");
        } else {
            for (std::size_t i = 0; i < length; ++i) {
                std::printf("%02X", data[i]);
            }
            std::printf("\n");
        }
    }
    mifare_desfire_key_free(des);
    mifare_desfire_key_free(aes);
    std::free(aid);
    return result;
}

} // namespace

int main(int argc, char** argv) {
    const bool read = argc >= 2 && std::strcmp(argv[1], "read") == 0;
    if (!(argc == 5 || (read && argc == 7)) ||
        (std::strcmp(argv[1], "create-write") != 0 && !read)) {
        std::fprintf(stderr,
                     "usage: %s create-write AID FILE HEX | read AID FILE LENGTH [KEYNO KEYHEX]\n",
                     argv[0]);
        return 2;
    }
    const auto keyNo = static_cast<std::uint8_t>(argc == 7 ? std::stoul(argv[5]) : 0);
    const auto aesKey = argc == 7 ? fromHex(argv[6]) : std::vector<std::uint8_t>(16, 0x00);
    nfc_context* context = nullptr;
    nfc_init(&context);
    if (context == nullptr) {
        std::fprintf(stderr, "freefare_desfire: nfc_init failed\n");
        return 1;
    }
    int result = 1;
    nfc_device* device = nfc_open(context, nullptr);
    if (device == nullptr) {
        std::fprintf(stderr, "freefare_desfire: no reader (is LIBNFC_DEVICE set?)\n");
    } else {
        MifareTag* tags = freefare_get_tags(device);
        MifareTag tag = nullptr;
        for (int i = 0; tags != nullptr && tags[i] != nullptr; ++i) {
            if (freefare_get_tag_type(tags[i]) == DESFIRE) {
                tag = tags[i];
                break;
            }
        }
        if (tag == nullptr) {
            std::fprintf(stderr, "freefare_desfire: no DESFire on the reader\n");
        } else if (mifare_desfire_connect(tag) < 0) {
            result = failed(tag, "mifare_desfire_connect");
        } else {
            result = run(tag, argv[1], static_cast<std::uint32_t>(std::stoul(argv[2], nullptr, 16)),
                         static_cast<std::uint8_t>(std::stoul(argv[3])), argv[4], keyNo, aesKey);
            mifare_desfire_disconnect(tag);
        }
        if (tags != nullptr) {
            freefare_free_tags(tags);
        }
        nfc_close(device);
    }
    nfc_exit(context);
    return result;
}
