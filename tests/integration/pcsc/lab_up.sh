#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fixture setup: start the lab, or skip loudly (exit 77) when this machine cannot run it.
#   lab_up.sh UNIONCARD_LAB DIR READERS
set -u
lab=$1 dir=$2 readers=$3
skip() { echo "SKIP: $*" >&2; exit 77; }
command -v pcscd >/dev/null || skip "pcscd is not installed (Debian package pcscd)"
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] ||
    skip "vpcd is not installed (Debian package vsmartcard-vpcd)"
unshare --net true 2>/dev/null ||
    skip "cannot create a network namespace (needs root or CAP_SYS_ADMIN); the lab keeps vpcd on loopback that way"
# A lab left over from an interrupted run of these tests is ours to stop.
"$lab" down --dir "$dir" >/dev/null 2>&1
exec "$lab" up --dir "$dir" --readers "$readers"
