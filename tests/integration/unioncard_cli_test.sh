#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end checks of the unioncard command line: the contract of its commands, options,
# exit codes (0 holds, 1 does not, 2 wrong usage) and --json output, and OpenSSL's view of
# the files it writes.
#   unioncard_cli_test.sh UNIONCARD PYTHON
set -u
bin=$1
python=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=cli_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/cli_lib.sh"
cd "$work"

export UNIONCARD_PASSPHRASE="integration-test-passphrase"

# --- numbers
check "number check valid" 0 "$bin" number check "9643 2300 0001 2341"
expect_text "number check says valid" out.txt "valid union card number"
check "number format" 0 "$bin" number format " 9643-2300-0001-2341 "
expect_text "number format groups" out.txt "9643 2300 0001 2341"
check "number mask" 0 "$bin" number mask "9643230000012341"
expect_text "number mask" out.txt "**** **** **** 2341"
check "number check wrong digit" 1 "$bin" number check "9643 2300 0001 2342"
expect_text "check digit message" err.txt "did you mistype a digit?"
check "number check --json" 1 "$bin" --json number check "9643 2300 0001 2342"
[ "$(json_field out.txt error_code)" = "check_digit_mismatch" ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: --json error_code"; cat out.txt; }
check "number check other prefix" 0 "$bin" --prefix 9000 number check "9000 2300 0001 2348"
check "no subcommand is wrong usage" 2 "$bin" number
check "unknown option is wrong usage" 2 "$bin" number check --frobnicate 1

# --- keys
check "init-root" 0 "$bin" keys init-root --out root --name "Test union root"
[ "$(stat -c %a root/root-key.pem)" = 600 ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: root key mode is $(stat -c %a root/root-key.pem)"; }
expect_text "root key is encrypted" root/root-key.pem "BEGIN ENCRYPTED PRIVATE KEY"
check "init-root refuses to overwrite" 1 "$bin" keys init-root --out root
check "issue-station" 0 "$bin" keys issue-station --root root --station-id st-23-01 --out st1
check "issue-station bad id is wrong usage" 2 "$bin" keys issue-station --root root \
    --station-id "Station 1" --out st-bad
check "openssl verifies the station chain" 0 openssl verify -x509_strict -CAfile root/root-cert.pem \
    st1/station-cert.pem
check "openssl opens the encrypted key" 0 openssl pkey -in st1/station-key.pem \
    -passin env:UNIONCARD_PASSPHRASE -noout
check "openssl sees the record-signing usage" 0 openssl x509 -in st1/station-cert.pem -noout -ext \
    extendedKeyUsage
expect_text "extended key usage" out.txt "2.25.266356273330680861193634627026741516127"
UNIONCARD_ROOT_PASSPHRASE=wrong-root-passphrase check "wrong root passphrase" 1 \
    "$bin" keys issue-station --root root --station-id st-23-02 --out st2
expect_text "wrong passphrase named" err.txt "passphrase does not open"
[ ! -e st2/station-key.pem ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: a key was written after a refusal"; }
check "no passphrase and no terminal" 1 env -u UNIONCARD_PASSPHRASE setsid -w "$bin" keys \
    init-root --out root2
expect_text "no passphrase named" err.txt "UNIONCARD_PASSPHRASE"
check "short new passphrase" 1 env UNIONCARD_PASSPHRASE=short "$bin" keys init-root --out root3

# --- trust list and records
check "trust-list build" 0 "$bin" trust-list build --root root --out trust.cose st1
# What the union withdraws before its time: stolen card key versions, a stolen status signer.
check "issue-status-signer" 0 "$bin" keys issue-status-signer --root root --out status1
check "trust-list with withdrawals" 0 "$bin" --json trust-list build --root root \
    --out withdrawn.cose --retire-card-keys 1 --withdraw-status-signer status1/status-cert.pem st1
expect_text "retired versions listed" out.txt '"retired_card_key_versions": ['
# Named by its public key's SHA-256, as openssl computes it over the SubjectPublicKeyInfo.
expect_text "withdrawn signer by its key" out.txt "$(openssl x509 -in status1/status-cert.pem \
    -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -c |
    sed 's/.*= //' | tr a-f A-F)"
check "a station certificate is no status signer to withdraw" 1 "$bin" trust-list build \
    --root root --out bad.cose --withdraw-status-signer st1/station-cert.pem st1
check "key version 0 is wrong usage" 2 "$bin" trust-list build --root root --out bad.cose \
    --retire-card-keys 0 st1
check "card keys of version 2" 0 "$bin" --json keys init-card-keys --out keys-v2.json \
    --key-version 2
expect_text "the version is said" out.txt '"key_version": 2'
# Issued today, on the test's clock: the station certificate made above is valid from today
# for three years, so the record holds only from the day the test runs.
issued=$(day 0) expires=$(day 1826) during=$(day 40) after=$(day 1827)
cat >fields.json <<JSON
{"card_number": "9643 2300 0001 2341", "member_id": "M-23-0004711", "region": 23,
 "organisation": 100245, "sequence": 1, "issued": "$issued", "expires": "$expires",
 "chip_uid": "04a1b2c3d4e5f6", "station_id": "st-23-01"}
JSON
check "record sign" 0 "$bin" record sign --station st1 --fields fields.json --out rec.cose
check "record verify" 0 "$bin" record verify --trust-list trust.cose --today "$during" rec.cose
expect_text "verify prints the verdict" out.txt "VALID"
expect_text "verify prints the fields" out.txt "9643 2300 0001 2341"
fp=$(openssl x509 -in root/root-cert.pem -noout -fingerprint -sha256 | cut -d= -f2)
check "verify with pinned root" 0 "$bin" --json record verify --trust-list trust.cose \
    --root-fingerprint "$fp" --today "$during" rec.cose
[ "$(json_field out.txt verdict)" = valid ] && [ "$(json_field out.txt root_pinned)" = True ] &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: pinned json"; cat out.txt; }
check "verify with another root pinned" 1 "$bin" record verify --trust-list trust.cose \
    --root-fingerprint "$(printf '00:%.0s' {1..31})00" rec.cose
check "verify expired" 1 "$bin" --json record verify --trust-list trust.cose --today "$after" rec.cose
[ "$(json_field out.txt verdict)" = expired ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: expired verdict"; cat out.txt; }
"$python" -c 'import sys; b=bytearray(open("rec.cose","rb").read()); b[40]^=1; open("bad.cose","wb").write(b)'
check "verify tampered" 1 "$bin" --json record verify --trust-list trust.cose --today "$during" bad.cose
[ "$(json_field out.txt verdict)" = bad_signature ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: tampered verdict"; cat out.txt; }
head -c 50 rec.cose >short.cose
check "verify truncated" 1 "$bin" record verify --trust-list trust.cose short.cose
expect_text "truncated named" err.txt "not_union_card"
check "record show" 0 "$bin" record show rec.cose
expect_text "show says unverified" out.txt "NOT verified"
check "show garbage" 1 "$bin" record show fields.json
check "sign with bad fields" 1 "$bin" record sign --station st1 --fields trust.cose --out x.cose
sed 's/"region": 23/"region": 24/' fields.json >bad-fields.json
check "sign with inconsistent region" 1 "$bin" record sign --station st1 --fields bad-fields.json \
    --out x.cose
expect_text "region mismatch named" err.txt "region 24 does not match"
"$python" -c 'import sys; b=bytearray(open("trust.cose","rb").read()); b[-3]^=1; open("bad-trust.cose","wb").write(b)'
check "tampered trust list" 1 "$bin" record verify --trust-list bad-trust.cose rec.cose
expect_text "trust list signature named" err.txt "signature does not verify"

# --- no secret ever reaches the output
if grep -rqF "$UNIONCARD_PASSPHRASE" ./*.txt 2>/dev/null; then
    failed=$((failed + 1))
    echo "FAIL: the passphrase appeared in output"
else
    passed=$((passed + 1))
fi

finish
