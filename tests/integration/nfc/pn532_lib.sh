#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sourced by the libnfc tests: runs `unioncard-lab pn532 IMAGE` as a coprocess and points
# libnfc at it.
#   pn532_start LAB IMAGE   starts it; sets PN532_CONNSTRING, PN532_UID (hex, no spaces) and
#                           exports LIBNFC_DEVICE (the only reader) and LIBNFC_AUTO_SCAN=false
#   pn532_stop              closes its stdin (it stops and saves the image); its exit status
# The coprocess's stdin is a pipe held by this shell, so if the test dies the emulator stops too.

pn532_start() {
    local lab=$1 image=$2
    PN532_LOG=$(mktemp)
    coproc PN532 { exec "$lab" pn532 "$image" 2>"$PN532_LOG"; }
    # The connection string is the first line; 10 s bounds a loaded machine.
    if ! read -r -t 10 PN532_CONNSTRING <&"${PN532[0]}"; then
        echo "unioncard-lab pn532 did not start:" >&2
        cat "$PN532_LOG" >&2
        return 1
    fi
    PN532_UID=$(sed -n 's/.*UID \([0-9A-F ]*\).*/\1/p' "$PN532_LOG" | head -n1 | tr -d ' ')
    export LIBNFC_DEVICE=$PN532_CONNSTRING LIBNFC_AUTO_SCAN=false
    echo "PN532 emulator: $PN532_CONNSTRING, card UID $PN532_UID"
}

pn532_stop() {
    local pid=$PN532_PID
    eval "exec ${PN532[1]}>&-"
    wait "$pid"
    local rc=$?
    cat "$PN532_LOG" >&2
    rm -f "$PN532_LOG"
    return $rc
}
