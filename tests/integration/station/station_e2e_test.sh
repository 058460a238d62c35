#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The station end to end through the lab's real pcscd, the printer simulator and registryd (SQLite,
# TLS): 50 applications from the registry, `issue --all`, 50 cards produced and checked.
# On the way: the cover open at the start, a jam in the print of the first card (that card is
# spoiled, its number voided, its application made again with a new number), the ribbon running
# out after 20 cards; the batch pauses on each and resumes when the operator acts (the
# simulator's signals). After: every invariant of station_lib.sh's check_invariants, 50 produced
# and 1 spoiled events in the registry's export, chips read back on the Verifier reader by
# `unioncard card read` and by unioncard-verifier (valid; the spoiled card's chip not valid).
#   station_e2e_test.sh UNIONCARD LAB LAB_DIR REGISTRYD STATION PRINTER_SIM VERIFIER PYTHON
set -u
bin=$1 lab=$2 dir=$3 registryd=$4 station=$5 sim=$6 verifier=$7 python=$8
cards=${UNIONCARD_E2E_CARDS:-50}
work=$(mktemp -d)
issuer_pid=
cleanup() {
    [ -n "$issuer_pid" ] && kill -9 "$issuer_pid" 2>/dev/null
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
setup_registry "$cards"
serve || exit 1
start_printer out --cards 100 --cover-open --jam-at print --ribbon-out-after $((cards < 40 ? cards / 2 : 20))
init_station station.db
[ "$(queued station.db)" = "$cards" ]
ok "$cards applications queued at the station" $?

# The batch in the background; the operator answers each pause as the screen says.
started=$(date +%s.%N)
"$station" --db station.db --operator sup1 --json issue --all >issue.jsonl 2>issue.err &
issuer_pid=$!
seen=0
declare -A pauses=()
deadline=$((SECONDS + 600))
while kill -0 "$issuer_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
    mapfile -t lines < <(grep '"paused"' issue.jsonl)
    while [ "$seen" -lt "${#lines[@]}" ]; do
        fault=$("$python" -c 'import json,sys; print(json.loads(sys.argv[1])["paused"])' "${lines[$seen]}")
        pauses[$fault]=$((${pauses[$fault]:-0} + 1))
        case $fault in
        ribbon_out | feeder_empty) kill -USR2 "$printer_pid" ;; # new ribbon, cards loaded
        *) kill -USR1 "$printer_pid" ;;                        # cover closed, jam cleared
        esac
        seen=$((seen + 1))
    done
    sleep 0.2
done
if kill -0 "$issuer_pid" 2>/dev/null; then
    echo "FAIL: the batch did not finish in 600 s"
    kill -9 "$issuer_pid"
