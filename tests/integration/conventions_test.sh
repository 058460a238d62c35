#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every program keeps the command-line conventions (README, "The programs"): --version prints
# "PROGRAM VERSION" and exits 0, --help exits 0, wrong usage exits 2 with one line that names
# the program; the programs with a configuration file read it, take its values, let flags
# override them, and name the file and line of what is wrong.
#
#   conventions_test.sh VERSION EXAMPLES_DIR PROGRAM_PATH...
#
# EXAMPLES_DIR holds the commented examples the packages install in /etc/unioncard: each must
# be a file its programs take.
set -u
version=$1
examples=$2
shift 2
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir etc
export UNIONCARD_CONFIG_DIR=$work/etc # no file of this machine's /etc/unioncard
export QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=$work
unset UNIONCARD_STATION_DB UNIONCARD_VERIFIER_DB

for program in "$@"; do
    name=$(basename "$program")
    check "$name --version" 0 "$program" --version
    expect_text "$name --version names it" out.txt "$name $version"
    check "$name --help" 0 "$program" --help
    check "$name wrong flag" 2 "$program" --no-such-flag
    expect_text "$name names itself" err.txt "$name: "
    expect_text "$name names the flag" err.txt "--no-such-flag"
done

programs=("$@")
path_of() { # path_of NAME: the program of that name among the arguments
    local p
    for p in "${programs[@]}"; do [ "$(basename "$p")" = "$1" ] && echo "$p"; done
}
station=$(path_of unioncard-station)
verifier=$(path_of unioncard-verifier)
registryd=$(path_of unioncard-registryd)

# The station's file: its db taken (the station file it names does not exist yet: the refusal
# names it), a flag overriding it, a wrong key named with its line.
cat >etc/station.toml <<'TOML'
# the office's station
db = "from-the-file.db"

[kiosk]
lang = "en"
TOML
check "station reads station.toml" 2 "$station" queue
expect_text "station took db from the file" err.txt "from-the-file.db"
check "a flag overrides the file" 2 "$station" --db from-the-flag.db queue
expect_text "the flag's db" err.txt "from-the-flag.db"
UNIONCARD_STATION_DB=from-the-environment.db check "the environment overrides the file" 2 \
    "$station" queue
expect_text "the environment's db" err.txt "from-the-environment.db"
printf 'db = "a.db"\n\nlisten = "0.0.0.0:1"\n' >etc/station.toml
check "station: unknown key" 2 "$station" queue
expect_text "file, line and key" err.txt "station.toml:3: unknown key 'listen'"
rm etc/station.toml

# The registry's: a wrong type, and a file named with --config that is not there.
printf '# registry\nthreads = "eight"\n' >registry.toml
check "registryd: wrong type" 2 "$registryd" --config registry.toml migrate
expect_text "registryd names the line" err.txt "registry.toml:2: key 'threads' must be a whole number"
check "registryd: missing --config file" 2 "$registryd" --config nowhere.toml migrate
expect_text "registryd names the missing file" err.txt "nowhere.toml"
printf 'db = "sqlite:%s/from-file.db"\n' "$work" >etc/registry.toml
check "registryd takes db from registry.toml" 0 "$registryd" migrate
[ -f from-file.db ] && passed=$((passed + 1)) || {
    failed=$((failed + 1))
    echo "FAIL: registryd did not make the database registry.toml names"
}

