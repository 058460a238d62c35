#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sourced by the command-line tests: checks that count into $passed and $failed, each run's
# output left in out.txt and err.txt of the current folder. Needs $python (Debian's python3)
# for json_field.
passed=0
failed=0

check() { # check NAME EXPECTED_STATUS COMMAND...
    local name=$1 want=$2
    shift 2
    "$@" >out.txt 2>err.txt
    local got=$?
    if [ "$got" = "$want" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name: exit $got, expected $want"
        sed 's/^/  stdout: /' out.txt
        sed 's/^/  stderr: /' err.txt
    fi
}

expect_text() { # expect_text NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $1: '$3' not in $2:"
        sed 's/^/  /' "$2"
    fi
}

json_field() { # json_field FILE KEY -> prints the value
    "$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

day() { # day OFFSET -> the date OFFSET days from the test's clock (UTC), as YYYY-MM-DD
    # Fixtures take their dates from here, never from a calendar written into the test, so
    # that they hold on any day (CI also runs the suites under faketime at other dates).
    date -u -d "$(date -u +%F) $1 days" +%F
}

finish() { # prints the closing count and exits with the verdict
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}
