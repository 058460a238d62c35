#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# unioncard-registryd over real HTTPS on loopback, driven by curl (the independent HTTP/TLS
# client) and openssl (which issues the device's client certificate from the union root's key):
# authentication and roles, the API's refusals, idempotent events and transitions, leases under
# concurrency, lookups that tell a merchant nothing personal, the signed status list, check-ins,
# and a killed service that comes back with nothing lost.
#
# usage: registry_api_test.sh UNIONCARD REGISTRYD PYTHON DB
#   DB: "sqlite" (a fresh file) or the folder of a running pg_rig.sh cluster.
set -u
unioncard=$1 registryd=$2 python=$3 db_kind=$4
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../cli_lib.sh"
source "$here/rig_lib.sh"

work=$(mktemp -d)
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1

db=$(new_database "$db_kind" api_test) || { echo "no database"; exit 1; }

export UNIONCARD_PASSPHRASE=api-test-passphrase
"$unioncard" keys init-root --out root --name "Test union root" >/dev/null || exit 1
"$unioncard" keys issue-status-signer --root root --out status >/dev/null || exit 1
make_tls || exit 1
# A device's client certificate issued by the union root (openssl opens the root's encrypted
# key), and one from a stranger.
make_client_cert vf-cert-01 root/root-cert.pem root/root-key.pem device || exit 1
# Two certificates the root issued for one id: the device is pinned to the first.
make_client_cert vf-cert-02 root/root-cert.pem root/root-key.pem pinned || exit 1
make_client_cert vf-cert-02 root/root-cert.pem root/root-key.pem replacement || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=vf-cert-01 -keyout stranger.key -out stranger.pem 2>/dev/null || exit 1

check "seed a small union" 0 "$registryd" seed --db "$db" --members 20000
# Event and check-in times from the test's clock (an hour ago and after), so they hold on any day.
ago() { date -u -d "-$1 min" +%FT%TZ; }
at_msk=$(TZ=Europe/Moscow date -d "-30 min" +%FT%T%:z) # an offset, to read as UTC
add_device() { # add_device ID ROLE [more options] -> token on stdout
    "$registryd" device add --db "$db" --id "$1" --role "$2" "${@:3}"
}
station=$(add_device st-23-01 station --region 23) || exit 1
verifier=$(add_device vf-01 verifier) || exit 1
merchant=$(add_device shop-01 merchant) || exit 1
admin=$(add_device office-admin admin) || exit 1
# A credential that ran out a day ago, on the test's clock.
expired=$(add_device vf-old verifier --expires-at "$(date -u -d "-1 day" +%FT%TZ)") || exit 1
add_device vf-cert-01 verifier --certificate-only >/dev/null || exit 1
add_device vf-cert-02 verifier --certificate pinned.pem >/dev/null || exit 1

start_daemon() {
    start_registry "$registryd" --db "$db" --tls-cert tls.pem --tls-key tls.key \
        --client-ca root/root-cert.pem --status-key status/status-key.pem \
        --status-cert status/status-cert.pem --root-cert root/root-cert.pem \
        --status-interval 1 || exit 1
    daemon_pid=$registry_pid
    base=https://127.0.0.1:$port
}
start_daemon

