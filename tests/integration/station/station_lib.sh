#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sourced by the station's integration tests (after ../cli_lib.sh and ../registry/rig_lib.sh):
# a union (keys, trust list), the registry on SQLite over TLS, the printer simulator on the card
# lab's encoder reader, and a station set up against both; then the invariants a batch must keep
# whatever happened to it (check_invariants).
#
# Needs: $bin (unioncard), $lab (unioncard-lab), $dir (the lab's folder), $registryd, $station
# (unioncard-station), $sim (unioncard-printer-sim), $python; the current folder is the test's.

# shellcheck disable=SC2154 # the sourcing test sets them
export TZ=UTC
export UNIONCARD_PASSPHRASE="station-test-passphrase"
export UNIONCARD_CARD_KEYS_PASSPHRASE=$UNIONCARD_PASSPHRASE
export UNIONCARD_OPERATOR_PIN=471147
region=23
registry_pid=
printer_pid=
pport=

lab_do() { "$lab" "$@" --dir "$dir" >/dev/null || { echo "FAIL: unioncard-lab $*"; exit 1; }; }

# ok NAME CONDITION_STATUS: counts a check made by a command's status ($? of the caller).
ok() {
    if [ "$2" = 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $1"
    fi
}

# setup_union: root, station key and certificate, trust list, status signer, card keys (and
# the verifier's read-only copy).
setup_union() {
    "$bin" keys init-root --out root >/dev/null &&
        "$bin" keys issue-station --root root --station-id st-23-01 --out station-keys \
            >/dev/null &&
        "$bin" trust-list build --root root --out trust.cose station-keys >/dev/null &&
        "$bin" keys issue-status-signer --root root --out status >/dev/null &&
        "$bin" keys init-card-keys --out card-keys.json >/dev/null &&
        "$bin" keys export-card-keys --keys card-keys.json --roles record-read \
            --out read-keys.json >/dev/null || { echo "FAIL: union keys"; exit 1; }
    fingerprint=$(openssl x509 -in root/root-cert.pem -noout -fingerprint -sha256 | cut -d= -f2)
    make_tls || { echo "FAIL: TLS files"; exit 1; }
}

# setup_registry N: a synthetic union (3,000 members) in which region 23 has exactly N pending
# applications with consent (add_applications tops up the seed's own), and the station's and a
# verifier desk's tokens.
setup_registry() {
    db=sqlite:$PWD/registry.db
    "$registryd" seed --db "$db" --members 3000 >/dev/null || { echo "FAIL: seed"; exit 1; }
    "$registryd" device add --db "$db" --id st-23-01 --role station --region $region \
        >station.token && chmod 600 station.token || { echo "FAIL: station device"; exit 1; }
    "$registryd" device add --db "$db" --id vf-01 --role verifier >desk.token &&
        chmod 600 desk.token || { echo "FAIL: verifier device"; exit 1; }
    add_applications "$1" total
}

# add_applications N [total]: N more pending applications of region 23 in the registry (or, with
# "total", as many as make N pending), imported as a CSV through registryd, for members of the
# region who have none yet.
add_applications() {
    "$python" - "$PWD/registry.db" "$1" $region "${2:-more}" >applications.csv <<'PY' ||
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
want, region, mode = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
have = db.execute("SELECT count(*) FROM applications WHERE region = ? AND state = 'pending' "
                  "AND consent = 1", (region,)).fetchone()[0]
if mode == "total":
    want -= have
busy = {r[0] for r in db.execute("SELECT member_id FROM applications")}
# With the organisation's name: the registry serves an application without one as it was
# imported, and its own client then refuses the answer (organisation_name must not be empty).
members = [m for m in db.execute("SELECT m.id, m.full_name, m.organisation_code, o.name "
                                 "FROM members m JOIN organisations o ON o.code = "
                                 "m.organisation_code WHERE m.region = ? AND m.consent = 1 "
                                 "ORDER BY m.id", (region,))
           if m[0] not in busy]
if want < 0 or want > len(members):
    sys.exit(f"cannot add {want} applications: {have} pending, {len(members)} members free")
out = csv.writer(sys.stdout, lineterminator="\r\n")
out.writerow(["member_id", "full_name", "region", "organisation_code", "organisation_name",
              "consent"])
for m in members[:want]:
    out.writerow([m[0], m[1], region, m[2], m[3], "да"])
PY
        { echo "FAIL: applications CSV"; cat applications.csv; exit 1; }
    [ "$(wc -l <applications.csv)" -gt 1 ] || return 0
    "$registryd" import --db "$db" applications.csv >/dev/null ||
        { echo "FAIL: registryd import"; exit 1; }
}

# serve [PORT]: the registry on 127.0.0.1 (PORT, or one it picks), with its status list.
serve() {
    local listen=()
    [ $# -ge 1 ] && listen=(--listen "127.0.0.1:$1")
    if [ ${#listen[@]} -gt 0 ]; then
        "$registryd" "${listen[@]}" --db "$db" --tls-cert tls.pem --tls-key tls.key \
            --status-key status/status-key.pem --status-cert status/status-cert.pem \
            --root-cert root/root-cert.pem --status-interval 1 --trust-list trust.cose --quiet \
            >registry.out 2>registry.err &
        registry_pid=$!
        for _ in $(seq 100); do
            grep -q "listening on" registry.out 2>/dev/null && return 0
            sleep 0.1
        done
        echo "FAIL: the registry did not start again on port $1"
        cat registry.err
        return 1
    fi
    start_registry "$registryd" --db "$db" --tls-cert tls.pem --tls-key tls.key \
        --status-key status/status-key.pem --status-cert status/status-cert.pem \
        --root-cert root/root-cert.pem --status-interval 1 --trust-list trust.cose --quiet
}
stop_registry() {
    [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
    registry_pid=
}

# start_printer OUT [SIM OPTIONS...]: the printer simulator on the lab's "Printer encoder",
# faces to OUT; on the port it had before if one was given ($pport), else a new one.
start_printer() {
    local out=$1
    shift
    "$sim" --listen "127.0.0.1:${pport:-0}" --encoder-reader "Printer encoder" --out "$out" \
        --lab "$lab" --lab-dir "$dir" "$@" >"$out.sim.out" 2>>"$out.sim.err" &
    printer_pid=$!
    local got=
    for _ in $(seq 100); do
        got=$(sed -n 's|.*listening on tcp://127.0.0.1:\([0-9]*\).*|\1|p' "$out.sim.out" 2>/dev/null)
        [ -n "$got" ] && break
        kill -0 "$printer_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$got" ] || { echo "FAIL: the printer simulator did not start"; cat "$out.sim.err"; exit 1; }
    pport=$got
}
stop_printer() {
    [ -n "$printer_pid" ] && kill "$printer_pid" 2>/dev/null && wait "$printer_pid" 2>/dev/null
    printer_pid=
}

# init_station DB: the station set up against the registry and the printer, synced.
init_station() {
    local file=$1
    "$station" --db "$file" --operator sup1 init --station-id st-23-01 --region $region \
        --region-name "Московская область" --station-keys station-keys \
        --card-keys card-keys.json --trust-list trust.cose --root-fingerprint "$fingerprint" \
        --registry "https://127.0.0.1:$port" --ca tls-ca.pem --token-file station.token \
        --printer "tcp://127.0.0.1:$pport" --encoder-reader "Printer encoder" \
        --supervisor-name "Петрова А. А." >/dev/null || { echo "FAIL: station init"; exit 1; }
    "$station" --db "$file" --operator sup1 sync >sync.txt ||
        { echo "FAIL: station sync"; cat sync.txt; exit 1; }
}

# queued DB: how many applications wait at the station.
queued() { "$station" --db "$1" --json queue | "$python" -c 'import json,sys; print(json.load(sys.stdin)["queued"])'; }

# check_invariants NAME DB OUT [REGISTRY_MUST_HAVE_ALL]: what must hold after any batch, whatever
# stopped it: every application produced (one produced card) or back in the queue; no card left
# in a production state; card numbers unique; every card that left the printer (OUT/*.json, the
# simulator's record of each) accounted for: each produced card ejected printed with both faces
# as PNG, each spoiled one with a reason and a fate, the rejected ones matching spoiled cards;
# the registry holding each of the station's statuses exactly once (when the last argument is
# "delivered", all of them: the outbox empty). Findings go to NAME.invariants.txt.
check_invariants() {
    local name=$1 file=$2 out=$3 delivered=${4:-delivered}
    if "$python" - "$file" "$out" "$PWD/registry.db" "$delivered" >"$name.invariants.txt" 2>&1 <<'PY'; then
import glob, json, os, sqlite3, sys
station_db, out, registry_db, delivered = sys.argv[1:5]
st = sqlite3.connect(f"file:{station_db}?mode=ro", uri=True)
reg = sqlite3.connect(f"file:{registry_db}?mode=ro", uri=True)
problems = []
# The station keeps the chip's UID in lower case, the simulator names a card by it in upper case.
cards = [dict(zip(("id", "app", "number", "state", "uid", "reason", "fate"), r)) for r in st.execute(
    "SELECT id, application_id, card_number, state, upper(chip_uid), spoil_reason, card_fate "
    "FROM cards")]
apps = dict(st.execute("SELECT id, state FROM applications"))
# 1. Applications: produced once, or back in the queue.
for app, state in apps.items():
    produced = [c for c in cards if c["app"] == app and c["state"] == "produced"]
    if state == "done" and len(produced) != 1:
        problems.append(f"application {app} is done with {len(produced)} produced cards")
    if state in ("queued", "held") and produced:
        problems.append(f"application {app} is {state} but has a produced card")
    if state not in ("done", "queued", "held"):
        problems.append(f"application {app} is left {state}")
# 2. No card left in production; numbers unique.
for c in cards:
    if c["state"] not in ("produced", "spoiled"):
        problems.append(f"card {c['number']} is left {c['state']}")
    if c["state"] == "spoiled" and (not c["reason"] or not c["fate"]):
        problems.append(f"spoiled card {c['number']} has no reason or fate")
numbers = [c["number"] for c in cards]
if len(numbers) != len(set(numbers)):
    problems.append("a card number was used twice")
# 3. Every physical card: the simulator's sidecar of each card that left the printer.
left = []
for f in sorted(glob.glob(os.path.join(out, "*.json"))):
    d = json.load(open(f))
    left.append(d)
ejected = {d["serial"]: d for d in left if d["outcome"] == "ejected" and d["printed"]}
others = [d for d in left if d["serial"] not in ejected]
produced = {c["uid"]: c for c in cards if c["state"] == "produced"}
for uid, c in produced.items():
    d = ejected.get(uid)
    if d is None:
        problems.append(f"produced card {c['number']} (chip {uid}) never left the printer printed")
        continue
    for side in ("front", "back"):
        if not os.path.exists(os.path.join(out, f"{uid}-{side}.png")):
            problems.append(f"produced card {c['number']}: no {side} face")
spoiled = [c for c in cards if c["state"] == "spoiled"]
spoiled_uids = {c["uid"] for c in spoiled if c["uid"]}
for uid in ejected:
    if uid in produced:
        continue
    c = next((c for c in spoiled if c["uid"] == uid), None)
    if c is None or "hopper" not in c["fate"]:
        problems.append(f"a printed card {uid} in the hopper is neither produced nor a spoiled "
                        f"card whose fate says so")
unmatched = [d for d in others if d["serial"] not in spoiled_uids]
no_uid = [c for c in spoiled if not c["uid"] and not c["fate"].startswith("not fed")]
if len(unmatched) != len(no_uid):
    problems.append(f"{len(unmatched)} rejected card(s) without a known chip, "
                    f"{len(no_uid)} spoiled card(s) without one that left the feeder: "
                    + json.dumps([d["serial"] for d in unmatched]) + " "
                    + json.dumps([(c["number"], c["fate"]) for c in no_uid], ensure_ascii=False))
for c in spoiled:
    if c["uid"] and c["uid"] not in {d["serial"] for d in left} and "not fed" not in c["fate"]:
        problems.append(f"spoiled card {c['number']} (chip {c['uid']}) never left the printer")
# 4. The registry: each status once, those the station made, none it did not.
events = {}
for kind, number in reg.execute("SELECT kind, card_number FROM events WHERE station = 'st-23-01'"):
    events[(kind, number)] = events.get((kind, number), 0) + 1
for key, n in events.items():
    if n != 1:
        problems.append(f"the registry has {key} {n} times")
want = {("produced", c["number"]) for c in cards if c["state"] == "produced"}
want |= {("spoiled", c["number"]) for c in spoiled}
waiting = {r[0] for r in st.execute("SELECT card_number FROM registry_outbox")}
extra = set(events) - want
if extra:
    problems.append(f"the registry has statuses the station did not make: {sorted(extra)}")
missing = want - set(events)
if delivered == "delivered":
    if missing or waiting:
        problems.append(f"not delivered: {sorted(missing)}; outbox {sorted(waiting)}")
else:
    lost = {k for k in missing if k[1] not in waiting}
    if lost:
        problems.append(f"statuses neither in the registry nor in the outbox: {sorted(lost)}")
print(json.dumps({"applications": len(apps), "cards": len(cards), "produced": len(produced),
                  "spoiled": len(spoiled), "left_printer": len(left),
                  "registry_events": sum(events.values())}))
for p in problems:
    print("PROBLEM:", p)
sys.exit(1 if problems else 0)
PY
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name: invariants"
        sed 's/^/  /' "$name.invariants.txt"
    fi
    check "$name: audit log intact" 0 "$station" --db "$file" audit verify
}
