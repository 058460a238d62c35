#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sourced by the registry's integration tests: a database to test on, and TLS files made with
# openssl (the independent implementation that issues what our service and client must accept).

# new_database KIND NAME -> prints a store URL. KIND: "sqlite" (a file in the current folder)
# or the folder of a running pg_rig.sh cluster (a fresh database NAME in it).
new_database() {
    local kind=$1 name=$2
    if [ "$kind" = sqlite ]; then
        echo "sqlite:$PWD/$name.db"
        return
    fi
    local as_owner=()
    [ "$(id -u)" -eq 0 ] && as_owner=(runuser -u postgres --)
    (cd / && PGOPTIONS="-c client_min_messages=warning" "${as_owner[@]}" psql -h "$kind" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null) || return 1
    echo "postgresql:///$name?host=$kind&user=postgres"
}

# make_tls: in the current folder, tls-ca.pem (a CA of the service's own), tls.pem and tls.key
# (the service's certificate for IP 127.0.0.1), all P-256.
make_tls() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=test-tls-ca -keyout tls-ca.key -out tls-ca.pem 2>/dev/null || return 1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout tls.key -out tls.csr 2>/dev/null || return 1
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >tls.ext
    openssl x509 -req -in tls.csr -CA tls-ca.pem -CAkey tls-ca.key -CAcreateserial -days 2 \
        -extfile tls.ext -out tls.pem 2>/dev/null
}

# make_client_cert CN CA_CERT CA_KEY OUT: OUT.pem and OUT.key, a TLS client certificate. The CA
# key may be encrypted (passphrase in UNIONCARD_PASSPHRASE), as the union root's is.
make_client_cert() {
    local cn=$1 ca=$2 cakey=$3 out=$4
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
        -keyout "$out.key" -out "$out.csr" 2>/dev/null || return 1
    printf 'extendedKeyUsage=clientAuth\n' >"$out.ext"
    openssl x509 -req -in "$out.csr" -CA "$ca" -CAkey "$cakey" -passin env:UNIONCARD_PASSPHRASE \
        -CAcreateserial -days 2 -extfile "$out.ext" -out "$out.pem" 2>/dev/null
}

# start_registry REGISTRYD ARGS...: starts the service in the background with --listen
# 127.0.0.1:0 and the given arguments, output in registry.out and registry.err; sets
# registry_pid and port once it listens (or fails, showing its error).
start_registry() {
    local registryd=$1
    shift
    "$registryd" --listen 127.0.0.1:0 "$@" >registry.out 2>registry.err &
    registry_pid=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's|.*listening on https\{0,1\}://127.0.0.1:\([0-9]*\).*|\1|p' registry.out)
        [ -n "$port" ] && return 0
        kill -0 "$registry_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "the registry service did not start:" >&2
    cat registry.err >&2
    return 1
}
