#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `unioncard card ...` on the lab's readers through the real pcscd: a blank virtual DESFire is
# personalised at the station's desk reader, moved to the verifier's reader and read and
# verified there; a clone with the same record on another chip, a second personalisation, an
# empty reader and an erase without naming the card are refused.
#   card_cli_test.sh UNIONCARD UNIONCARD_LAB LAB_DIR PYTHON
set -u
bin=$1 lab=$2 dir=$3 python=$4
work=$(mktemp -d)
trap '"$lab" remove "Station desk" --dir "$dir" >/dev/null 2>&1; "$lab" remove Verifier --dir "$dir" >/dev/null 2>&1; "$lab" remove "Printer encoder" --dir "$dir" >/dev/null 2>&1; rm -rf "$work"' EXIT
# shellcheck source=../cli_lib.sh
. "$(cd "$(dirname "$0")/.." && pwd)/cli_lib.sh"
cd "$work"
lab_do() { "$lab" "$@" --dir "$dir" >/dev/null || { echo "FAIL: unioncard-lab $*"; exit 1; }; }

export UNIONCARD_PASSPHRASE="card-lab-test-passphrase"

# The union's keys: signing chain and the card master keys (all roles for the station, the read
# role only for the verifier).
"$bin" keys init-root --out root >/dev/null && "$bin" keys issue-station --root root \
    --station-id st-23-01 --out station >/dev/null && "$bin" trust-list build --root root \
    --out trust.cose station >/dev/null || { echo "FAIL: signing keys"; exit 1; }
check "init-card-keys" 0 "$bin" keys init-card-keys --out station-card-keys.json
check "export the read key" 0 "$bin" keys export-card-keys --keys station-card-keys.json \
    --roles record-read --out verifier-card-keys.json
fp=$(openssl x509 -in root/root-cert.pem -noout -fingerprint -sha256 | cut -d= -f2)

