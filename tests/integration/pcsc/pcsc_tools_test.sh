#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pcsc-tools, a PC/SC client that shares no code with ours, against the lab: pcsc_scan lists the
# readers and the card's ATR, scriptor sends APDUs through pcscd and gets the card's answers.
#   pcsc_tools_test.sh UNIONCARD_LAB DIR
set -u
lab=$1 dir=$2
command -v pcsc_scan >/dev/null && command -v scriptor >/dev/null ||
    { echo "SKIP: pcsc-tools is not installed (Debian package pcsc-tools)" >&2; exit 77; }
work=$(mktemp -d)
trap '"$lab" remove "Station desk" --dir "$dir" >/dev/null 2>&1; rm -rf "$work"' EXIT
failed=0
expect() { # expect NAME FILE PATTERN
    if ! grep -q -- "$3" "$2"; then
        echo "FAIL: $1: no \"$3\" in:"; sed 's/^/  | /' "$2"; failed=1
    fi
}

timeout 10 pcsc_scan -r >"$work/readers.txt" 2>&1
expect "pcsc_scan -r lists the readers" "$work/readers.txt" "Station desk 00 00"
expect "pcsc_scan -r lists the readers" "$work/readers.txt" "Verifier 00 00"

"$lab" insert "Station desk" "$work/card.image" --dir "$dir" || { echo "FAIL: insert"; exit 1; }
# -c lists the cards and exits; -t bounds it in case a version loops.
timeout 10 pcsc_scan -c -n -t 2 >"$work/cards.txt" 2>&1
expect "pcsc_scan sees the card's ATR" "$work/cards.txt" "3B 81 80 01 80 80"

# GET DATA UID (answered by the reader), DESFire GetVersion's first frame, GetApplicationIDs.
printf 'FF CA 00 00 00\n90 60 00 00 00\n90 6A 00 00 00\n' |
    timeout 10 scriptor -r "Station desk 00 00" >"$work/scriptor.txt" 2>&1
expect "scriptor: GET DATA UID answers 7 bytes from 04" "$work/scriptor.txt" "< 04 .. .. .. .. .. .. 90 00"
expect "scriptor: GetVersion names an NXP DESFire" "$work/scriptor.txt" "< 04 01 01 .. .. .. .. 91 AF"
expect "scriptor: a blank card has no applications" "$work/scriptor.txt" "< 91 00"
[ $failed = 0 ] && echo "pcsc-tools: readers, ATR and APDUs all seen"
exit $failed
