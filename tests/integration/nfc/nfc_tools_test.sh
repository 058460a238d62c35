#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# libnfc's and libfreefare's own tools against the PN532 emulator and the virtual DESFire:
# nfc-list (libnfc-bin) sees an ISO 14443A target with the card's UID and DESFire's ATS, and
# mifare-desfire-info (libfreefare-bin) reads its version through libfreefare.
#   nfc_tools_test.sh UNIONCARD_LAB
set -u
lab=$1
here=$(dirname "$0")
skip() { echo "SKIP: $*" >&2; exit 77; }
command -v nfc-list >/dev/null || skip "nfc-list is not installed (Debian package libnfc-bin)"
command -v mifare-desfire-info >/dev/null ||
    skip "mifare-desfire-info is not installed (Debian package libfreefare-bin)"
. "$here/pn532_lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

pn532_start "$lab" "$work/card.image" || fail "the emulator did not start"
[ ${#PN532_UID} -eq 14 ] || fail "no 7-byte UID in the emulator's log: '$PN532_UID'"
# nfc-list prints bytes in lower-case hex, each followed by two spaces.
spaced=$(echo "$PN532_UID" | tr 'A-F' 'a-f' | sed 's/\(..\)/\1  /g')

out=$(timeout 30 nfc-list 2>&1) || fail "nfc-list failed: $out"
echo "$out"
grep -q "1 ISO14443A passive target(s) found" <<<"$out" || fail "nfc-list found no target"
grep -qF "UID (NFCID1): $spaced" <<<"$out" || fail "nfc-list shows another UID than $PN532_UID"
grep -qF "ATQA (SENS_RES): 03  44" <<<"$out" || fail "nfc-list shows no DESFire ATQA"
grep -qF "ATS: 75  77  81  02  80" <<<"$out" || fail "nfc-list shows no DESFire ATS"

out=$(timeout 30 mifare-desfire-info 2>&1) || fail "mifare-desfire-info failed: $out"
echo "$out"
lower=$(echo "$PN532_UID" | tr 'A-F' 'a-f')
grep -q "UID: *0x$lower" <<<"$out" || fail "mifare-desfire-info shows another UID than $PN532_UID"
grep -q "Vendor ID: *0x04" <<<"$out" || fail "mifare-desfire-info shows no NXP vendor"
grep -q "Master Key settings (0x0f)" <<<"$out" || fail "not a factory card's key settings"

pn532_stop || fail "the emulator did not stop cleanly"
[ -s "$work/card.image" ] || fail "the card image was not saved"
echo "PASS"
