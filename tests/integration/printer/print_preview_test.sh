#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `unioncard print preview` end to end: the PNG's size and resolution as written, the PDF's
# pages, the exit codes and messages for wrong input, and a record whose QR belongs to another
# card.
#
# usage: print_preview_test.sh UNIONCARD FIELDS.json VECTOR.json OTHER_VECTOR.json PYTHON
set -euo pipefail

unioncard=$1
fields=$2
vector=$3
other=$4
python=$5

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_RUNTIME_DIR="$work/xdg"
mkdir -m 700 "$XDG_RUNTIME_DIR"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# PNG width, height and pixels per metre, from its IHDR and pHYs chunks (PNG spec §11.2.2,
# §11.3.5.3), read here without the program's own libraries.
png_info() {
    "$python" - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
i = data.find(b"pHYs")
ppm = struct.unpack(">I", data[i + 4:i + 8])[0] if i > 0 else 0
print(w, h, ppm)
PY
}

"$unioncard" print preview --side front --fields "$fields" --out "$work/front.png" --pdf "$work/card.pdf" \
    >"$work/out.txt" 2>"$work/err.txt" || fail "preview failed: $(cat "$work/err.txt")"
read -r w h ppm < <(png_info "$work/front.png")
# 85.60 x 53.98 mm at 300 dpi: round(1011.02) x round(637.56); 300 dpi = 11811 dots per metre.
[ "$w" = 1011 ] && [ "$h" = 638 ] || fail "front is ${w}x${h}, expected 1011x638"
[ "$ppm" = 11811 ] || fail "front's pHYs is $ppm dots per metre, expected 11811"
head -c 5 "$work/card.pdf" | grep -q '%PDF-' || fail "--pdf did not write a PDF"

"$unioncard" --json print preview --fields "$fields" --out "$work/both.png" >"$work/both.json"
read -r w h _ < <(png_info "$work/both.png")
[ "$w" = 1059 ] && [ "$h" = 1348 ] || fail "the two-face preview is ${w}x${h}"
"$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["warnings"]==[], d' \
    "$work/both.json" || fail "unexpected answer: $(cat "$work/both.json")"

# The QR from a record file: allowed for the record's own card, refused for another card's.
"$python" -c 'import json,sys; sys.stdout.buffer.write(bytes.fromhex(json.load(open(sys.argv[1]))["cose_sign1_hex"]))' \
    "$vector" >"$work/own.cose"
"$python" -c 'import json,sys; sys.stdout.buffer.write(bytes.fromhex(json.load(open(sys.argv[1]))["cose_sign1_hex"]))' \
    "$other" >"$work/other.cose"
"$unioncard" print preview --side back --fields "$fields" --record "$work/own.cose" \
    --out "$work/back.png" >/dev/null 2>&1 || fail "preview with the card's own record failed"
set +e
"$unioncard" print preview --fields "$fields" --record "$work/other.cose" --out "$work/x.png" \
    >/dev/null 2>"$work/err.txt"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "the record is for card" "$work/err.txt" ||
    fail "another card's record: exit $rc, $(cat "$work/err.txt")"

# Wrong fields: each refused with exit 1 and a message that names the field.
expect_refusal() {
    local name=$1 json=$2 words=$3
    printf '%s' "$json" >"$work/$name.json"
    set +e
    "$unioncard" print preview --fields "$work/$name.json" --out "$work/$name.png" \
        >/dev/null 2>"$work/$name.err"
    local rc=$?
    set -e
    [ $rc -eq 1 ] || fail "$name: exit $rc, expected 1"
    grep -q "$words" "$work/$name.err" || fail "$name: $(cat "$work/$name.err")"
    [ ! -e "$work/$name.png" ] || fail "$name: a PNG was written anyway"
}
qr=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["qr"])' "$fields")
base='"full_name":"Иванова Мария Петровна","organisation":"МБОУ СОШ № 1","region":"Тверская","qr":"'"$qr"'"'
expect_refusal check-digit '{'"$base"',"card_number":"9643230000012342","valid_until":"2031-11-30"}' "check digit"
expect_refusal date '{'"$base"',"card_number":"9643230000012341","valid_until":"2031-02-30"}' "valid_until"
expect_refusal typo '{'"$base"',"card_numbr":"9643230000012341","valid_until":"2031-11-30"}' "unknown field 'card_numbr'"
expect_refusal lowercase-qr '{'"$base"',"card_number":"9643230000012341","valid_until":"2031-11-30","qr":"uc1:abc"}' "alphanumeric"
expect_refusal not-json '{"full_name": ' "not a JSON object"

# Usage errors are exit 2.
set +e
"$unioncard" print preview --fields "$fields" >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "preview without --out: exit $rc, expected 2"

echo "PASS"
