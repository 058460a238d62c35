#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `unioncard print ipp` against CUPS' own IPP Everywhere printer, ippeveprinter, on loopback:
# the job must arrive as a PDF of two card-size pages, and ipptool (CUPS' independent IPP
# client) must see it completed. Then the refusals: a printer without card media, a job the
# printer aborts, a printer that is not there.
#
# usage: print_ipp_test.sh UNIONCARD FIELDS.json VECTOR.json PYTHON
# Exit 77 (skipped) only when ippeveprinter or ipptool is not installed (cups-ipp-utils).
set -euo pipefail

unioncard=$1
fields=$2
vector=$3
python=$4

for tool in ippeveprinter ipptool dbus-daemon; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is not installed (deploy/install-deps: cups-ipp-utils, dbus-daemon)"
        exit 77
    fi
done

work=$(mktemp -d)
pids=()
# Qt wants a private runtime directory and says so on stderr when there is none.
export XDG_RUNTIME_DIR="$work/xdg"
mkdir -m 700 "$XDG_RUNTIME_DIR"
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for log in "$work"/*.log; do
        [ -f "$log" ] && { echo "--- $log" >&2; tail -20 "$log" >&2; }
    done
    exit 1
}

free_port() {
    "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ippeveprinter starts Avahi's client, which needs a D-Bus system bus: a private bus of our own
# (a socket in the work directory), never the machine's. No <servicedir>: the bus must answer
# "no such service" for Avahi at once instead of trying to start it (the session bus's
# activation made ippeveprinter wait for seconds).
cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$work/bus.conf" --nofork --print-address=1 \
    >"$work/dbus.addr" 2>"$work/dbus.log" &
pids+=($!)
for _ in $(seq 50); do
    [ -s "$work/dbus.addr" ] && break
    sleep 0.1
done
[ -s "$work/dbus.addr" ] || fail "the private dbus-daemon did not start"
export DBUS_SYSTEM_BUS_ADDRESS
DBUS_SYSTEM_BUS_ADDRESS=$(head -1 "$work/dbus.addr")

# A card printer: CR80 media by its PWG name (PWG 5101.1 §5), PDF accepted. ippeveprinter 2.4
# adds its own document-format-supported after the file's; clients read the first.
cat >"$work/card-printer.conf" <<'EOF'
ATTR keyword media-supported iso_id-1_53.98x85.6mm
ATTR keyword media-default iso_id-1_53.98x85.6mm
ATTR keyword media-ready iso_id-1_53.98x85.6mm
ATTR collection media-col-default {
    MEMBER collection media-size {
        MEMBER integer x-dimension 5398
        MEMBER integer y-dimension 8560
    }
    MEMBER keyword media-size-name iso_id-1_53.98x85.6mm
}
ATTR mimeMediaType document-format-supported application/pdf,application/octet-stream
ATTR text printer-make-and-model "unioncard test card printer"
EOF

# Is the printer up? One Get-Jobs through ipptool. (Get-Printer-Attributes would fail ipptool's
# own checks on the duplicate document-format-supported above.)
cat >"$work/printer-up.test" <<'EOF'
{
    NAME "The printer answers"
    OPERATION Get-Jobs
    GROUP operation-attributes-tag
    ATTR charset attributes-charset utf-8
    ATTR naturalLanguage attributes-natural-language en
    ATTR uri printer-uri $uri
    STATUS successful-ok
}
EOF

# start_printer NAME PORT ARGS...: -r off (no DNS-SD), -k (keep the spooled documents).
start_printer() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$work/$name-spool"
    ippeveprinter -p "$port" -n localhost -r off -k -d "$work/$name-spool" "$@" "$name" \
        >"$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        if ipptool -q "ipp://localhost:$port/ipp/print" "$work/printer-up.test" 2>>"$work/ipptool-up.log"; then
            return 0
        fi
        sleep 0.1
    done
    fail "ippeveprinter $name did not come up on port $port"
}

card_port=$(free_port)
start_printer card "$card_port" -a "$work/card-printer.conf" -c /bin/true
card_uri="ipp://localhost:$card_port/ipp/print"

# 1. The card is printed: job id and state from unioncard, the document from the spool.
# The QR comes from a real signed record (--record), the test vector's COSE bytes.
"$python" -c 'import json,sys; sys.stdout.buffer.write(bytes.fromhex(json.load(open(sys.argv[1]))["cose_sign1_hex"]))' \
    "$vector" >"$work/record.cose"
"$unioncard" --json print ipp --printer "$card_uri" --fields "$fields" --record "$work/record.cose" \
    >"$work/print.json" 2>"$work/print.log" || fail "print ipp failed: $(cat "$work/print.log")"
job_id=$("$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["job_state"]=="completed", d; print(d["job_id"])' \
    "$work/print.json") || fail "unexpected answer: $(cat "$work/print.json")"

shopt -s nullglob
docs=("$work"/card-spool/"$job_id"-*.pdf)
[ ${#docs[@]} -eq 1 ] || fail "the printer kept no PDF for job $job_id: $(ls "$work/card-spool")"

# The kept document: a PDF, two pages, each page's MediaBox the card's size within 0.5 pt
# (85.60 x 53.98 mm = 242.65 x 153.01 pt, landscape).
"$python" - "${docs[0]}" <<'EOF' || fail "the printed document is not a two-page CR80 PDF"
import re, sys
data = open(sys.argv[1], "rb").read()
assert data.startswith(b"%PDF-"), "not a PDF"
pages = re.findall(rb"/Type\s*/Page(?![s\w])", data)
assert len(pages) == 2, f"{len(pages)} pages"
boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", data)
assert len(boxes) == 2, f"{len(boxes)} MediaBoxes"
want_w, want_h = 85.60 / 25.4 * 72, 53.98 / 25.4 * 72
for box in boxes:
    x0, y0, x1, y1 = map(float, box)
    w, h = x1 - x0, y1 - y0
    assert abs(w - want_w) <= 0.5 and abs(h - want_h) <= 0.5, f"MediaBox {w}x{h} pt"
