#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The registry's figures on a seeded union, over HTTPS on loopback:
#   seed time; online lookups per second and their latency percentiles under load from wrk;
#   status events ingested per second (wrk posting "produced" events); the signed status list's
#   size for the seeded union and the size of a delta after 1,000 changes.
# usage: registry_bench.sh UNIONCARD REGISTRYD [--members N] [--seconds S] [--db sqlite|PG_RIG_DIR]
# Defaults: the whole union (3.1 million members), 10 s per load run, SQLite.
set -euo pipefail
unioncard=$1 registryd=$2
shift 2
members=3100000 seconds=10 kind=sqlite
while [ $# -gt 0 ]; do
    case $1 in
    --members) members=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --db) kind=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
python=${UNIONCARD_PYTHON:-/usr/bin/python3} # Debian's, with cbor2 and cryptography
source "$here/../../integration/registry/rig_lib.sh"
command -v wrk >/dev/null || { echo "SKIP: wrk is not installed (deploy/install-deps)"; exit 77; }

work=$(mktemp -d)
daemon_pid=
trap '[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export UNIONCARD_PASSPHRASE=bench-passphrase-1
"$unioncard" keys init-root --out root --name "Bench root" >/dev/null
"$unioncard" keys issue-status-signer --root root --out status >/dev/null
make_tls
db=$(new_database "$kind" bench)

echo "== seed: $members members"
"$registryd" seed --db "$db" --members "$members"
station=$("$registryd" device add --db "$db" --id st-23-01 --role station --region 23)
merchant=$("$registryd" device add --db "$db" --id shop-01 --role merchant)
verifier=$("$registryd" device add --db "$db" --id vf-01 --role verifier)

start_registry "$registryd" --db "$db" --tls-cert tls.pem --tls-key tls.key \
    --status-key status/status-key.pem --status-cert status/status-cert.pem \
    --root-cert root/root-cert.pem --status-interval 1 --quiet --threads 8 \
    --lease-quota-station 200000 --lease-quota-region 200000 # the load run leases 2 x 100,000
daemon_pid=$registry_pid
base=https://127.0.0.1:$port
curl() { command curl -s --cacert tls-ca.pem "$@"; }

# Each region's highest serial, from the registry's own status list (no SQL here).
curl -H "Authorization: Bearer $verifier" -D headers.txt -o list.cose "$base/v1/status-list"
version=$(sed -n 's/^[Xx]-[Ss]tatus-[Ll]ist-[Vv]ersion: *\([0-9]*\).*/\1/p' headers.txt)
regions=$("$python" "$here/../../integration/registry/verify_status_list.py" list.cose \
    root/root-cert.pem --print-regions)

echo "== online lookups: wrk, 2 threads, 32 connections, ${seconds} s"
SCRIPTS=$here REGIONS=$regions TOKEN=$merchant wrk -t2 -c32 -d"${seconds}s" --latency \
    -s "$here/lookup.lua" "$base" | tee wrk-lookup.txt
echo "lookup_requests_per_second $(awk '/Requests\/sec/ {print $2}' wrk-lookup.txt)"
echo "lookup_latency_p99 $(awk '$1 == "99%" {print $2}' wrk-lookup.txt)"

echo "== status events: wrk posting 'produced' events, 2 threads, 16 connections, ${seconds} s"
lease() {
    curl -H "Authorization: Bearer $station" -H 'Content-Type: application/json' \
        --data-binary '{"region":23,"count":100000}' "$base/v1/leases" |
        "$python" -c 'import json,sys; print(json.load(sys.stdin)["first_serial"])'
}
first=$(lease)
second=$(lease)
member=$(curl -H "Authorization: Bearer $station" "$base/v1/applications?region=23&limit=1" |
    "$python" -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["member_id"])')
SCRIPTS=$here FIRSTS=$first,$second COUNT=100000 MEMBER=$member TOKEN=$station wrk -t2 -c16 -d"${seconds}s" \
    --latency -s "$here/produce.lua" "$base" | tee wrk-events.txt
if grep -q "Non-2xx" wrk-events.txt; then
    echo "some events were refused: the rate below is not one of recorded events" >&2
    exit 1
fi
echo "events_per_second $(awk '/Requests\/sec/ {print $2}' wrk-events.txt)"
echo "events_latency_p99 $(awk '$1 == "99%" {print $2}' wrk-events.txt)"

echo "== status list"
echo "status_list_bytes $(stat -c %s list.cose) (version $version)"
# Lookup time in the verifier's in-memory form, on this very list (status_list_bench beside the
# daemon, when built).
status_bench=$(dirname "$registryd")/status_list_bench
if [ -x "$status_bench" ]; then
    "$status_bench" --list list.cose --root root/root-cert.pem --benchmark_min_time=0.2
fi
# A day's changes: 1,000 cards revoked, then the delta from the list above.
"$python" - "$port" "$station" "$first" "$member" <<'PY'
# One kept-alive HTTPS connection; a card the load run did not reach is produced first, so
# exactly 1,000 revocations go in whatever the load run's rate was.
import http.client, json, ssl, sys, time
port, token, first, member = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
connection = http.client.HTTPSConnection(
    "127.0.0.1", port, context=ssl.create_default_context(cafile="tls-ca.pem"))
def luhn(body):
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - (9 if d * 2 > 9 else 0)
        total += d
    return str((10 - total % 10) % 10)
def post(kind, number):
    event = {"idempotency_key": "bench-%s-%s" % (kind, number), "kind": kind,
             "card_number": number, "member_id": member, "station": "st-23-01",
             "operator": "bench", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "card_sequence": 1}
    connection.request("POST", "/v1/events", json.dumps(event),
                       {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    answer = connection.getresponse()
    answer.read()
    return answer.status
for serial in range(first, first + 1000):
    body = "964323%09d" % serial
    number = body + luhn(body)
    status = post("revoked", number)
    if status == 409:  # not produced in the load run
        assert post("produced", number) == 201
        status = post("revoked", number)
    assert status == 201, status
PY
sleep 1.1
curl -H "Authorization: Bearer $verifier" -o delta.cose "$base/v1/status-list/delta?since=$version"
echo "status_delta_bytes_1000_changes $(stat -c %s delta.cose)"
