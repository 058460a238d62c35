#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `unioncard card` on a PN532 reader through libnfc (`--reader pn532_uart:...`): the same
# personalisation and verifier's read as on a PC/SC reader, against the PN532 emulator.
# Then unioncard-verifier watches the same reader (`--reader pn532_uart:...`) and gives its verdict.
#   card_cli_nfc_test.sh UNIONCARD UNIONCARD_LAB UNIONCARD_VERIFIER
set -u
bin=$1 lab=$2 verifier=$3
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pn532_lib.sh
. "$here/pn532_lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export UNIONCARD_PASSPHRASE="nfc-cli-test-passphrase"
failed=0
passed=0
step() { # step NAME COMMAND...
    local name=$1
    shift
    if "$@" >out.txt 2>err.txt; then passed=$((passed + 1)); else
        failed=$((failed + 1))
        echo "FAIL: $name"
        sed 's/^/  /' out.txt err.txt
    fi
}

"$bin" keys init-root --out root >/dev/null && "$bin" keys issue-station --root root \
    --station-id st-23-01 --out station >/dev/null && "$bin" trust-list build --root root \
    --out trust.cose station >/dev/null && "$bin" keys init-card-keys --out keys.json >/dev/null ||
    { echo "FAIL: keys"; exit 1; }

pn532_start "$lab" "$work/card.image" || exit 1
uid=$(echo "$PN532_UID" | tr 'A-F' 'a-f')
cat >fields.json <<JSON
{"card_number": "9643 2300 0001 2341", "member_id": "M-23-0004711", "region": 23,
 "organisation": 100245, "sequence": 1, "issued": "$(date -u +%F)",
 "expires": "$(date -u -d '+5 years' +%F)", "chip_uid": "$uid", "station_id": "st-23-01"}
JSON
"$bin" record sign --station station --fields fields.json --out record.cose >/dev/null ||
    { echo "FAIL: sign"; exit 1; }
step "info through libnfc" "$bin" card info --reader "$PN532_CONNSTRING"
grep -q "$uid" out.txt && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: uid"; cat out.txt; }
step "personalise through libnfc" "$bin" card personalise --reader "$PN532_CONNSTRING" \
    --keys keys.json --record record.cose
cat out.txt
step "read and verify through libnfc" "$bin" card read --reader "$PN532_CONNSTRING" \
    --keys keys.json --trust-list trust.cose
grep -q "^valid" out.txt && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: verdict"; cat out.txt; }

# The verifier desk on the same reader: offline with a trust list only, so the chip, the
# signature and the dates check out and the status cannot be confirmed (never a false "valid").
fp=$(openssl x509 -in root/root-cert.pem -noout -fingerprint -sha256 | cut -d= -f2)
step "verifier init" "$verifier" --db desk.db init --desk nfc-desk --root-fingerprint "$fp" \
    --card-keys keys.json
step "verifier takes the trust list from a file" "$verifier" --db desk.db import-lists \
    --trust-list trust.cose
UNIONCARD_CARD_KEYS_PASSPHRASE=$UNIONCARD_PASSPHRASE "$verifier" --db desk.db --json watch \
    --reader "$PN532_CONNSTRING" --once --offline --timeout 10 >out.txt 2>err.txt
grep -q '"verdict":"cannot_confirm_offline"' out.txt && grep -q '"apdus":4' out.txt &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: verifier through libnfc"; cat out.txt err.txt; }
pn532_stop 2>/dev/null || { failed=$((failed + 1)); echo "FAIL: the emulator did not stop cleanly"; }

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
