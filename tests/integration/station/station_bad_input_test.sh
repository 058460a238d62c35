#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input at the station, through the real rig (the lab's pcscd, the printer simulator,
# registryd):
# - a CSV with broken rows: `import` refuses the whole file and names each wrong row's line;
#   `--partial` imports the good rows; rows of another region are refused the same way;
# - a card that is not blank in the feeder (the simulator's --feeder-card: a copy of a card the
#   station produced): refused as "not blank", spoiled into the reject box, its chip untouched
#   (it still reads as the first card), the application made on a blank;
# - a card pulled off the encoder while it is encoded (--pull-after-ms): spoiled with the reason,
#   its application made again, the chip never a valid card for a verifier with the registry's
#   lists.
# check_invariants (station_lib.sh) after each.
#   station_bad_input_test.sh UNIONCARD LAB LAB_DIR REGISTRYD STATION PRINTER_SIM VERIFIER PYTHON
set -u
bin=$1 lab=$2 dir=$3 registryd=$4 station=$5 sim=$6 verifier=$7 python=$8
work=$(mktemp -d)
cleanup() {
    stop_printer
    stop_registry
    for r in "Printer encoder" Verifier; do
        "$lab" remove "$r" --dir "$dir" >/dev/null 2>&1
    done
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

# --- A CSV with broken rows, into a station of its own (nothing from it is issued here).
init_station csv.db
before=$(queued csv.db)
cat >broken.csv <<'CSV'
member_id,full_name,region,organisation_code,consent
M-23-9000001,Иванова Мария Петровна,23,2300001,да
M-23-9000002,,23,2300001,да
M-23-9000003,Петров Пётр Петрович,23,2300001,да
M-23-9000004,Сидоров Иван Ильич,abc,2300001,да
M-23-9000005,Козлова Анна Сергеевна,23,2300001,может быть
M-23-9000006,Орлов Олег Олегович,23,2300001,нет
CSV
check "broken CSV refused whole" 1 "$station" --db csv.db --operator sup1 import broken.csv
for line in 3 5 6; do
    expect_text "broken CSV: line $line named" err.txt "line $line"
done
if grep -qE "line (2|4|7)[:,]" err.txt; then
    failed=$((failed + 1))
    echo "FAIL: a good row was named as wrong:"
    cat err.txt
else
    passed=$((passed + 1))
fi
[ "$(queued csv.db)" = "$before" ]
ok "broken CSV: nothing imported" $?
check "broken CSV --partial" 0 "$station" --db csv.db --operator sup1 import --partial broken.csv
expect_text "broken CSV --partial: the good rows" out.txt "3 application(s) imported, 3 row(s) left out"
[ "$(queued csv.db)" = $((before + 2)) ]
ok "broken CSV --partial: 2 queued (the third good row has no consent: held)" $?
cat >other-region.csv <<'CSV'
member_id,full_name,region,organisation_code,consent
M-23-9000011,Иванова Мария Петровна,23,2300001,да
M-50-9000012,Петров Пётр Петрович,50,5000001,да
CSV
check "another region's row refused whole" 1 "$station" --db csv.db --operator sup1 import other-region.csv
expect_text "another region named" err.txt "other regions than 23"
check "another region --partial" 0 "$station" --db csv.db --operator sup1 import --partial other-region.csv
[ "$(queued csv.db)" = $((before + 3)) ]
ok "another region --partial: the region's row imported" $?

# --- A card that is not blank in the feeder: a copy of a card this station produced.
check "a first card" 0 "$station" --db station.db --operator sup1 issue --batch 1
read -r first_uid first_number < <("$python" -c '
import sqlite3, sys
print(*sqlite3.connect(sys.argv[1]).execute("SELECT upper(chip_uid), card_number FROM cards WHERE state = '\''produced'\''").fetchone())' "$work/station.db")
cp "out/chips/$first_uid.desfire" personalised.desfire
stop_printer
start_printer out --cards 500 --feeder-card personalised.desfire
check "not blank: the batch goes on" 0 "$station" --db station.db --operator sup1 issue --batch 1
copy=$(sed -n 's/^card \([0-9A-F]*\) is a copy of .*/\1/p' out.sim.err | tail -1)
"$python" - "$work/station.db" "out/$copy.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
spoiled = db.execute("SELECT application_id, spoil_reason, card_fate FROM cards "
                     "WHERE state = 'spoiled'").fetchall()
assert len(spoiled) == 1, spoiled
app, reason, fate = spoiled[0]
assert "not blank" in reason and fate == "reject box", spoiled
made = db.execute("SELECT count(*) FROM cards WHERE application_id = ? AND state = 'produced'",
                  (app,)).fetchone()[0]
assert made == 1, "the application was not made on a blank"
d = json.load(open(sys.argv[2]))
assert d["outcome"] == "rejected" and not d["printed"], d
print(reason)
PY
r=$?
ok "not blank: refused, spoiled into the reject box, the application made on a blank" $r
lab_do insert Verifier "$work/out/chips/$copy.desfire"
"$bin" --json card read --reader Verifier --keys read-keys.json --trust-list trust.cose \
    --root-fingerprint "$fingerprint" >read.json 2>read.err
lab_do remove Verifier
grep -q "$first_number" read.json && grep -q '"valid"' read.json
ok "not blank: the card's chip untouched, still card $first_number" $?
check_invariants not-blank station.db out delivered

# --- A card pulled off the encoder while it is encoded. Pulled at once, the station finds no
# card or loses it mid-personalisation; a few ms later, mid read-back. Either way: spoiled.
"$verifier" --db desk.db init --desk "desk 1" --registry "https://127.0.0.1:$port" --ca tls-ca.pem \
    --token-file desk.token --root-cert root/root-cert.pem --card-keys read-keys.json >/dev/null
for delay in 0 2; do
    add_applications 1
    "$station" --db station.db --operator sup1 sync >/dev/null
    stop_printer
    start_printer out --cards 500 --pull-after-ms $delay
    check "pulled after $delay ms: the batch goes on" 0 "$station" --db station.db --operator sup1 \
        issue --all
    cp out.txt "pulled-$delay.txt"
    pulled=$(sed -n "s/^card \([0-9A-F]*\) pulled off the encoder after $delay ms.*/\1/p" out.sim.err)
    if ! grep -q "^spoiled: " "pulled-$delay.txt"; then
        if [ $delay = 0 ]; then
            failed=$((failed + 1))
            echo "FAIL: a card pulled at once was not spoiled:"
            cat "pulled-$delay.txt"
        else
            echo "note: pulled after $delay ms, the card was already encoded and checked"
        fi
        continue
    fi
    grep "^spoiled: " "pulled-$delay.txt" | sed 's/^/  /'
    [ -n "$pulled" ] && grep -q '"outcome": "rejected"' "out/$pulled.json"
    ok "pulled after $delay ms: the card ($pulled) went to the reject box" $?
    check_invariants "pulled-$delay" station.db out delivered
    sleep 1.1 # the registry's status list, once a second here
    "$verifier" --db desk.db --json sync >/dev/null
    lab_do insert Verifier "$work/out/chips/$pulled.desfire"
    "$verifier" --db desk.db --json watch --reader Verifier --once --timeout 10 >tap.json 2>tap.err
    lab_do remove Verifier
    verdict=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("verdict"))' tap.json)
    [ -n "$verdict" ] && [ "$verdict" != valid ] && [ "$verdict" != None ]
    ok "pulled after $delay ms: its chip is no valid card for a verifier: $verdict" $?
done
[ "$(queued station.db)" = 0 ]
ok "every application made" $?
finish
