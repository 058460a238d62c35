#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The kiosk session as an office PC runs it: deploy/kiosk/unioncard-kiosk starts a kiosk UI full
# screen in cage (headless here: wlroots' headless backend, pixman rendering), as an
# unprivileged user, and grim (a Wayland screenshot client, through wlroots' screencopy) takes
# a picture of what the screen shows. Each UI must fill the screen with its page, not a blank
# one, and end when the compositor does.
#
#   kiosk_session_test.sh KIOSK_SCRIPT STATION_UI VERIFIER_UI OUT_DIR
set -u
kiosk=$1 station_ui=$2 verifier_ui=$3 out_dir=$4
source "$(dirname "$0")/../../integration/cli_lib.sh"

for tool in cage grim setpriv; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIPPED: $tool is not installed (deploy/install-deps installs it)"
        exit 77
    fi
done
user=nobody
[ "$(id -u)" = 0 ] || user=$(id -un) # cage refuses to run as root; as a user, run as oneself
as_user() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- "$@"
    else
        "$@"
    fi
}

work=$(mktemp -d)
session=
cleanup() {
    [ -n "$session" ] && kill "$session" 2>/dev/null && wait "$session" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
mkdir -m 700 "$work/run" "$work/home"
[ "$(id -u)" = 0 ] && chown "$user" "$work/run" "$work/home"
mkdir -p "$out_dir"

# session NAME PROGRAM [OPTION...]: starts the session, waits for a picture that is not blank
session_of() {
    local name=$1
    shift
    rm -f "$work/run/wayland-"*
    as_user env -i PATH="$PATH" HOME="$work/home" XDG_RUNTIME_DIR="$work/run" \
        WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 \
        UNIONCARD_CONFIG_DIR="$work/home" QT_QUICK_BACKEND=software \
        "$kiosk" "$@" >"$work/$name.log" 2>&1 &
    session=$!
    local shot=$work/run/$name.png size=0
    for _ in $(seq 1 120); do
        sleep 0.5
        kill -0 "$session" 2>/dev/null || break
        [ -S "$work/run/wayland-0" ] || continue
        as_user env XDG_RUNTIME_DIR="$work/run" WAYLAND_DISPLAY=wayland-0 grim "$shot" 2>/dev/null || continue
        size=$(stat -c %s "$shot")
        # A blank screen is a PNG of a few kilobytes; a page with text is far more.
        [ "$size" -gt 40000 ] && break
    done
    if [ "$size" -gt 40000 ]; then
        passed=$((passed + 1))
        cp "$shot" "$out_dir/$name.png"
    else
        failed=$((failed + 1))
        echo "FAIL: $name: no page on the kiosk's screen (last picture $size bytes)"
        sed 's/^/  /' "$work/$name.log"
    fi
    # The picture is of the whole output (wlroots' headless one is 1280x720: the PNG header's
    # width and height, big-endian).
    if [ -f "$shot" ] && [ "$(head -c 24 "$shot" | tail -c 8 | od -An -tu1 | tr -s ' ')" = " 0 0 5 0 0 0 2 208" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name: the screenshot is not of the 1280x720 output"
    fi
    # The kiosk UI ends with its compositor (and cage with its UI): the unit sees the session
    # end and starts it again.
    pkill -TERM -u "$user" -x cage
    for _ in $(seq 1 40); do
        kill -0 "$session" 2>/dev/null || break
        sleep 0.25
    done
    kill "$session" 2>/dev/null
    wait "$session" 2>/dev/null
    session=
    if pgrep -u "$user" -f "$(basename "$1")" >/dev/null; then
        pkill -KILL -u "$user" -f "$(basename "$1")"
        failed=$((failed + 1))
        echo "FAIL: $name: the kiosk UI outlived its compositor"
    else
        passed=$((passed + 1))
    fi
}

session_of station "$station_ui" --simulated --db "$work/home/station.db"
session_of verifier "$verifier_ui" --training
check "not a kiosk UI" 2 "$kiosk" /bin/true
finish
