#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# unioncard-verifier through the lab's real pcscd and a real registry (SQLite, TLS):
# - every verdict a chip can give: valid, revoked (after the registry's status list changes),
#   bad_signature, unknown_issuer, chip_auth_failed (the data copied onto another chip),
#   expired, not_union_card (a blank card, another system's DESFire);
# - a typed number and the QR text;
# - two event desks that admit the same card while the registry is down, then sync: one
#   check-in counted, the other reported as a repeat, nothing lost.
#   verifier_lab_test.sh UNIONCARD UNIONCARD_LAB LAB_DIR REGISTRYD VERIFIER FOREIGN_CARD
set -u
bin=$1 lab=$2 dir=$3 registryd=$4 verifier=$5 foreign=$6
python=/usr/bin/python3
work=$(mktemp -d)
registry_pid=
cleanup() {
    [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
    for r in "Station desk" Verifier "Printer encoder"; do
        "$lab" remove "$r" --dir "$dir" >/dev/null 2>&1
    done
    rm -rf "$work"
}
trap cleanup EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../cli_lib.sh
. "$here/cli_lib.sh"
# shellcheck source=../registry/rig_lib.sh
. "$here/registry/rig_lib.sh"
cd "$work"
export TZ=UTC
lab_do() { "$lab" "$@" --dir "$dir" >/dev/null || { echo "FAIL: unioncard-lab $*"; exit 1; }; }
export UNIONCARD_PASSPHRASE="verifier-lab-test-passphrase"
export UNIONCARD_CARD_KEYS_PASSPHRASE=$UNIONCARD_PASSPHRASE

# --- The union: root, station, trust list, status signer, card keys; and a stranger's root.
"$bin" keys init-root --out root >/dev/null && "$bin" keys issue-station --root root \
    --station-id st-23-01 --out station >/dev/null && "$bin" trust-list build --root root \
    --out trust.cose station >/dev/null && "$bin" keys issue-status-signer --root root \
    --out status >/dev/null || { echo "FAIL: union keys"; exit 1; }
"$bin" keys init-root --out other-root >/dev/null && "$bin" keys issue-station \
    --root other-root --station-id st-23-01 --out other-station >/dev/null ||
    { echo "FAIL: stranger's keys"; exit 1; }
"$bin" keys init-card-keys --out card-keys.json >/dev/null &&
    "$bin" keys export-card-keys --keys card-keys.json --roles record-read \
        --out read-keys.json >/dev/null || { echo "FAIL: card keys"; exit 1; }
"$bin" keys init-card-keys --out forger-keys.json >/dev/null

# --- The registry, with a pending application and a leased block for its region.
make_tls || { echo "FAIL: TLS files"; exit 1; }
db=sqlite:$work/registry.db
"$registryd" seed --db "$db" --members 500 >/dev/null || { echo "FAIL: seed"; exit 1; }
# The station is of the region of the first pending application: a station sees only its own.
station_region=$("$python" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT region FROM applications WHERE state = ? ORDER BY id LIMIT 1", ("pending",)).fetchone()[0])' \
    "$work/registry.db") || { echo "FAIL: no pending application"; exit 1; }
station_token=$("$registryd" device add --db "$db" --id st-23-01 --role station --region "$station_region")
for desk in 1 2 3; do
    "$registryd" device add --db "$db" --id "vf-0$desk" --role verifier >"desk$desk.token"
    chmod 600 "desk$desk.token"
done
# The forum's check-ins come from, and go to, its two desks only.
"$registryd" event add --db "$db" --id forum-2026 --name "Форум" --desk vf-01 --desk vf-02 \
    >/dev/null || { echo "FAIL: event add"; exit 1; }
serve() {
    start_registry "$registryd" --db "$db" --tls-cert tls.pem --tls-key tls.key \
        --status-key status/status-key.pem --status-cert status/status-cert.pem \
        --root-cert root/root-cert.pem --status-interval 1 --trust-list trust.cose --quiet
}
serve || exit 1
api() { # api METHOD PATH [BODY]
    local args=(-sS --fail-with-body --cacert tls-ca.pem -H "Authorization: Bearer $station_token" -X "$1")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    curl "${args[@]}" "https://127.0.0.1:$port$2"
}
field() { "$python" -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }
api GET "/v1/applications?limit=1" >application.json || { echo "FAIL: applications"; exit 1; }
member=$(field items.0.member_id <application.json)
application=$(field items.0.id <application.json)
region=$(field items.0.region <application.json)
serial=$(api POST /v1/leases "{\"region\": $region, \"count\": 10}" | field first_serial)
number=$("$bin" --json number compose --region "$region" --serial "$serial" | field digits)
today=$(date -u +%F)

# sign_record FIELDS_UID STATION_DIR OUT [EXPIRES]: a record of $number bound to a chip's UID.
sign_record() {
    cat >fields.json <<JSON
{"card_number": "$number", "member_id": "$member", "region": $region, "organisation": 100,
 "sequence": 1, "issued": "$today", "expires": "${4:-$(date -u -d '+5 years' +%F)}",
 "chip_uid": "$1", "station_id": "st-23-01"}
JSON
    "$bin" record sign --station "$2" --fields fields.json --out "$3" >/dev/null ||
        { echo "FAIL: record sign"; exit 1; }
}
# make_card IMAGE STATION_DIR KEYS [EXPIRES]: a blank chip on the desk reader, personalised.
make_card() {
    lab_do insert "Station desk" "$work/$1"
    local uid
    uid=$("$bin" --json card info --reader "Station desk" | field uid)
    sign_record "$uid" "$2" "$1.cose" "${4:-}"
    "$bin" card personalise --reader "Station desk" --keys "$3" --record "$1.cose" >/dev/null ||
        { echo "FAIL: personalise $1"; exit 1; }
    lab_do remove "Station desk"
}
# tap DESK IMAGE EXPECTED [ARGS...]: the card on the Verifier reader, one verdict.
tap() {
    local desk=$1 image=$2 want=$3
    shift 3
    lab_do insert Verifier "$work/$image"
    "$verifier" --db "desk$desk.db" --json watch --reader Verifier --once --timeout 10 "$@" \
        >out.txt 2>err.txt
    local got
    got=$(field verdict <out.txt 2>/dev/null)
    if [ "$got" = "$want" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $image at desk $desk: verdict '$got', expected '$want'"
        sed 's/^/  /' out.txt err.txt
    fi
    lab_do remove Verifier
}

# The member's card. A copy of its blank image, taken before it is written, is the forger's
# chip later: a blank chip that even answers with the same UID.
lab_do insert "Station desk" "$work/member.card"
lab_do remove "Station desk"
cp member.card clone.card
make_card member.card station card-keys.json
api POST /v1/events "{\"idempotency_key\": \"produced-$number\", \"kind\": \"produced\", \"card_number\": \"$number\", \"member_id\": \"$member\", \"station\": \"st-23-01\", \"operator\": \"op-1\", \"at\": \"$(date -u +%FT%TZ)\", \"application_id\": \"$application\", \"card_sequence\": 1}" >/dev/null ||
    { echo "FAIL: produced event"; exit 1; }

# --- Two event desks.
for desk in 1 2; do
    check "desk $desk init" 0 "$verifier" --db "desk$desk.db" init --desk "desk $desk" \
        --registry "https://127.0.0.1:$port" --ca tls-ca.pem --token-file "desk$desk.token" \
        --root-cert root/root-cert.pem --card-keys read-keys.json
done
check "status before any sync" 1 "$verifier" --db desk1.db status
expect_text "no trust list yet" out.txt "trust list   none"
sleep 1.1 # the registry builds its status list at most once a second here
check "desk 1 sync" 0 "$verifier" --db desk1.db --json sync
[ "$(field status_list_delta <out.txt)" = False ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: first sync is a full list"; cat out.txt; }
check "desk 2 sync" 0 "$verifier" --db desk2.db sync
check "status after sync" 0 "$verifier" --db desk1.db --json status
expect_text "trust list held" out.txt '"trust_list":{'
# The same for a monitoring system (node_exporter's textfile collector), read by Python's
# prometheus_client: ready, the lists' ages, the outbox.
check "status --prometheus" 0 "$verifier" --db desk1.db status --prometheus
"$python" -c 'import sys
from prometheus_client.parser import text_string_to_metric_families as parse
v = {s.name: s.value for f in parse(open("out.txt").read()) for s in f.samples}
assert v["unioncard_verifier_ready"] == 1, v
assert 0 <= v["unioncard_verifier_status_list_age_seconds"] < 3600, v
assert v["unioncard_verifier_outbox_waiting"] == 0, v
assert "unioncard_verifier_trust_list_age_seconds" in v, v' && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: status --prometheus"; cat out.txt; }

# --- Verdicts through the real reader stack.
tap 1 member.card valid
apdus=$(field apdus <out.txt)
[ "$apdus" -le 5 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: $apdus APDUs"; }
echo "chip verification: $apdus APDU exchanges, $(field milliseconds <out.txt) ms tap to verdict"
tap 1 member.card valid --offline
expect_text "offline says which check" out.txt '"status_check":"status_list"'
tap 1 member.card expired --as-of "$(date -u -d '+6 years' +%F)"

# The same record on the forger's chip (same UID, the forger's keys).
lab_do insert "Station desk" "$work/clone.card"
"$bin" card personalise --reader "Station desk" --keys forger-keys.json --record member.card.cose \
    >/dev/null || { echo "FAIL: forger's personalisation"; exit 1; }
lab_do remove "Station desk"
tap 1 clone.card chip_auth_failed

# --- Desk 3 keeps its read key on a PKCS#11 token (SoftHSM2): the master goes onto the token,
# the key file leaves the desk, and the token makes each card's key.
if [ -n "${SOFTHSM2_MODULE:-}" ] && [ -f "$SOFTHSM2_MODULE" ] && [ -n "${SOFTHSM2_UTIL:-}" ]; then
    mkdir -p tokens
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$work/tokens" >softhsm2.conf
    export SOFTHSM2_CONF=$work/softhsm2.conf UNIONCARD_TOKEN_PIN=2468-desk
    "$SOFTHSM2_UTIL" --init-token --free --label desk-3 --pin "$UNIONCARD_TOKEN_PIN" \
        --so-pin 1357-officer >/dev/null || { echo "FAIL: token init"; exit 1; }
    check "read key onto the token" 0 "$bin" --json keys import-card-key --keys read-keys.json \
        --pkcs11-module "$SOFTHSM2_MODULE" --token-label desk-3
    expect_text "the token's label for it" out.txt '"label": "unioncard-record-read-v1"'
    check "the same version again is refused" 1 "$bin" keys import-card-key \
        --keys read-keys.json --pkcs11-module "$SOFTHSM2_MODULE" --token-label desk-3
    check "a token store without its token is wrong usage" 2 "$verifier" --db desk3.db init \
        --desk "desk 3" --root-cert root/root-cert.pem --card-keys-store pkcs11
    check "desk 3 init (token)" 0 "$verifier" --db desk3.db init --desk "desk 3" \
        --registry "https://127.0.0.1:$port" --ca tls-ca.pem --token-file desk3.token \
        --root-cert root/root-cert.pem --card-keys-store pkcs11 \
        --pkcs11-module "$SOFTHSM2_MODULE" --token-label desk-3
    check "desk 3 sync" 0 "$verifier" --db desk3.db sync
    tap 3 member.card valid
    tap 3 clone.card chip_auth_failed
    UNIONCARD_TOKEN_PIN=0000 tap 3 member.card ""
    expect_text "a wrong PIN is named" err.txt "the token refused the PIN"
    unset UNIONCARD_TOKEN_PIN
else
    echo "SKIP: desk on a token (SoftHSM2 is not installed)"
fi

# A record with one byte of its signature flipped, on a chip of its own.
lab_do insert "Station desk" "$work/forged.card"
uid=$("$bin" --json card info --reader "Station desk" | field uid)
sign_record "$uid" station forged.cose
size=$(stat -c %s forged.cose)
"$python" -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-3]^=1; open(sys.argv[1],"wb").write(b)' forged.cose
"$bin" card personalise --reader "Station desk" --keys card-keys.json --record forged.cose \
    >/dev/null || { echo "FAIL: personalise forged ($size bytes)"; exit 1; }
lab_do remove "Station desk"
tap 1 forged.card bad_signature

make_card stranger.card other-station card-keys.json
tap 1 stranger.card unknown_issuer

lab_do insert "Station desk" "$work/blank.card"
lab_do remove "Station desk"
tap 1 blank.card not_union_card
"$foreign" foreign.card || { echo "FAIL: foreign card image"; exit 1; }
tap 1 foreign.card not_union_card

# --- The printed number and the QR.
check "typed number" 0 "$verifier" --db desk1.db --json check "$number"
expect_text "online check" out.txt '"status_check":"online"'
mistyped=${number%?}$(( (${number: -1} + 1) % 10 ))
check "mistyped number" 1 "$verifier" --db desk1.db --json check "$mistyped"
expect_text "check digit caught" out.txt '"verdict":"not_union_card"'
qr=$("$bin" --json record show member.card.cose >/dev/null; "$python" - member.card.cose <<'PY'
import sys
alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
data = open(sys.argv[1], "rb").read()
out = []
for i in range(0, len(data) - 1, 2):  # RFC 9285, written here independently of cardlib
    n = data[i] * 256 + data[i + 1]
    out += [alphabet[n % 45], alphabet[n // 45 % 45], alphabet[n // 2025]]
if len(data) % 2:
    out += [alphabet[data[-1] % 45], alphabet[data[-1] // 45]]
print("UC1:" + "".join(out))
PY
)
check "QR text" 0 "$verifier" --db desk1.db --json scan-qr "$qr"
expect_text "QR is valid" out.txt '"source":"qr"'

# --- An event: both desks admit the member while the registry is down.
for desk in 1 2; do
    check "desk $desk event" 0 "$verifier" --db "desk$desk.db" event create --id forum-2026 \
        --name "Forum" --rule once
done
kill "$registry_pid"; wait "$registry_pid" 2>/dev/null; registry_pid=
tap 1 member.card valid
expect_text "desk 1 admits" out.txt '"admitted":true'
tap 2 member.card valid
expect_text "desk 2 admits (it cannot know of desk 1)" out.txt '"admitted":true'
tap 1 member.card valid
expect_text "a second tap at desk 1 is a repeat" out.txt '"admitted":false'
check "sync while the registry is down fails, keeps the check-in" 1 "$verifier" --db desk1.db --json sync
[ "$(field waiting <out.txt)" = 1 ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: check-in not kept"; cat out.txt; }

# The registry comes back (on a new port): both desks sync, then desk 1 again.
serve || exit 1
for desk in 1 2 1; do
    "$verifier" --db "desk$desk.db" init --desk "desk $desk" --registry "https://127.0.0.1:$port" \
        --ca tls-ca.pem --token-file "desk$desk.token" --root-cert root/root-cert.pem \
        --card-keys read-keys.json >/dev/null
    check "desk $desk sync after the outage" 0 "$verifier" --db "desk$desk.db" --json sync
done
for desk in 1 2; do
    check "desk $desk report" 0 "$verifier" --db "desk$desk.db" --json event report
    [ "$(field counted <out.txt)/$(field duplicates <out.txt)" = 1/1 ] &&
        passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: desk $desk merge"; cat out.txt; }
done
check "the registry holds both check-ins once" 0 curl -sS --fail --cacert tls-ca.pem \
    -H "Authorization: Bearer $(cat desk1.token)" "https://127.0.0.1:$port/v1/check-ins?event_id=forum-2026"
[ "$("$python" -c 'import json; print(len(json.load(open("out.txt"))["items"]))')" = 2 ] &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: registry check-ins"; cat out.txt; }
check "attendance export" 0 "$verifier" --db desk2.db event report --export attendance.csv
[ "$(grep -c ',yes$' attendance.csv)/$(grep -c ',duplicate$' attendance.csv)" = 1/1 ] &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: export"; cat attendance.csv; }

# --- Revocation reaches the desk through the status list (a delta): handed over, then lost.
api POST /v1/events "{\"idempotency_key\": \"handed-$number\", \"kind\": \"handed_over\", \"card_number\": \"$number\", \"member_id\": \"$member\", \"station\": \"st-23-01\", \"operator\": \"op-1\", \"at\": \"$(date -u +%FT%TZ)\", \"card_sequence\": 1}" >/dev/null ||
    { echo "FAIL: handed_over event"; exit 1; }
api POST /v1/events "{\"idempotency_key\": \"lost-$number\", \"kind\": \"lost\", \"card_number\": \"$number\", \"member_id\": \"$member\", \"station\": \"st-23-01\", \"operator\": \"op-1\", \"at\": \"$(date -u +%FT%TZ)\", \"card_sequence\": 1, \"reason\": \"reported lost\"}" >/dev/null ||
    { echo "FAIL: lost event"; exit 1; }
sleep 1.1
check "desk 1 sync after the loss" 0 "$verifier" --db desk1.db --json sync
[ "$(field status_list_delta <out.txt)" = True ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: the update was not a delta"; cat out.txt; }
tap 1 member.card revoked --offline
tap 1 member.card revoked

finish
