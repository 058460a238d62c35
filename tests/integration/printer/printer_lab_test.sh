#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The card printer end to end on the card lab: the printer simulator with its contactless
# station on the lab's "Printer encoder" reader; a card fed to the station appears on that reader
# as a blank DESFire (seen by `unioncard card info` and by pcsc-tools, an independent PC/SC
# client), goes away when the card is ejected; `unioncard printer test-card` feeds, checks the
# chip through PC/SC, prints and ejects; the printed faces are PNG files named by the chip's UID.
#   printer_lab_test.sh UNIONCARD UNIONCARD_PRINTER_SIM UNIONCARD_LAB LAB_DIR
set -u
unioncard=$1 sim=$2 lab=$3 dir=$4
reader="Printer encoder"
command -v scriptor >/dev/null || { echo "SKIP: pcsc-tools is not installed" >&2; exit 77; }
work=$(mktemp -d)
simpid=
cleanup() {
    [ -n "$simpid" ] && kill "$simpid" 2>/dev/null && wait "$simpid" 2>/dev/null
    "$lab" remove "$reader" --dir "$dir" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }
expect() { # expect WHAT FILE EXTENDED-REGEX
    grep -Eq -- "$3" "$2" || { fail "$1: no \"$3\" in:"; sed 's/^/  | /' "$2"; }
}

"$sim" --listen 127.0.0.1:0 --encoder-reader "$reader" --out "$work/out" --lab "$lab" \
    --lab-dir "$dir" --cards 5 >"$work/sim.out" 2>"$work/sim.err" &
simpid=$!
for _ in $(seq 100); do
    grep -q "^listening on" "$work/sim.out" && break
    sleep 0.1
done
port=$(sed -n 's/^listening on tcp:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$work/sim.out")
[ -n "$port" ] || { echo "FAIL: the simulator did not start:"; cat "$work/sim.err"; exit 1; }
printer="tcp://127.0.0.1:$port"

# 1. By hand, in the printer's own language (bash's /dev/tcp, none of our driver): Sic takes a
# card to the contactless station (guide A5013 p. 43); its chip must be on the encoder reader.
exec 3<>"/dev/tcp/127.0.0.1/$port"
ask() { printf '\033%s\r' "$1" >&3; IFS= read -r -d $'\r' -t 60 answer <&3; echo "$answer"; }
[ "$(ask Sic)" = OK ] || fail "Sic did not answer OK"
"$unioncard" --json card info --reader "$reader" >"$work/info.json" 2>"$work/info.err" ||
    fail "unioncard card info found no card at the encoder: $(cat "$work/info.err")"
expect "card info: a blank DESFire, UID from 04" "$work/info.json" '"uid": ?"04'
expect "card info: no applications yet" "$work/info.json" '"applications": ?\[\]'
uid=$(sed -n 's/.*"uid": *"\([0-9a-fA-F]*\)".*/\1/p' "$work/info.json" | tr a-f A-F)
printf 'FF CA 00 00 00\n90 60 00 00 00\n' | timeout 10 scriptor -r "$reader 00 00" \
    >"$work/scriptor.txt" 2>&1
expect "scriptor: the same UID through pcscd" "$work/scriptor.txt" \
    "< $(echo "$uid" | sed 's/../& /g')90 00"
expect "scriptor: an NXP DESFire answers GetVersion" "$work/scriptor.txt" "< 04 01 01"
[ "$(ask Se)" = OK ] || fail "Se (eject) did not answer OK"
exec 3>&-
"$unioncard" card readers >"$work/readers.txt" 2>&1
expect "the encoder reader is empty after the eject" "$work/readers.txt" "^$reader 00 00 +no card"
[ -f "$work/out/$uid.json" ] || fail "no sidecar $uid.json for the ejected card"
expect "the sidecar says ejected" "$work/out/$uid.json" '"outcome": ?"ejected"'

# 2. The whole journey through the driver: feed, chip seen by PC/SC, print, eject.
"$unioncard" --json printer test-card --printer "$printer" --encoder-reader "$reader" \
    >"$work/test.json" 2>"$work/test.err" || fail "test-card: $(cat "$work/test.err")"
expect "test-card ejected the card" "$work/test.json" '"outcome": ?"ejected"'
expect "test-card printed 7 panels" "$work/test.json" '"panels": ?7'
uid2=$(sed -n 's/.*"uid": *"\([0-9A-F]*\)".*/\1/p' "$work/test.json")
[ -n "$uid2" ] && [ "$uid2" != "$uid" ] || fail "test-card did not report a new chip's UID"
for side in front back; do
    png="$work/out/$uid2-$side.png"
    [ -f "$png" ] && head -c 8 "$png" | od -An -tx1 | grep -q "89 50 4e 47" ||
        fail "no PNG $uid2-$side.png in --out"
done
expect "the sidecar lists the overlay panel" "$work/out/$uid2.json" '"panel": ?"o"'
"$unioncard" card readers >"$work/readers2.txt" 2>&1
expect "the encoder reader is empty after test-card" "$work/readers2.txt" "^$reader 00 00 +no card"
"$unioncard" --json printer status --printer "$printer" >"$work/status.json" 2>&1 ||
    fail "status after test-card: $(cat "$work/status.json")"
expect "two cards inserted" "$work/status.json" '"cards_inserted": ?2'

[ $failed = 0 ] && echo "printer lab: card fed to the encoder, seen through PC/SC, printed, ejected"
exit $failed
