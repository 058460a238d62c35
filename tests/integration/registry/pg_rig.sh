#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A throwaway PostgreSQL 15 cluster for the store's tests (Debian's postgresql-15).
#   pg_rig.sh start DIR   creates the cluster in DIR, listening on a unix socket in DIR only
#                         (listen_addresses=''), creates the database "unioncard", and writes
#                         its libpq URI to DIR/uri. Prints nothing when all goes well.
#   pg_rig.sh stop DIR    stops it and removes DIR.
# Exit 77 (ctest SKIP_RETURN_CODE) when PostgreSQL 15 is not installed.
set -euo pipefail

bin=${UNIONCARD_PG_BIN:-/usr/lib/postgresql/15/bin} # overridable, to try the skip
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: pg_rig.sh start|stop DIR" >&2
    exit 2
fi

# initdb and postgres refuse to run as root: as root, run them as the postgres user.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    as_owner=(runuser -u postgres --)
fi

case "$cmd" in
start)
    if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
        echo "SKIP: PostgreSQL 15 is not installed ($bin/initdb); install postgresql-15" >&2
        exit 77
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "SKIP: running as root and there is no postgres user to run the server as" >&2
        exit 77
    fi
    # A cluster left by an interrupted run is stopped and replaced.
    if [ -f "$dir/data/postmaster.pid" ]; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # A unix socket path is limited to 107 bytes (sockaddr_un); ".s.PGSQL.5432" adds 14.
    if [ ${#dir} -gt 92 ]; then
        echo "pg_rig.sh: $dir is too long for a unix socket path" >&2
        exit 1
    fi
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
    fi
    "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # No TCP at all; the socket (and its lock file) in DIR, so clusters of parallel builds never
    # meet. fsync off: the data is thrown away.
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    "${as_owner[@]}" "$bin/psql" -h "$dir" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE unioncard" >/dev/null
    echo "postgresql:///unioncard?host=$dir&user=postgres" >"$dir/uri"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg_rig.sh start|stop DIR" >&2
    exit 2
    ;;
esac
