#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs service_client_test (the client and outbox against the real service over HTTPS) on a
# fresh database: usage: service_client_test.sh TEST_BINARY DB, DB "sqlite" or a pg_rig folder.
set -u
binary=$1 kind=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/rig_lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
make_tls || { echo "openssl could not make the TLS files"; exit 1; }
UNIONCARD_TEST_DB=$(new_database "$kind" client_test) || { echo "no database"; exit 1; }
export UNIONCARD_TEST_DB UNIONCARD_TEST_TLS=$work
"$binary"
