#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The registry down for a whole batch, through the real rig (the lab's pcscd, the printer
# simulator, registryd): the cards are produced all the same, every status is kept in the
# station's outbox (`--json sync` says how many wait), none is lost; once the registry is back,
# sync delivers them all, and the registry holds each exactly once (a second sync sends nothing
# again). check_invariants (station_lib.sh) before and after. `status --prometheus` says what
# waits and when the last sync was, as Python's prometheus_client (the independent parser) reads
# it, with no sign-in and nothing of the members.
#   station_offline_test.sh UNIONCARD LAB LAB_DIR REGISTRYD STATION PRINTER_SIM VERIFIER PYTHON
set -u
bin=$1 lab=$2 dir=$3 registryd=$4 station=$5 sim=$6 python=$8
cards=10
work=$(mktemp -d)
cleanup() {
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

events() { # the registry's events from this station
    "$python" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM events WHERE station = '\''st-23-01'\''").fetchone()[0])' "$work/registry.db"
}

prom() { # prom NAME: the value of the sample NAME in out.txt (Prometheus' text format)
    "$python" -c 'import sys
from prometheus_client.parser import text_string_to_metric_families as parse
for f in parse(open("out.txt").read()):
    for s in f.samples:
        if s.name == sys.argv[1]: print(int(s.value))' "$1"
}

setup_union
setup_registry $cards
serve || exit 1
start_printer out --cards 500
init_station station.db
[ "$(queued station.db)" = $cards ]
ok "$cards applications queued" $?

stop_registry
check "registry down: the batch is made all the same" 0 "$station" --db station.db \
    --operator sup1 --json issue --all
tail -1 out.txt >result.json
[ "$(json_field result.json produced)" = $cards ]
ok "registry down: $cards produced" $?
expect_text "registry down: the statuses are said to wait" result.json "status(es) wait for the registry"
check "registry down: sync fails and says what waits" 1 "$station" --db station.db --operator sup1 \
    --json sync
[ "$(json_field out.txt waiting)" = $cards ]
r=$?
ok "registry down: $cards statuses wait in the outbox ($(cat out.txt))" $r
[ "$(events)" = 0 ]
ok "registry down: the registry has none yet" $?
check_invariants offline station.db out kept
check "registry down: status --prometheus, no sign-in" 0 "$station" --db station.db status --prometheus
[ "$(prom unioncard_station_outbox_waiting)" = $cards ] && [ -z "$(prom unioncard_station_last_sync_timestamp_seconds)" ] &&
    [ "$(prom unioncard_station_sync_consecutive_failures)" -ge 1 ]
ok "registry down: the metrics say $cards wait, never synced" $?
if grep -q "9643" out.txt; then false; else true; fi
ok "registry down: no card number in the metrics" $?

serve "$port" || exit 1
check "registry back: sync" 0 "$station" --db station.db --operator sup1 --json sync
[ "$(json_field out.txt delivered)" = $cards ] && [ "$(json_field out.txt waiting)" = 0 ]
r=$?
ok "registry back: $cards delivered, none waiting ($(cat out.txt))" $r
check "registry back: a second sync" 0 "$station" --db station.db --operator sup1 --json sync
[ "$(json_field out.txt delivered)" = 0 ]
ok "registry back: the second sync sends nothing again" $?
[ "$(events)" = $cards ]
ok "registry back: the registry has $cards events" $?
check_invariants back-online station.db out delivered
check "registry back: status --prometheus" 0 "$station" --db station.db status --prometheus
[ "$(prom unioncard_station_outbox_waiting)" = 0 ] &&
    [ "$(prom unioncard_station_last_sync_timestamp_seconds)" -ge "$(($(date +%s) - 600))" ]
ok "registry back: the metrics say none waits, synced just now" $?
check "registry back: status" 0 "$station" --db station.db status
expect_text "status names the last sync" out.txt "last sync"
finish