# http TOKEN METHOD PATH [BODY] -> body in body.json, status in the variable $code
http() {
    local token=$1 method=$2 path=$3
    local args=(-s -o body.json -w '%{http_code}' --cacert tls-ca.pem -X "$method")
    [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
    [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
    code=$(curl "${args[@]}" "$base$path")
}
expect() { # expect NAME STATUS [ERROR_CODE]
    local name=$1 want=$2 error=${3:-}
    local got_error=
    [ -n "$error" ] && got_error=$("$python" -c 'import json,sys; print(json.load(open("body.json")).get("error",""))' 2>/dev/null)
    if [ "$code" = "$want" ] && [ "$got_error" = "$error" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name: HTTP $code $got_error, expected $want $error"
        sed 's/^/  body: /' body.json; echo
    fi
}
field() { "$python" -c 'import json,sys
v=json.load(open("body.json"))
for k in sys.argv[1].split("."): v=v[int(k)] if k.isdigit() else v[k]
print(v)' "$1"; }
card_number() { # card_number REGION SERIAL -> the 16 digits
    "$unioncard" --json number compose --region "$1" --serial "$2" | sed -n 's/.*"digits": "\(.*\)".*/\1/p'
}

# --- Authentication and roles
http "" GET /v1/health; expect "health needs no credential" 200
http "" GET /v1/applications; expect "no credential" 401 unauthenticated
http "not-a-token" GET /v1/applications; expect "unknown token" 401 unknown_credential
http "$expired" GET /v1/status-list; expect "expired credential" 401 credential_expired
http "$merchant" GET /v1/applications; expect "a merchant reads no applications" 403 forbidden
http "$verifier" POST /v1/leases '{"region":23,"count":5}'; expect "a verifier leases nothing" 403 forbidden
http "$station" POST /v1/leases '{"region":24,"count":5}'; expect "a station leases in its region only" 403 forbidden
code=$(curl -s -o body.json -w '%{http_code}' --cacert tls-ca.pem --cert device.pem --key device.key "$base/v1/status-list")
expect "a client certificate from the union root authenticates" 200
# Devices: pinned certificates, disabling, rotation; each takes effect on the next request.
with_cert() { # with_cert PREFIX PATH -> sets code
    code=$(curl -s -o body.json -w '%{http_code}' --cacert tls-ca.pem --cert "$1.pem" --key "$1.key" "$base$2")
}
with_cert pinned /v1/status-list; expect "the pinned certificate" 200
with_cert replacement /v1/status-list; expect "another root-issued certificate for a pinned id" 401 unknown_credential
check "rotate to the replacement certificate" 0 "$registryd" device rotate --db "$db" --id vf-cert-02 --certificate replacement.pem
with_cert replacement /v1/status-list; expect "the new pinned certificate" 200
with_cert pinned /v1/status-list; expect "the rotated-out certificate" 401 unknown_credential
check "disable a device" 0 "$registryd" device disable --db "$db" --id vf-01
http "$verifier" GET /v1/status-list; expect "a disabled device's token" 401 unknown_credential
check "enable it again" 0 "$registryd" device enable --db "$db" --id vf-01
http "$verifier" GET /v1/status-list; expect "an enabled device's token" 200
old_verifier=$verifier
verifier=$("$registryd" device rotate --db "$db" --id vf-01) || { failed=$((failed + 1)); echo "FAIL: rotate"; }
http "$old_verifier" GET /v1/status-list; expect "a rotated-out token" 401 unknown_credential
http "$verifier" GET /v1/status-list; expect "the rotated token" 200
check "a new token for a certificate device (its certificate would still work)" 1 "$registryd" device rotate --db "$db" --id vf-cert-01
check "adding a registered id again (it would re-enable it)" 1 "$registryd" device add --db "$db" --id vf-01 --role verifier
check "device log" 0 "$registryd" device log --db "$db" --id vf-01
expect_text "the log names each change" out.txt "vf-01 rotate by"
curl -s -o /dev/null --cacert tls-ca.pem --cert stranger.pem --key stranger.key "$base/v1/health"
rc=$?
if [ "$rc" != 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: a stranger's client certificate was accepted"; fi
curl -s -o /dev/null "$base/v1/health"
rc=$?
if [ "$rc" = 60 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: curl without the CA: exit $rc, expected 60 (untrusted certificate)"; fi

# --- Applications: pages with a cursor
http "$station" GET "/v1/applications?region=23&limit=2"; expect "first page" 200
first_id=$(field items.0.id); cursor=$(field next_cursor)
member=$(field items.0.member_id)
http "$station" GET "/v1/applications?region=23&limit=2&cursor=$cursor"; expect "second page" 200
if [ "$(field items.0.id)" != "$first_id" ] && [ -n "$cursor" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: the cursor did not move on"; fi
http "$station" GET "/v1/applications?region=99"; expect "region out of range" 400 invalid_value
http "$station" GET "/v1/applications?colour=red"; expect "unknown query parameter" 400 unknown_field

# --- Leases: 20 at once never overlap
for i in $(seq 20); do
    curl -s --cacert tls-ca.pem -H "Authorization: Bearer $station" -H 'Content-Type: application/json' \
        --data-binary '{"region":23,"count":7}' "$base/v1/leases" >"lease-$i.json" &
done
wait_leases() { for j in $(jobs -p); do [ "$j" != "$daemon_pid" ] && wait "$j"; done; }
wait_leases
if "$python" - lease-*.json <<'PY'
import json, sys
ranges = sorted((json.load(open(f))["first_serial"], json.load(open(f))["count"]) for f in sys.argv[1:])
assert len(ranges) == 20, ranges
for (a, n), (b, _) in zip(ranges, ranges[1:]):
    assert a + n <= b, f"overlap: {a}+{n} > {b}"
PY
then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: leases overlap or failed"; cat lease-1.json; fi
serial=$("$python" -c 'import json;print(json.load(open("lease-1.json"))["first_serial"])')
number=$(card_number 23 "$serial")

# --- Events: idempotent, transitions checked
event() { # event KEY KIND [REASON]
    printf '{"idempotency_key":"%s","kind":"%s","card_number":"%s","member_id":"%s","station":"st-23-01","operator":"op-7","at":"'"$at_msk"'","card_sequence":1,"reason":"%s"}' \
        "$1" "$2" "$number" "$member" "${3:-}"
}
http "$station" POST /v1/events "$(event key-produced-1 produced)"; expect "produced" 201
seq1=$(field sequence)
http "$station" POST /v1/events "$(event key-produced-1 produced)"; expect "the same event twice" 200
[ "$(field duplicate)" = True ] && [ "$(field sequence)" = "$seq1" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: duplicate not reported as such"; cat body.json; }
http "$station" POST /v1/events "$(event key-produced-1 refused)"; expect "a key reused for another event" 409 idempotency_conflict
http "$station" POST /v1/events "$(event key-handover-1 handed_over)"; expect "handed over" 201
http "$station" POST /v1/events "$(event key-revoke-1 revoked)"; expect "revoked" 201
http "$station" POST /v1/events "$(event key-handover-2 handed_over)"; expect "handing over a revoked card" 409 impossible_transition
expect_text "the refusal says why" body.json "revoked"
other=$(card_number 23 $((serial + 1)))
http "$station" POST /v1/events "{\"idempotency_key\":\"key-other-1\",\"kind\":\"produced\",\"card_number\":\"$other\",\"member_id\":\"$member\",\"station\":\"st-99-01\",\"operator\":\"op\",\"at\":\"$(ago 60)\",\"card_sequence\":1,\"reason\":\"\"}"
expect "a station reports only its own events" 403 forbidden

# --- Bad input
http "$station" POST /v1/events '{"idempotency_key": "k'; expect "malformed JSON" 400 malformed_json
http "$station" POST /v1/events "$(event key-x-000001 produced | sed 's/}$/,"colour":"red"}/')"; expect "unknown field" 400 unknown_field
http "$station" POST /v1/events "$(event key-x-000002 produced | sed 's/"card_sequence":1/"card_sequence":"one"/')"; expect "wrong type" 400 wrong_type
http "$station" POST /v1/events "$(event key-x-000003 produced | sed "s/$number/9643230000000001/")"; expect "bad check digit" 400 invalid_value
http "$station" POST /v1/events "$(event key-x-000004 teleported)"; expect "unknown kind" 400 invalid_value
head -c 2000000 /dev/zero | tr '\0' 'a' >big.txt
code=$(curl -s -o body.json -w '%{http_code}' --cacert tls-ca.pem -H "Authorization: Bearer $station" -H 'Content-Type: application/json' --data-binary @big.txt "$base/v1/events")
expect "a 2 MB body" 413 too_large
"$python" -c 'print("["*100000 + "]"*100000)' >deep.json
code=$(curl -s -o body.json -w '%{http_code}' --cacert tls-ca.pem -H "Authorization: Bearer $station" -H 'Content-Type: application/json' --data-binary @deep.json "$base/v1/events")
expect "deep nesting" 400 malformed_json
http "$station" GET /v1/no-such-thing; expect "unknown route" 404 not_found
http "" GET /v1/%FF%0Aforged; expect "a path that is not UTF-8" 404 not_found
http "$station" GET "/v1/applications?%FF=1"; expect "a parameter name that is not UTF-8" 400 unknown_field
http "" GET /v1/health; expect "still serving after them" 200
if grep -q "forged" registry.err && ! grep -q "^forged" registry.err; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: the access log let a client write a line of its own"; fi
# TLS sessions resume with client certificates asked for (openssl s_client as the client).
# (The input stays open half a second: a TLS 1.3 ticket arrives after the handshake.)
(sleep 0.5) | openssl s_client -connect "127.0.0.1:$port" -CAfile tls-ca.pem -sess_out session.pem >/dev/null 2>&1
if (sleep 0.5) | openssl s_client -connect "127.0.0.1:$port" -CAfile tls-ca.pem -sess_in session.pem 2>/dev/null | grep -q "^Reused"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); echo "FAIL: a TLS session did not resume"
fi

# --- SQL metacharacters are data
name="Robert'); DROP TABLE members;-- O'Brien \"Ёлкин\""
body=$("$python" -c 'import json,sys; print(json.dumps({"applications":[{"id":"app-sql-1","member_id":"M-23-sql","full_name":sys.argv[1],"region":23,"organisation_code":7,"organisation_name":"; DELETE FROM cards;","category":"working","reason":"first_card","consent":True,"card_sequence":1,"created_at":"2000-01-01T00:00:00Z"}]}))' "$name")
http "$admin" POST /v1/applications "$body"; expect "an application with SQL in its name" 201
http "$station" GET "/v1/applications?region=23&limit=1000"; expect "applications still there" 200
if "$python" -c 'import json,sys; d=json.load(open("body.json")); assert any(i["full_name"]==sys.argv[1] for i in d["items"])' "$name"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: the name did not come back intact"; fi

# --- Lookup: a merchant learns valid or not valid and nothing else (no state, no date)
http "$merchant" GET "/v1/cards/$number"; expect "merchant lookup" 200
[ "$(field verdict)" = not_valid ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: revoked card not refused"; cat body.json; }
if "$python" -c 'import json; d=json.load(open("body.json")); assert d.keys() == {"verdict","reason"} and d["reason"] == "not valid", d'; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: a merchant saw more than valid or not"; cat body.json; fi
http "$station" GET "/v1/cards/$number"; expect "station lookup" 200
[ "$(field member_id)" = "$member" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: station lookup lacks the member"; cat body.json; }
http "$merchant" GET "/v1/cards/$(card_number 23 999999990)"; expect "a number never issued" 200
[ "$(field verdict)" = not_valid ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: unknown number"; cat body.json; }
http "$merchant" GET /v1/cards/9643230000000001; expect "a mistyped number" 400 invalid_value

# --- Status list and deltas (verified independently by verify_status_list.py)
code=$(curl -s -D headers.txt -o list.cose -w '%{http_code}' --cacert tls-ca.pem -H "Authorization: Bearer $verifier" "$base/v1/status-list")
expect "status list" 200
version=$(sed -n 's/^[Xx]-[Ss]tatus-[Ll]ist-[Vv]ersion: *\([0-9]*\).*/\1/p' headers.txt)
check "the status list verifies independently" 0 "$python" "$here/verify_status_list.py" list.cose root/root-cert.pem "23:$serial:revoked"
http "$verifier" GET "/v1/status-list/delta?since=$version"; expect "up to date" 204
http "$verifier" GET "/v1/status-list/delta?since=$((version + 1000))"; expect "an unknown base" 404 unknown_base
http "$station" POST /v1/events "$(event key-produced-o produced | sed "s/$number/$other/")"; expect "another card" 201
sleep 1.1 # the service's --status-interval
code=$(curl -s -o delta.cose -w '%{http_code}' --cacert tls-ca.pem -H "Authorization: Bearer $verifier" "$base/v1/status-list/delta?since=$version")
expect "a delta" 200

# --- Check-ins: only from an event's desks, and a nonce counts once
http "$verifier" POST /v1/check-ins "{\"check_ins\":[{\"nonce\":\"nonce-0000000000009\",\"event_id\":\"forum-2026\",\"desk\":\"desk-2\",\"card_number\":\"$other\",\"at\":\"$(ago 40)\"}]}"
expect "check-ins for an event the desk is not on" 403 out_of_scope
check "put the desk on the event" 0 "$registryd" event add --db "$db" --id forum-2026 --name "Форум молодых педагогов" --desk vf-01
checkins="{\"check_ins\":[{\"nonce\":\"nonce-0000000000001\",\"event_id\":\"forum-2026\",\"desk\":\"desk-2\",\"card_number\":\"$other\",\"at\":\"$(ago 39)\"},{\"nonce\":\"nonce-0000000000002\",\"event_id\":\"forum-2026\",\"desk\":\"desk-2\",\"card_number\":\"$other\",\"at\":\"$(ago 38)\"}]}"
http "$verifier" POST /v1/check-ins "$checkins"; expect "check-ins" 200
[ "$(field recorded)" = 2 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: check-ins not recorded"; cat body.json; }
http "$verifier" POST /v1/check-ins "$checkins"; expect "check-ins again" 200
[ "$(field duplicates)" = 2 ] && [ "$(field recorded)" = 0 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a retried check-in counted twice"; cat body.json; }

# --- Monitoring: /metrics in Prometheus' text format, read by Python's prometheus_client (the
# independent parser); the health answer names the state. No card number in either.
http "$verifier" GET "/v1/cards/$number"; expect "a lookup to count" 200
http "$verifier" GET /v1/status-list; expect "a status list to count" 200
http "" GET /metrics; expect "metrics need no credential" 200
mv body.json metrics.txt
if "$python" - metrics.txt <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
families = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def value(name, **labels):
    for s in (s for f in families.values() for s in f.samples if s.name == name):
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise SystemExit(f"no sample of {name} with {labels}")
assert families["unioncard_registry_requests"].type == "counter"
assert value("unioncard_registry_requests_total", route="/v1/cards/{number}", code="200") >= 1
assert families["unioncard_registry_request_duration_seconds"].type == "histogram"
assert value("unioncard_registry_request_duration_seconds_count", route="/v1/cards/{number}") >= 1
assert value("unioncard_registry_database_up") == 1
assert value("unioncard_registry_status_list_version") > 0
assert value("unioncard_registry_status_list_age_seconds") >= 0
assert value("unioncard_registry_status_signer_expiry_seconds") > 86400
routes = {s.labels["route"] for s in families["unioncard_registry_requests"].samples}
assert routes <= {"/v1/health", "/v1/applications", "/v1/events", "/v1/leases", "/v1/check-ins",
                  "/v1/trust-list", "/v1/status-list", "/v1/status-list/delta", "/metrics",
                  "/v1/cards/{number}", "other"}, routes
PY
then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: /metrics as prometheus_client reads it"; head -40 metrics.txt; fi
if grep -q "$number" metrics.txt; then failed=$((failed + 1)); echo "FAIL: a card number in /metrics"; else passed=$((passed + 1)); fi
http "" GET /v1/health; expect "health" 200
[ "$(field status)" = ok ] && [ "$(field status_list.version)" -gt 0 ] &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: health"; cat body.json; }

# --- Killed, restarted: nothing lost
kill -9 "$daemon_pid"; wait "$daemon_pid" 2>/dev/null; daemon_pid=
start_daemon
http "$verifier" GET "/v1/cards/$number"; expect "after a kill -9" 200
[ "$(field verdict)" = revoked ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: state lost in the kill"; cat body.json; }
http "$station" POST /v1/events "$(event key-produced-1 produced)"; expect "a retry after the restart" 200

# --- The daemon refuses unsafe or broken configurations, in words
check "plain HTTP off loopback" 1 "$registryd" --db "$db" --listen 0.0.0.0:0 --plain-http
expect_text "it says why" err.txt "loopback"
check "a TLS key that is not the certificate's" 1 "$registryd" --db "$db" --listen 127.0.0.1:0 --tls-cert tls.pem --tls-key device.key
expect_text "it names the key" err.txt "device.key"
finish