print(f"PDF: {len(pages)} pages, MediaBox {w:.2f} x {h:.2f} pt (card {want_w:.2f} x {want_h:.2f})")
EOF

# ipptool, CUPS' own client, asks the printer independently: the job is completed (job-state 9,
# RFC 8011 §5.3.7) and was printed on the card media.
cat >"$work/job-completed.test" <<'EOF'
{
    NAME "The card's job is completed"
    OPERATION Get-Job-Attributes
    GROUP operation-attributes-tag
    ATTR charset attributes-charset utf-8
    ATTR naturalLanguage attributes-natural-language en
    ATTR uri printer-uri $uri
    ATTR integer job-id $job_id
    ATTR name requesting-user-name $user
    STATUS successful-ok
    EXPECT job-state OF-TYPE enum IN-GROUP job-attributes-tag WITH-VALUE 9
    EXPECT document-format-supplied OF-TYPE mimeMediaType WITH-VALUE "application/pdf"
    EXPECT media OF-TYPE keyword WITH-VALUE "iso_id-1_53.98x85.6mm"
}
EOF
ipptool -t -d "job_id=$job_id" "$card_uri" "$work/job-completed.test" >"$work/ipptool.log" 2>&1 ||
    fail "ipptool does not see job $job_id completed: $(cat "$work/ipptool.log")"
echo "ipptool: job $job_id completed, application/pdf on iso_id-1_53.98x85.6mm"

# 2. A printer without card media (ippeveprinter's own defaults: letter, A4 ...): refused
# before anything is sent, with the typed code.
plain_port=$(free_port)
start_printer plain "$plain_port" -f application/pdf -c /bin/true
set +e
"$unioncard" --json print ipp --printer "ipp://localhost:$plain_port/ipp/print" --fields "$fields" \
    >"$work/plain.json" 2>"$work/plain.log"
rc=$?
set -e
[ $rc -eq 1 ] || fail "a printer without card media: exit $rc, expected 1"
grep -q '"error_code": "media_not_supported"' "$work/plain.json" ||
    fail "a printer without card media: $(cat "$work/plain.json")"
[ -z "$(ls "$work/plain-spool")" ] || fail "a job was sent to the printer without card media"
echo "no card media: refused ($(head -1 "$work/plain.log"))"

# 3. A job the printer aborts (its print command fails): job_aborted, exit 1.
abort_port=$(free_port)
start_printer abort "$abort_port" -a "$work/card-printer.conf" -c /bin/false
set +e
"$unioncard" --json print ipp --printer "ipp://localhost:$abort_port/ipp/print" \
    --fields "$fields" --timeout 30 >"$work/abort.json" 2>"$work/abort.log"
rc=$?
set -e
[ $rc -eq 1 ] || fail "an aborted job: exit $rc, expected 1"
grep -q '"error_code": "job_aborted"' "$work/abort.json" ||
    fail "an aborted job: $(cat "$work/abort.json")"
echo "aborted job: reported ($(head -1 "$work/abort.log"))"

# 4. Nobody listening: unreachable, exit 1.
dead_port=$(free_port)
set +e
"$unioncard" --json print ipp --printer "ipp://localhost:$dead_port/ipp/print" \
    --fields "$fields" >"$work/dead.json" 2>"$work/dead.log"
rc=$?
set -e
[ $rc -eq 1 ] || fail "no printer: exit $rc, expected 1"
grep -q '"error_code": "unreachable"' "$work/dead.json" || fail "no printer: $(cat "$work/dead.json")"
echo "no printer: unreachable ($(head -1 "$work/dead.log"))"

# 5. Usage: a URI that is not a printer's is exit 1 with bad_uri; a missing option is exit 2.
set +e
"$unioncard" --json print ipp --printer "http://127.0.0.1/" --fields "$fields" >"$work/bad.json" 2>/dev/null
rc=$?
"$unioncard" print ipp --fields "$fields" >/dev/null 2>&1
rc2=$?
set -e
[ $rc -eq 1 ] && grep -q '"error_code": "bad_uri"' "$work/bad.json" || fail "http:// URI: exit $rc"
[ $rc2 -eq 2 ] || fail "no --printer: exit $rc2, expected 2"

echo "PASS"
