#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Crash consistency of the station through the real rig (the lab's pcscd, the printer simulator,
# registryd). For each card state a batch writes (feeding, encoding, verifying, printing,
# produced, spoiled) the station kills itself with SIGKILL right after writing that state
# (UNIONCARD_STATION_CRASH_AT=STATE:N, station/src/issuer.cpp crashPoint), and is started again
# with `issue --all`, which recovers first. After each restart check_invariants (station_lib.sh):
# every application produced or back in the queue, no number used twice, every physical card
# accounted for (the simulator's record of each card that left it), every status in the registry
# exactly once. Then the printer loses power mid-print (--power-loss-at print): the station is
# killed while it waits, the printer comes back with the card still inside, and the restarted
# station's recovery sends that card to the reject box.
#   station_crash_test.sh UNIONCARD LAB LAB_DIR REGISTRYD STATION PRINTER_SIM VERIFIER PYTHON
set -u
bin=$1 lab=$2 dir=$3 registryd=$4 station=$5 sim=$6 python=$8
work=$(mktemp -d)
issuer_pid=
cleanup() {
    [ -n "$issuer_pid" ] && kill -9 "$issuer_pid" 2>/dev/null
    stop_printer
    stop_registry
    "$lab" remove "Printer encoder" --dir "$dir" >/dev/null 2>&1
    if [ -n "${UNIONCARD_TEST_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../cli_lib.sh
. "$here/cli_lib.sh"
# shellcheck source=../registry/rig_lib.sh
. "$here/registry/rig_lib.sh"
# shellcheck source=station_lib.sh
. "$here/station/station_lib.sh"
cd "$work" || exit 1

setup_union
setup_registry 3
serve || exit 1
start_printer out --cards 500
init_station station.db

# last_card STATE: whether the newest card is in STATE (the crash came right after writing it).
last_card() {
    "$python" - "$work/station.db" "$1" <<'PY'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT state, card_number FROM cards ORDER BY id DESC LIMIT 1").fetchone()
print(row)
sys.exit(0 if row and row[0] == sys.argv[2] else 1)
PY
}

for state in feeding encoding verifying printing produced spoiled; do
    add_applications 3
    "$station" --db station.db --operator sup1 sync >sync.txt ||
        { echo "FAIL: sync before $state"; cat sync.txt; }
    n=2
    if [ $state = spoiled ]; then
        # A jam in the print of the next card spoils it.
        stop_printer
        start_printer out --cards 500 --jam-at print
        n=1
    fi
    # In the background: bash says nothing of a background job's SIGKILL.
    UNIONCARD_STATION_CRASH_AT=$state:$n "$station" --db station.db --operator sup1 \
        issue --all >"crash-$state.txt" 2>&1 &
    wait $!
    status=$?
    [ $status = 137 ]
    ok "$state: the station killed itself (status $status, 137 is SIGKILL)" $?
    where=$(last_card $state)
    ok "$state: the newest card was left $state: $where" $?
    check "$state: restart, recover, finish the queue" 0 "$station" --db station.db --operator sup1 \
        issue --all
    cp out.txt "restart-$state.txt"
    case $state in
    encoding | verifying | printing)
        expect_text "$state: the card left inside was rejected on restart" "restart-$state.txt" \
            "card: reject box"
        ;;
    feeding)
        expect_text "$state: the card never fed is recorded so" "restart-$state.txt" \
            "not fed: the blank stayed in the feeder"
        ;;
    esac
    [ "$(queued station.db)" = 0 ]
    ok "$state: the queue is empty after the restart" $?
    check_invariants "crash-$state" station.db out delivered
    if [ $state = spoiled ]; then
        stop_printer
        start_printer out --cards 500
    fi
done

# Power lost in the middle of printing: the station spoils the card it was printing and waits
# for the printer; the operator restarts the station and turns the printer back on, which still
# holds the half-printed card; the station's recovery rejects it.
add_applications 2
"$station" --db station.db --operator sup1 sync >sync.txt || { echo "FAIL: sync"; cat sync.txt; }
stop_printer
start_printer out --cards 500 --power-loss-at print
sim_pid=$printer_pid
"$station" --db station.db --operator sup1 --json issue --all >power.jsonl 2>&1 &
issuer_pid=$!
for _ in $(seq 300); do
    grep -q '"paused":"offline"' power.jsonl && break
    sleep 0.1
done
expect_text "power loss: the batch waits for the printer" power.jsonl '"paused":"offline"'
wait "$sim_pid"
ok "power loss: the printer went down (status 3 is the injected power loss)" $(($? != 3))
printer_pid=
kill -9 "$issuer_pid"
wait "$issuer_pid" 2>/dev/null
issuer_pid=
inside=$(sed -n 's/^card_serial=//p' out/printer-state.txt 2>/dev/null)
[ -n "$inside" ]
ok "power loss: the printer's state keeps the card inside ($inside)" $?
start_printer out --cards 500
check "power loss: restart, recover, finish the queue" 0 "$station" --db station.db \
    --operator sup1 issue --all
"$python" - "$work/station.db" "out/$inside.json" <<'PY'
import json, sqlite3, sys
d = json.load(open(sys.argv[2]))
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT state, spoil_reason FROM cards WHERE upper(chip_uid) = ?", (d["serial"],)).fetchone()
assert d["outcome"] == "rejected" and "rejected on recovery" in d["reason"], d
assert row and row[0] == "spoiled", row
PY
ok "power loss: card $inside went to the reject box on recovery, recorded spoiled" $?
check_invariants power-loss station.db out delivered
finish