# A blank card on the station's desk reader. A copy of its blank image, taken now, is the
# forger's clone chip later: a blank chip answering with the same UID.
lab_do insert "Station desk" "$work/member.card"
lab_do remove "Station desk"
cp "$work/member.card" "$work/clone.card"
lab_do insert "Station desk" "$work/member.card"
check "readers" 0 "$bin" card readers
expect_text "readers lists the desk reader with its card" out.txt "Station desk 00 00  card present"
check "info on a blank card" 0 "$bin" --json card info --reader "Station desk"
uid=$(json_field out.txt uid)
[ "${#uid}" = 14 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: uid '$uid'"; }

cat >fields.json <<JSON
{"card_number": "9643 2300 0001 2341", "member_id": "M-23-0004711", "region": 23,
 "organisation": 100245, "sequence": 1, "issued": "$(date -u +%F)",
 "expires": "$(date -u -d '+5 years' +%F)", "chip_uid": "$uid", "station_id": "st-23-01"}
JSON
"$bin" record sign --station station --fields fields.json --out record.cose >/dev/null ||
    { echo "FAIL: record sign"; exit 1; }

check "personalise" 0 "$bin" --json card personalise --reader "Station desk" \
    --keys station-card-keys.json --record record.cose
echo "personalise: $(json_field out.txt apdus) APDUs ($(json_field out.txt read_back_apdus) read-back), $(json_field out.txt milliseconds) ms"
check "a second personalisation is refused" 1 "$bin" card personalise --reader "Station desk" \
    --keys station-card-keys.json --record record.cose
expect_text "not blank named" err.txt "not blank"

# The card goes to the verifier's reader (its image keeps what was written).
lab_do remove "Station desk"
lab_do insert Verifier "$work/member.card"
check "verifier reads and verifies" 0 "$bin" --json card read --reader Verifier \
    --keys verifier-card-keys.json --trust-list trust.cose --root-fingerprint "$fp" --out read.cose
[ "$(json_field out.txt verdict)" = valid ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: verdict"; cat out.txt err.txt; }
echo "verifier read: $(json_field out.txt apdus) APDUs, $(json_field out.txt milliseconds) ms"
cmp -s read.cose record.cose && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: record differs"; }
check "the read record verifies offline too" 0 "$bin" record verify --trust-list trust.cose \
    --root-fingerprint "$fp" read.cose
check "a verifier with other keys fails the chip" 1 env UNIONCARD_PASSPHRASE=card-lab-test-passphrase \
    "$bin" card read --reader Verifier --keys station-card-keys-other.json
"$bin" keys init-card-keys --out other-card-keys.json >/dev/null
check "foreign keys: chip_auth_failed" 1 "$bin" --json card read --reader Verifier \
    --keys other-card-keys.json
[ "$(json_field out.txt verdict)" = chip_auth_failed ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: foreign keys verdict"; cat out.txt; }

# A clone: the same record on a blank chip with the same UID, which the forger personalised
# with keys of their own (they do not have the union's).
lab_do insert "Printer encoder" "$work/clone.card"
check "forger personalises a clone" 0 "$bin" card personalise --reader "Printer encoder" \
    --keys other-card-keys.json --record record.cose
check "the clone fails the union's read" 1 "$bin" --json card read --reader "Printer encoder" \
    --keys verifier-card-keys.json --trust-list trust.cose
[ "$(json_field out.txt verdict)" = chip_auth_failed ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: clone verdict"; cat out.txt; }

# Erasing needs the card named by its UID, and then works with the station's keys.
check "format without --uid is refused" 1 "$bin" card format --reader Verifier \
    --keys station-card-keys.json --yes
expect_text "format asks for the UID" err.txt "--uid $uid"
check "format without confirmation is refused" 1 "$bin" card format --reader Verifier \
    --keys station-card-keys.json --uid "$uid" </dev/null
check "format" 0 "$bin" card format --reader Verifier --keys station-card-keys.json --uid "$uid" --yes
check "info after format" 0 "$bin" --json card info --reader Verifier
[ "$("$python" -c 'import json; print(len(json.load(open("out.txt"))["applications"]))')" = 0 ] &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: applications left"; cat out.txt; }
check "a formatted union card is personalised again" 0 "$bin" card personalise --reader Verifier \
    --keys station-card-keys.json --record record.cose

# Card generations (firmware-config/cards: EV2 and EV3). An EV3 is personalised and verified;
# an EV1 is refused before any key changes, naming its generation, and stays factory-blank.
lab_do remove Verifier
for gen in ev3 ev1; do
    "$lab" new-card "$work/$gen.card" --generation "$gen" >/dev/null ||
        { echo "FAIL: new-card $gen"; exit 1; }
done
lab_do insert Verifier "$work/ev3.card"
check "info names an EV3" 0 "$bin" --json card info --reader Verifier
[ "$(json_field out.txt generation)" = "MIFARE DESFire EV3" ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: EV3 generation"; cat out.txt; }
uid3=$(json_field out.txt uid)
sed "s/\"chip_uid\": \"$uid\"/\"chip_uid\": \"$uid3\"/" fields.json >fields3.json
"$bin" record sign --station station --fields fields3.json --out record3.cose >/dev/null ||
    { echo "FAIL: record sign (EV3)"; exit 1; }
check "an EV3 is personalised" 0 "$bin" card personalise --reader Verifier \
    --keys station-card-keys.json --record record3.cose
check "an EV3 verifies" 0 "$bin" --json card read --reader Verifier \
    --keys verifier-card-keys.json --trust-list trust.cose --root-fingerprint "$fp"
[ "$(json_field out.txt verdict)" = valid ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: EV3 verdict"; cat out.txt; }
lab_do remove Verifier
lab_do insert Verifier "$work/ev1.card"
check "an EV1 is refused" 1 "$bin" card personalise --reader Verifier \
    --keys station-card-keys.json --record record3.cose
expect_text "the generation is named" err.txt "unsupported card generation: this is a MIFARE DESFire EV1"
check "the EV1 is left blank" 0 "$bin" --json card info --reader Verifier
[ "$("$python" -c 'import json; print(len(json.load(open("out.txt"))["applications"]))')" = 0 ] &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: EV1 touched"; cat out.txt; }

# Faults in words.
lab_do remove Verifier
check "no card on the reader" 1 "$bin" card info --reader Verifier
expect_text "no card named" err.txt "card"
check "unknown reader" 1 "$bin" card info --reader "Kitchen"
expect_text "readers listed" err.txt "Station desk 00 00"
check "wrong key file passphrase" 1 env UNIONCARD_PASSPHRASE=wrong-passphrase-here "$bin" card read \
    --reader "Printer encoder" --keys verifier-card-keys.json
expect_text "passphrase named" err.txt "passphrase"

finish
