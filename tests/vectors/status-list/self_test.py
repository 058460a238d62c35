#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Self-test of tests/integration/registry/verify_status_list.py, with no project code:

1. against the bytes printed in docs/status-list.md ("Worked example" and the delta example);
2. against the real lists stored in this folder (see README.md: made by unioncard-registryd,
   with the registry database's content written next to them as *.expect).

Part 1:
The Golomb-coded bytes (h'6560', h'80', h'6380') and the region tables are copied from the
document. To exercise the whole verifier (envelope, signer, chain, order of checks), they are
wrapped in COSE_Sign1 envelopes signed here with keys made for the run: only the envelope and
certificates come from this file, never the coding under test.

    /usr/bin/python3 tests/vectors/status-list/self_test.py
Prints one line per check and "N passed, M failed"; exit 1 if any failed.
"""

import datetime as dt
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
VERIFIER = HERE.parent.parent / "integration" / "registry" / "verify_status_list.py"
sys.path.insert(0, str(VERIFIER.parent))
import verify_status_list as vsl  # noqa: E402

STATUS_OID = "2.25.31926822762138043215239599781450107256"
STATION_OID = "2.25.266356273330680861193634627026741516127"

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{name}: {'ok' if ok else 'FAIL'}{'' if ok else ' ' + detail}")
    passed += bool(ok)
    failed += not ok


# ---- the coding alone, from the document's bytes ------------------------------------------

def decoded(*args, **kw):
    try:
        return list(vsl.decode_sequence(*args, **kw))
    except vsl.Refused as exc:
        return str(exc)


got = decoded(bytes.fromhex("6560"), 3, 4, 20, "key 10")
check("worked example: h'6560', M 3 -> positions 2, 3, 8, 15",
      got == [(p, None) for p in (2, 3, 8, 15)],
      str(got))
got = decoded(bytes.fromhex("80"), 1, 1, 4, "key 13")
check("worked example: h'80', M 1 -> suspended index 1", got == [(1, None)], str(got))
got = decoded(bytes.fromhex("6380"), 3, 3, 12, "key 10", choice_bits=True)
check("delta example: h'6380', M 3 -> (2,0) (3,1) (10,0)", got == [(2, 0), (3, 1), (10, 0)],
      str(got))


def refused(fn, code):
    try:
        list(fn())
    except vsl.Refused as exc:
        return exc.code == code
    return False


# count 5 would still decode: the padding "000" is itself a code (gap 0, M 3), see README
check("a code running past the end is refused",
      refused(lambda: vsl.decode_sequence(bytes.fromhex("6560"), 3, 6, 20, "k"), "damaged"))
check("a non-zero padding bit is refused",
      refused(lambda: vsl.decode_sequence(bytes.fromhex("6561"), 3, 4, 20, "k"), "damaged"))
check("a byte after the last code is refused",
      refused(lambda: vsl.decode_sequence(bytes.fromhex("656000"), 3, 4, 20, "k"), "damaged"))
check("a gap past the last covered position is refused",
      refused(lambda: vsl.decode_sequence(bytes.fromhex("6560"), 3, 4, 15, "k"), "damaged"))
check("fewer codes than the count says... the left-over codes are refused",
      refused(lambda: vsl.decode_sequence(bytes.fromhex("6560"), 3, 3, 20, "k"), "damaged"))
# truncated binary at a power of two (Rice, u = 0) and M = 5 (b = 3, u = 3): every remainder
for m in (2, 4, 5, 7, 8, 1000):
    b = (m - 1).bit_length()
    u = (1 << b) - m
    bits = ""
    gaps = list(range(0, 3 * m + 2))
    for g in gaps:
        q, r = divmod(g, m)
        bits += "1" * q + "0"
        if m > 1:
            bits += format(r, f"0{b - 1}b") if r < u else format(r + u, f"0{b}b")
    bits += "0" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    pos, out = -1, []
    for g in gaps:
        pos += 1 + g
        out.append(pos)
    got = decoded(data, m, len(gaps), out[-1] + 1, "k")
    got = [p for p, _ in got] if isinstance(got, list) else got
    check(f"truncated binary, M = {m}: gaps 0..{gaps[-1]} round-trip", got == out)


# ---- whole signed lists -------------------------------------------------------------------

def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_root(cn="Test union root"):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime(2026, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def raw_eku(dotted):
    # cryptography 38 cannot hold an OID arc above 2^64 - 1, so the extension goes in as DER
    oid = vsl.encode_oid(dotted)
    value = bytes([0x30, len(oid) + 2, 0x06, len(oid)]) + oid
    return x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.37"), value)


def make_signer(root_key, root_cert, oid=STATUS_OID, days=(0, 365)):
    key = ec.generate_private_key(ec.SECP256R1())
    start = dt.datetime(2026, 1, 1) + dt.timedelta(days=days[0])
    cert = (x509.CertificateBuilder().subject_name(name("status-signer"))
            .issuer_name(root_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(dt.datetime(2026, 1, 1)
                                                      + dt.timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(raw_eku(oid), critical=True)
            .sign(root_key, hashes.SHA256()))
    return key, cert


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def sign(key, cert, payload_map, kid=None):
    payload = cbor2.dumps(payload_map, canonical=True)
    kid = kid or hashlib.sha256(der(cert)).digest()[:8]
    protected = cbor2.dumps({1: -7, 4: kid}, canonical=True)
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = decode_dss_signature(key.sign(to_sign, ec.ECDSA(hashes.SHA256())))
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, sig]), canonical=True)


T0 = 1_780_000_000  # 2026-05-28, inside the signer's validity
# Every check runs as at a time of its own, never at this machine's clock, so that the test holds
# on any day: the lists made here are judged an hour after T0, the stored lists of README.md a
# day after the registry wrote them (dated 1795369710 to 1795369720, 2026-11-22).
NOW = T0 + 3600
STORED_NOW = 1_795_369_720 + 86400


def at(epoch):
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=epoch)


def worked_snapshot(cert, override=None, version=10, issued=T0):
    # "Worked example": regions 1 and 2 up to 9; key 10 h'6560' (M 3), key 13 h'80' (M 1).
    m = {1: 1, 2: 1, 3: version, 5: cbor2.CBORTag(1, issued), 6: [[1, 9], [2, 9]], 8: 4, 9: 3,
         10: bytes.fromhex("6560"), 11: 1, 12: 1, 13: bytes.fromhex("80"), 14: der(cert)}
    m.update(override or {})
    return {k: v for k, v in m.items() if v is not None}


def run(*args, now=NOW):
    p = subprocess.run([sys.executable, str(VERIFIER), "--now", str(now), *map(str, args)],
                       capture_output=True, text=True)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    root_key, root = make_root()
    skey, scert = make_signer(root_key, root)
    (tmp / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    other_key, other = make_root("Another root")
    twin_key, twin = make_root()  # same subject as the pinned root, another key
    (tmp / "other.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))

    def write(fname, data):
        (tmp / fname).write_bytes(data)
        return tmp / fname

    snap = write("snap.cose", sign(skey, scert, worked_snapshot(scert)))
    rc, out, err = run(snap, tmp / "root.pem", "1:2:revoked", "1:3:suspended", "1:8:revoked",
                       "2:5:revoked", "1:1:valid", "2:9:valid", "1:10:uncovered", "3:1:uncovered")
    check("worked example snapshot: every state as the document lists", rc == 0, err)
    rc, out, err = run(snap, tmp / "root.pem", "--print-regions")
    check("--print-regions", rc == 0 and out == "1:9,2:9", out + err)
    rc, out, err = run(snap, tmp / "root.pem", "1:2:valid")
    check("a wrong expectation fails", rc == 1 and "1:2 is revoked" in err, err)
    rc, out, err = run(snap, tmp / "other.pem")
    check("another root is refused", rc == 1 and "untrusted_signer" in err, err)

    # The delta example's list A is not the worked example; use the worked example as A and
    # the delta example's codes where they fit: base covers regions 1 and 2 (20 positions);
    # h'6380' changes positions 2 (revoked -> valid), 3 (suspended -> revoked), 10 (valid ->
    # suspended) with growth [2, 0]: region 1 up to 11 shifts region 2 by 2, so position 10 is
    # 1/10, newly covered (was valid).
    delta = {1: 1, 2: 2, 3: 11, 4: 10, 5: cbor2.CBORTag(1, T0 + 60), 6: [], 7: [2, 0], 8: 3, 9: 3,
             10: bytes.fromhex("6380")}
    d = write("delta.cose", sign(skey, scert, delta))
    rc, out, err = run(snap, tmp / "root.pem", "--delta", d, "1:2:valid", "1:3:revoked",
                       "1:10:suspended", "1:8:revoked", "2:5:revoked", "1:11:valid",
                       "1:12:uncovered")
    check("delta example applied (no certificate: the snapshot's signer)", rc == 0, err)
    rc, out, err = run(snap, tmp / "root.pem", "--delta", d, "--print-regions")
    check("--print-regions after the delta", rc == 0 and out == "1:11,2:9", out + err)
    rc, out, err = run(snap, tmp / "root.pem", "--delta", d, "--delta", d)
    check("a delta applied twice: base_mismatch", rc == 1 and "base_mismatch" in err, err)
    k2, c2 = make_signer(root_key, root)
    d2 = write("delta-rotated.cose", sign(k2, c2, delta))
    rc, out, err = run(snap, tmp / "root.pem", "--delta", d2)
    check("a delta from another signer without key 14: untrusted_signer",
          rc == 1 and "untrusted_signer" in err, err)
    d3 = write("delta-rotated-cert.cose", sign(k2, c2, {**delta, 14: der(c2)}))
    rc, out, err = run(snap, tmp / "root.pem", "--delta", d3, "1:10:suspended")
    check("a delta from a rotated signer carrying key 14", rc == 0, err)
    rc, out, err = run(snap, tmp / "root.pem", "--delta", snap)
    check("a snapshot given as a delta: wrong_kind", rc == 1 and "wrong_kind" in err, err)

    cases = [
        ("a station (record-signing) certificate: not_status_signer",
         lambda: (lambda k, c: sign(k, c, worked_snapshot(c)))(*make_signer(root_key, root,
                                                                           STATION_OID)),
         "not_status_signer"),
        ("issued before the signer's validity: untrusted_signer",
         lambda: (lambda k, c: sign(k, c, worked_snapshot(c)))(*make_signer(root_key, root,
                                                                           days=(200, 365))),
         "untrusted_signer"),
        ("a signer from another root with the same name: untrusted_signer",
         lambda: (lambda k, c: sign(k, c, worked_snapshot(c)))(*make_signer(twin_key, twin)),
         "untrusted_signer"),
        ("a signer from another root: untrusted_signer",
         lambda: (lambda k, c: sign(k, c, worked_snapshot(c)))(*make_signer(other_key, other)),
         "untrusted_signer"),
        ("kid not the certificate's: bad_signature",
         lambda: sign(skey, scert, worked_snapshot(scert), kid=b"\0" * 8), "bad_signature"),
        ("dated 11 minutes ahead: from_future",
         lambda: sign(skey, scert, worked_snapshot(scert, issued=NOW + 660)),
         "from_future"),
        ("format version 2: unsupported",
         lambda: sign(skey, scert, worked_snapshot(scert, {1: 2})), "unsupported"),
        ("an unknown key 15: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {15: 0})), "damaged"),
        ("a snapshot with key 7: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {7: []})), "damaged"),
        ("count 6 for 4 codes: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {8: 6})), "damaged"),
        ("count 3 for 4 codes: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {8: 3})), "damaged"),
        ("regions not ascending: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {6: [[2, 9], [1, 9]]})), "damaged"),
        ("region 90: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {6: [[1, 9], [90, 9]]})), "damaged"),
        ("a region cut short of the last code: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {6: [[1, 9], [2, 4]]})), "damaged"),
        ("M 0: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {9: 0})), "damaged"),
        ("suspended count 1 without keys 12-13: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {12: None, 13: None})), "damaged"),
        ("suspended index beyond the listed cards: damaged",
         lambda: sign(skey, scert, worked_snapshot(scert, {13: bytes.fromhex("f0")})),
         "damaged"),
        ("more than 100 000 000 positions: too_large",
         lambda: sign(skey, scert, worked_snapshot(scert, {6: [[r, 999_999_999]
                                                                 for r in (1, 2)]})),
         "too_large"),
    ]
    for title, make, code in cases:
        f = write("case.cose", make())
        rc, out, err = run(f, tmp / "root.pem")
        check(title, rc == 1 and f": {code}:" in err, f"rc {rc}: {err}")

    good = snap.read_bytes()
    write("trailing.cose", good + b"\0")
    rc, out, err = run(tmp / "trailing.cose", tmp / "root.pem")
    check("a byte after the COSE_Sign1: damaged", rc == 1 and "damaged" in err, err)
    still_valid = 0
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= 0x01
        try:
            vsl.load_snapshot(bytes(bad), vsl.load_root(root.public_bytes(
                serialization.Encoding.PEM)), at(NOW))
            still_valid += 1
        except vsl.Refused:
            pass
    check(f"each of {len(good)} single-bit flips is refused", still_valid == 0,
          f"{still_valid} still verify")
    rc, out, err = run(snap)
    check("usage error: exit 2", rc == 2, err)
    rc, out, err = run(snap, tmp / "root.pem", "1:2:expired")
    check("an unknown state: exit 2", rc == 2, err)
    rc, out, err = run(tmp / "missing.cose", tmp / "root.pem")
    check("a missing file: exit 2", rc == 2, err)

# ---- the stored lists from the registry (README.md) -------------------------------------

check("the worked example's M is the documented choice",
      vsl.documented_golomb_m([2, 0, 4, 6]) == 3 and vsl.documented_golomb_m([1]) == 1)

ROOT = HERE / "root-cert.pem"


def run_stored(*args):
    return run(*args, now=STORED_NOW)


CHAINS = {
    "snapshot-0": [[]],
    "snapshot-1": [["delta-0-1"]],
    "snapshot-2": [["delta-0-1", "delta-1-2"], ["delta-0-2"]],
    "snapshot-3": [["delta-0-1", "delta-1-2", "delta-2-3"], ["delta-0-2", "delta-2-3"]],
    "snapshot-4": [["delta-0-1", "delta-1-2", "delta-2-3", "delta-3-4"]],
}
for snap, chains in CHAINS.items():
    lines = (HERE / f"{snap}.expect").read_text().split()
    regions, expects = lines[0], lines[1:]
    not_valid = sum(1 for e in expects if not e.endswith(":valid"))
    rc, out, err = run_stored(HERE / f"{snap}.cose", ROOT, "--print-regions", *expects)
    check(f"{snap}: {len(expects)} cards as the database had them, regions", rc == 0
          and out == regions, f"rc {rc}: {err[:500]} {out[:200]}")
    held = vsl.load_snapshot((HERE / f"{snap}.cose").read_bytes(), vsl.load_root(
        ROOT.read_bytes()), at(STORED_NOW))
    check(f"{snap}: lists exactly the {not_valid} cards that are not valid",
          sum(1 for x in held.states if x) == not_valid)
    for chain in chains:
        if not chain:
            continue
        args = [a for d in chain for a in ("--delta", HERE / f"{d}.cose")]
        rc, out, err = run_stored(HERE / "snapshot-0.cose", ROOT, *args, "--print-regions", *expects)
        check(f"snapshot-0 + {' + '.join(chain)} gives {snap}", rc == 0 and out == regions,
              f"rc {rc}: {err[:500]}")

rc, out, err = run_stored(HERE / "snapshot-0.cose", HERE / "other-root-cert.pem")
check("stored snapshot under another root: untrusted_signer", rc == 1
      and ": untrusted_signer:" in err, err)
rc, out, err = run_stored(HERE / "snapshot-0.cose", ROOT, "--delta", HERE / "delta-1-2.cose")
check("a delta skipping a version: base_mismatch", rc == 1 and ": base_mismatch:" in err, err)
rc, out, err = run_stored(HERE / "snapshot-1.cose", ROOT, "--delta", HERE / "delta-0-1.cose")
check("a delta applied to a newer list: base_mismatch", rc == 1 and ": base_mismatch:" in err,
      err)
rc, out, err = run_stored(HERE / "snapshot-0.cose", ROOT, "--delta", HERE / "delta-0-2.cose", "--delta",
                   HERE / "delta-3-4.cose")
check("a delta after a gap in the chain: base_mismatch", rc == 1 and ": base_mismatch:" in err,
      err)
rc, out, err = run_stored(HERE / "snapshot-3.cose", ROOT, "--delta", HERE / "delta-3-4.cose")
check("the rotated signer's delta without key 14 applies to a snapshot signed by that signer",
      rc == 0, err)
rc, out, err = run_stored(HERE / "snapshot-2.cose", ROOT, "--delta", HERE / "delta-2-3.cose", "--delta",
                   HERE / "delta-3-4.cose")
check("... and to the list the rotating delta (key 14) produced", rc == 0, err)
rc, out, err = run_stored(HERE / "delta-0-1.cose", ROOT)
check("a delta given as the snapshot: wrong_kind", rc == 1 and ": wrong_kind:" in err, err)
root_obj = vsl.load_root(ROOT.read_bytes())
now = at(STORED_NOW)
for vector, base_chain in (("snapshot-3", None), ("delta-0-1", []), ("delta-2-3", ["delta-0-2"])):
    data = (HERE / f"{vector}.cose").read_bytes()
    base = None
    if base_chain is not None:
        base = vsl.load_snapshot((HERE / "snapshot-0.cose").read_bytes(), root_obj, now)
        for d in base_chain:
            base = vsl.apply_delta(base, (HERE / f"{d}.cose").read_bytes(), root_obj, now)
    accepted = []
    for i in range(len(data)):
        for cut in (False, True):
            bad = bytearray(data)
            if cut:
                bad = bad[:i]
            else:
                bad[i] ^= 0x01
            try:
                vsl.load_or_apply(base, bytes(bad), root_obj, now)
                accepted.append((i, cut))
            except vsl.Refused:
                pass
    check(f"{vector}: every single-bit flip and every truncation of its {len(data)} bytes refused",
          not accepted, str(accepted[:10]))

print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