fi
wait "$issuer_pid"
status=$?
issuer_pid=
elapsed=$("$python" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$started" "$(date +%s.%N)")
echo "batch of $cards applications: $elapsed s (pauses: ${!pauses[*]})"
ok "issue --all exits 0 (got $status)" $status
tail -1 issue.jsonl >result.json
[ "$(json_field result.json produced)" = "$cards" ] && [ "$(json_field result.json spoiled)" = 1 ] &&
    [ "$(json_field result.json registry)" = delivered ]
r=$?
ok "the batch reports $cards produced, 1 spoiled, every status delivered: $(cat result.json)" $r
for fault in cover_open card_jam ribbon_out; do
    [ "${pauses[$fault]:-0}" -ge 1 ]
    ok "the batch paused for $fault and resumed" $?
done

check_invariants e2e station.db out delivered

# The spoiled card: printed half, voided; its application made again under a new number.
"$python" - "$work/station.db" "$cards" >spoiled.txt <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
produced = db.execute("SELECT count(*) FROM cards WHERE state = 'produced'").fetchone()[0]
spoiled = db.execute("SELECT application_id, card_number, spoil_reason, card_fate, chip_uid "
                     "FROM cards WHERE state = 'spoiled'").fetchall()
spoiled = [(a, n, r, f, (u or "").upper()) for a, n, r, f, u in spoiled]
assert produced == int(sys.argv[2]), f"{produced} produced"
assert len(spoiled) == 1, spoiled
app, number, reason, fate, uid = spoiled[0]
assert "printing failed" in reason, reason
again = db.execute("SELECT card_number FROM cards WHERE application_id = ? AND state = 'produced'",
                   (app,)).fetchall()
assert len(again) == 1 and again[0][0] != number, again
print(uid, number, again[0][0])
PY
r=$?
ok "the jammed card is spoiled and its application produced with a new number: $(cat spoiled.txt)" $r
read -r spoiled_uid spoiled_number remade_number <spoiled.txt

# The registry: exactly one produced event per card, the spoiled one once, nothing else.
"$registryd" export --db "$db" --out events.csv >/dev/null
"$python" - events.csv "$cards" "$spoiled_number" <<'PY'
import collections, csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
kinds = collections.Counter(r["kind"] for r in rows if r["station"] == "st-23-01")
assert kinds == {"produced": int(sys.argv[2]), "spoiled": 1}, kinds
keys = collections.Counter((r["kind"], r["card_number"]) for r in rows)
assert max(keys.values()) == 1, keys.most_common(2)
assert ("spoiled", sys.argv[3]) in keys, "the spoiled card's event"
PY
ok "registry export: $cards produced events, 1 spoiled, each once" $?

# People: an operator may not report a card lost (a final state, as at the kiosk: supervisors
# only); a supervisor unlocks an operator, and a PIN of fewer than six digits is refused.
UNIONCARD_NEW_OPERATOR_PIN=5820 check "a four-digit PIN is refused" 1 \
    "$station" --db station.db --operator sup1 operator add --id op1 --name "Иванова И. И."
expect_text "the refusal names the PIN's length" err.txt "6 to 12 digits"
UNIONCARD_NEW_OPERATOR_PIN=582046 check "operator add" 0 \
    "$station" --db station.db --operator sup1 operator add --id op1 --name "Иванова И. И."
UNIONCARD_OPERATOR_PIN=582046 check "an operator reporting a card lost (refused as for revoke: exit 2)" 2 \
    "$station" --db station.db --operator op1 lost "$remade_number"
expect_text "the refusal names the role" err.txt "supervisor"
check "operator unlock" 0 "$station" --db station.db --operator sup1 operator unlock --id op1
# Two people: the first supervisor makes the second alone (there is no other yet); from then on
# revoking, replacing and role changes need both (revoking is tried at the end).
UNIONCARD_NEW_OPERATOR_PIN=730591 check "the second supervisor" 0 \
    "$station" --db station.db --operator sup1 operator add --id sup2 --name "Орлов В. П." --role supervisor

check "operator unlock of nobody" 1 "$station" --db station.db --operator sup1 operator unlock --id op9

# Chips read back on the Verifier reader: the first and last produced, and the remade one.
mapfile -t chips < <("$python" -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT upper(chip_uid), card_number FROM cards WHERE state = '\''produced'\'' ORDER BY id").fetchall()
remade = [r for r in rows if r[1] == sys.argv[2]]
for uid, number in [rows[0], rows[-1]] + remade:
    print(uid, number)' "$work/station.db" "$remade_number")
for chip in "${chips[@]}"; do
    read -r uid number <<<"$chip"
    lab_do insert Verifier "$work/out/chips/$uid.desfire"
    "$bin" --json card read --reader Verifier --keys read-keys.json --trust-list trust.cose \
        --root-fingerprint "$fingerprint" >read.json 2>read.err
    "$python" - read.json "$number" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
text = json.dumps(d)
assert '"valid"' in text and sys.argv[2] in text, text
PY
    r=$?
    ok "chip $uid reads back as card $number, valid ($(head -c 300 read.json))" $r
    lab_do remove Verifier
done

# unioncard-verifier with the registry's lists: a produced card valid, the spoiled card's chip
# (personalised before the jam) not valid.
"$verifier" --db desk.db init --desk "desk 1" --registry "https://127.0.0.1:$port" --ca tls-ca.pem \
    --token-file desk.token --root-cert root/root-cert.pem --card-keys read-keys.json >/dev/null
sleep 1.1 # the registry builds its status list at most once a second here
check "verifier sync" 0 "$verifier" --db desk.db --json sync
tap() { # tap UID -> prints the verdict
    lab_do insert Verifier "$work/out/chips/$1.desfire"
    "$verifier" --db desk.db --json watch --reader Verifier --once --timeout 10 >tap.json 2>tap.err
    "$python" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("verdict"))' tap.json
    lab_do remove Verifier
}
read -r uid number <<<"${chips[0]}"
verdict=$(tap "$uid")
[ "$verdict" = valid ]
ok "unioncard-verifier: produced card $number is $verdict" $?
if [ -f "out/chips/$spoiled_uid.desfire" ]; then
    verdict=$(tap "$spoiled_uid")
    [ "$verdict" != valid ] && [ -n "$verdict" ]
    ok "unioncard-verifier: the spoiled card's chip ($spoiled_number) is $verdict" $?
fi

# Revoking the remade card, last (the checks above read it as valid): two supervisors.
check "a revocation by one supervisor alone" 2 \
    "$station" --db station.db --operator sup1 revoke "$remade_number" --reason "test"
expect_text "the refusal asks for the second" err.txt "second supervisor"
UNIONCARD_NEW_OPERATOR_PIN=582047 check "op1 made a supervisor by one alone" 2 \
    "$station" --db station.db --operator sup1 operator add --id op1 --name "Иванова И. И." --role supervisor
UNIONCARD_SECOND_OPERATOR_PIN=000000 check "a second supervisor with a wrong PIN" 1 \
    "$station" --db station.db --operator sup1 --second-operator sup2 revoke "$remade_number" --reason "test"
UNIONCARD_SECOND_OPERATOR_PIN=730591 check "a revocation by two" 0 \
    "$station" --db station.db --operator sup1 --second-operator sup2 revoke "$remade_number" --reason "test"
check "the audit log holds both" 0 "$station" --db station.db audit verify
# Every supervisor locked by wrong PINs (set in the file, as five wrong PINs each would): the
# station key alone unlocks a supervisor, and only then.
check "the key alone while a supervisor can sign in" 2 "$station" --db station.db operator unlock --id op1
"$python" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE operators SET locked = 1 WHERE role = ?", ("supervisor",)); c.commit()' "$work/station.db"
check "a locked supervisor cannot sign in" 2 "$station" --db station.db --operator sup1 operator unlock --id sup2
expect_text "it says why" err.txt "locked"
check "the key alone unlocks a supervisor when all are locked" 0 "$station" --db station.db operator unlock --id sup1
check "the unlocked supervisor signs in and unlocks the other" 0 \
    "$station" --db station.db --operator sup1 operator unlock --id sup2

check "report" 0 "$station" --db station.db --json report
finish