# Bash completion, made by each program from its own command line.
complete_words() { # complete_words PROGRAM WORD...: the completions, one per line
    local program=$1 fn
    shift
    COMP_WORDS=("$program" "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    fn=$(complete -p "$program" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
    COMPREPLY=()
    "$fn"
    printf '%s\n' "${COMPREPLY[@]}"
}
for program in "$@"; do
    name=$(basename "$program")
    "$program" --bash-completion >completion.bash
    if bash -n completion.bash && grep -q "^complete -o default -F _${name//-/_} $name\$" completion.bash; then
        passed=$((passed + 1))
        # shellcheck disable=SC1091
        source ./completion.bash
    else
        failed=$((failed + 1))
        echo "FAIL: $name --bash-completion"
    fi
done
expect_line() { # expect_line WHAT WORD COMPLETION...
    local what=$1 want=$2
    shift 2
    if complete_words "$@" | grep -qx -- "$want"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: completion: $what (wanted $want, got: $(complete_words "$@" | tr '\n' ' '))"
    fi
}
expect_line "station's commands" sync unioncard-station ""
expect_line "a command's start" operator unioncard-station op
expect_line "a command's commands" add unioncard-station operator ""
expect_line "an option" --db unioncard-station --d
expect_line "an option after a command" --db unioncard-station queue --d
expect_line "a command's option" --role unioncard-registryd device add --r
touch here.db
expect_line "a file for an option's value" here.db unioncard-station --db h
if complete_words unioncard-registryd seed --r | grep -qx -- --role; then
    failed=$((failed + 1))
    echo "FAIL: completion: device add's --role offered for seed"
else
    passed=$((passed + 1))
fi

# The file holds settings: a table for the registry's device command (which would make every
# bare `device add` an admin) is refused, and so is a command's option at the top.
printf 'db = "sqlite:%s/from-file.db"\n\n[device.add]\nrole = "admin"\n' "$work" >etc/registry.toml
check "registryd: a command's table" 2 "$registryd" device add --id x
expect_text "registryd names the table" err.txt "registry.toml:3: section [device] cannot be in the file"
printf 'db = "a.db"\nreason = "stolen"\n' >etc/station.toml
check "station: a command's option at the top" 2 "$station" queue
expect_text "station names it" err.txt "station.toml:2: unknown key 'reason'"
# The kiosk leaves the command line's keys at the top to it, and its own table wins.
station_ui=$(path_of unioncard-station-ui)
if [ -n "$station_ui" ]; then
    printf 'db = "a.db"\noperator = "sync"\n[init]\nregion = "77"\n[kiosk]\nlang = "en"\n' \
        >etc/station.toml
    check "the kiosk: the command line's keys" 0 "$station_ui" --check-config
    expect_text "the kiosk says the file is good" out.txt "station.toml is good"
    printf '[kiosk]\nlang = "de"\n' >etc/station.toml
    check "the kiosk: its table is checked" 2 "$station_ui" --check-config
    expect_text "the kiosk names the key" err.txt "station.toml:2, key 'lang'"
    check "the kiosk: --help whatever the file holds" 0 "$station_ui" --help
fi
rm etc/station.toml etc/registry.toml

# The examples the packages install are files the programs take.
for pair in unioncard-registryd:registry unioncard-station:station unioncard-station-ui:station \
    unioncard-verifier:verifier unioncard-verifier-ui:verifier; do
    program=$(path_of "${pair%%:*}")
    [ -n "$program" ] || continue # a build without the kiosks
    check "$pair: the installed example" 0 "$program" --config "$examples/${pair#*:}.toml" \
        --check-config
done

# docs/configuration.md shows each example as it is installed.
docs=$examples/../../docs/configuration.md
for name in registry station verifier; do
    awk -v head="## $name.toml" '$0 == head { on = 1; next }
        on && /^```toml/ { inside = 1; next } inside && /^```/ { exit } inside' "$docs" >shown.toml
    if cmp -s shown.toml "$examples/$name.toml"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: docs/configuration.md does not show deploy/config/$name.toml as it is:"
        diff shown.toml "$examples/$name.toml" | sed 's/^/  /'
    fi
done

# Under systemd the service's stderr is the journal (JOURNAL_STREAM names it): each line then
# carries its syslog level, and the access log masks card numbers.
: >registry.err
stream=$(stat -c '%d:%i' registry.err)
JOURNAL_STREAM=$stream "$registryd" --db "sqlite:$work/journal.db" --listen 127.0.0.1:0 \
    --plain-http >registry.out 2>>registry.err &
daemon=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' registry.out)
    [ -n "$port" ] && break
    sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$port/v1/health"
curl -s -o /dev/null "http://127.0.0.1:$port/v1/cards/9643230000000018"
kill "$daemon"
wait "$daemon" 2>/dev/null
expect_text "journal: an access line at level info" registry.err "<6>GET /v1/health 200"
expect_text "journal: the card number masked" registry.err "<6>GET /v1/cards/****0018 401"

# The verifier's: broken TOML.
printf 'db = "v.db"\n[kiosk\n' >etc/verifier.toml
check "verifier: broken TOML" 2 "$verifier" status
expect_text "verifier names the line" err.txt "verifier.toml:2:"
rm etc/verifier.toml

finish
