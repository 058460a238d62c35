#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The station kiosk end to end on the card lab and the printer simulator (issue 8): the rig of
# tests/integration/station (a union's keys, registryd on SQLite over TLS with 8 pending
# applications of the region, the printer simulator on the lab's "Printer encoder", the station
# set up and synced, an operator with a PIN), then the Qt Quick test tests/ui/station_e2e/tst_e2e.qml offscreen
# on the REAL services (realStation): sign in, a batch of 5 through the queue page, one card
# handed over by putting its chip on the lab's "Station desk". After: the registry's export has
# exactly 5 produced statuses for the station's 5 produced cards and 1 handed_over for the card
# the station says was handed over, each once; the station's outbox is empty; the audit log
# holds.
#   station_ui_e2e_test.sh TEST_EXE QML_DIR UNIONCARD LAB LAB_DIR REGISTRYD STATION PRINTER_SIM PYTHON
set -u
# shellcheck disable=SC2034 # bin, sim: used by station_lib.sh
tests=$1 qml=$2 bin=$3 lab=$4 dir=$5 registryd=$6 station=$7 sim=$8 python=$9
work=$(mktemp -d)
cleanup() {
    stop_printer
    stop_registry
    for r in "Printer encoder" "Station desk"; do
        "$lab" remove "$r" --dir "$dir" >/dev/null 2>&1
    done
    if [ -n "${UNIONCARD_TEST_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
here=$(cd "$(dirname "$0")/../../integration" && pwd)
# shellcheck source=../../integration/cli_lib.sh
. "$here/cli_lib.sh"
# shellcheck source=../../integration/registry/rig_lib.sh
. "$here/registry/rig_lib.sh"
# shellcheck source=../../integration/station/station_lib.sh
. "$here/station/station_lib.sh"
cd "$work" || exit 1
started=$SECONDS

setup_union
setup_registry 8
serve || exit 1
start_printer out
init_station station.db
UNIONCARD_NEW_OPERATOR_PIN=258025 "$station" --db station.db --operator sup1 operator add \
    --id op1 --name "Иванова И. И." --role operator >/dev/null || { echo "FAIL: operator add"; exit 1; }
[ "$(queued station.db)" = 8 ]
ok "8 applications queued at the station" $?
"$lab" remove "Station desk" --dir "$dir" >/dev/null 2>&1 # the desk starts empty

# The kiosk, offscreen, on the real services.
UNIONCARD_STATION_DB=$work/station.db UNIONCARD_E2E_OPERATOR_ID=op1 \
    UNIONCARD_E2E_OPERATOR_PIN=258025 UNIONCARD_E2E_LAB=$lab UNIONCARD_E2E_LAB_DIR=$dir \
    UNIONCARD_E2E_PRINTER_OUT=$work/out QT_QPA_PLATFORM=offscreen QT_QUICK_BACKEND=software \
    XDG_RUNTIME_DIR=$work \
    "$tests" -input "$qml" -import qrc:/qt/qml >ui.txt 2>&1
r=$?
ok "the Qt Quick test: sign in, a batch of 5, one card handed over (exit $r)" $r
[ $r = 0 ] || sed 's/^/  /' ui.txt

# The registry: the station's 5 produced cards once each, the handed-over one once, no more.
"$registryd" export --db "$db" --out events.csv >/dev/null || echo "FAIL: registryd export"
"$python" - events.csv station.db >registry.txt 2>&1 <<'PY'
import collections, csv, sqlite3, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["station"] == "st-23-01"]
st = sqlite3.connect(f"file:{sys.argv[2]}?mode=ro", uri=True)
cards = dict(st.execute("SELECT card_number, state FROM cards"))
handed = [n for n, s in cards.items() if s == "handed_over"]
made = [n for n, s in cards.items() if s in ("produced", "handed_over")]
assert len(cards) == 5 and len(made) == 5, f"the station's cards: {cards}"
assert len(handed) == 1, f"handed over at the station: {handed}"
kinds = collections.Counter(r["kind"] for r in rows)
assert kinds == {"produced": 5, "handed_over": 1}, f"the registry's statuses: {dict(kinds)}"
keys = collections.Counter((r["kind"], r["card_number"]) for r in rows)
assert max(keys.values()) == 1, f"a status twice: {keys.most_common(2)}"
assert {n for k, n in keys if k == "produced"} == set(made), "produced: other numbers"
assert ("handed_over", handed[0]) in keys, f"handed_over is not for {handed[0]}"
waiting = st.execute("SELECT count(*) FROM registry_outbox").fetchone()[0]
assert waiting == 0, f"{waiting} statuses still in the station's outbox"
print(f"registry: 5 produced, 1 handed_over ({handed[0]}), each once")
PY
r=$?
ok "registry export: $(tail -1 registry.txt)" $r
check "audit log intact" 0 "$station" --db station.db audit verify
echo "runtime: $((SECONDS - started)) s"
finish
