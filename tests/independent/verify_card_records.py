#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent checker for the signed card-record test vectors.

A second implementation, written from the format description only (it imports
and calls no project code), that recomputes the verdict of every vector in
tests/vectors/card-record/*.json so the C++ verifier is checked against it.

Format followed:
  * RFC 9052 section 4.2 (COSE_Sign1: tag 18, [protected bstr, unprotected map,
    payload bstr, signature bstr]) and section 4.4 (Sig_structure
    ["Signature1", body_protected, external_aad = h'', payload]).
  * RFC 9053 section 2.1 (ES256: ECDSA P-256 with SHA-256, signature = r || s,
    32 bytes each).
  * RFC 8949 section 4.2.1 (core deterministic encoding) for the payload:
    checked by decoding with cbor2 and re-encoding with canonical=True; the
    payload may only use the small integer keys 1..10, for which cbor2's
    length-first key order and the RFC 8949 bytewise order coincide.
  * RFC 8943 (tag 100: a date as a count of days since 1970-01-01).

Run with Debian's interpreter (python3-cbor2 5.4.6, python3-cryptography 38):
    /usr/bin/python3 tests/independent/verify_card_records.py [VECTOR_DIR]
    /usr/bin/python3 tests/independent/verify_card_records.py --self-test [VECTOR_DIR]
"""

import argparse
import datetime as dt
import hashlib
import io
import json
import re
import sys
from pathlib import Path

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from deterministic_cbor import EPOCH_DAY, TAG_DAYS, is_deterministic

MAX_RECORD_SIZE = 256
MAX_LIFETIME_DAYS = 3653  # expiry at most ten years (3653 days) after issue
COSE_SIGN1_TAG = 18
HDR_ALG = 1
HDR_KID = 4
ALG_ES256 = -7
KID_LEN = 8
SIG_LEN = 64

VERDICTS = ("valid", "not_yet_valid", "expired", "bad_signature",
            "unknown_issuer", "issuer_not_valid", "not_union_card")

STATION_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
DER = serialization.Encoding.DER


class NotUnionCard(Exception):
    """The bytes are not a well-formed union card record."""


class BrokenVector(Exception):
    """The vector itself is inconsistent (e.g. its trust list does not verify)."""


# --------------------------------------------------------------------------
# CBOR helpers
# --------------------------------------------------------------------------

def strict_loads(data):
    """Decode exactly one CBOR item that spans all of `data`."""
    fp = io.BytesIO(data)
    try:
        obj = cbor2.CBORDecoder(fp).decode()
    except Exception as exc:  # any decoder failure (incl. bad UTF-8, recursion)
        raise NotUnionCard(f"CBOR decode error: {exc}") from exc
    if fp.tell() != len(data):
        raise NotUnionCard(f"{len(data) - fp.tell()} trailing byte(s) after the CBOR item")
    return obj


def is_uint(v):
    return type(v) is int and v >= 0   # bool is an int subclass: exclude it


def day_number(v):
    """Value of a tag-100 date (RFC 8943) as days since 1970-01-01, or None."""
    if isinstance(v, cbor2.CBORTag):
        if v.tag == TAG_DAYS and type(v.value) is int:
            return v.value
        return None
    # a newer cbor2 may hand tag 100 back as a datetime.date
    if type(v) is dt.date:
        return (v - EPOCH_DAY).days
    return None



def cert_kid(der):
    return hashlib.sha256(der).digest()[:KID_LEN]


# --------------------------------------------------------------------------
# COSE_Sign1 (RFC 9052 section 4.2 / 4.4, RFC 9053 section 2.1)
# --------------------------------------------------------------------------

def parse_cose_sign1(data):
    """Return (protected_bstr, kid, payload, signature) or raise NotUnionCard."""
    top = strict_loads(data)
    if not isinstance(top, cbor2.CBORTag) or top.tag != COSE_SIGN1_TAG:
        raise NotUnionCard("not wrapped in CBOR tag 18 (COSE_Sign1)")
    arr = top.value
    if not isinstance(arr, list) or len(arr) != 4:
        raise NotUnionCard("COSE_Sign1 is not a 4-element array")
    protected, unprotected, payload, signature = arr
    if type(protected) is not bytes:
        raise NotUnionCard("protected header is not a bstr")
    if not isinstance(unprotected, dict) or unprotected:
        raise NotUnionCard("unprotected header is not an empty map")
    if type(payload) is not bytes:
        raise NotUnionCard("payload is not a bstr")
    if type(signature) is not bytes or len(signature) != SIG_LEN:
        raise NotUnionCard("signature is not a 64-byte bstr")
    hdr = strict_loads(protected)
    if not isinstance(hdr, dict):
        raise NotUnionCard("protected header is not a map")
    if len(hdr) != 2 or any(type(k) is not int for k in hdr) or set(hdr) != {HDR_ALG, HDR_KID}:
        raise NotUnionCard(f"protected header keys must be exactly {{1, 4}}, got {sorted(map(repr, hdr))}")
    if type(hdr[HDR_ALG]) is not int or hdr[HDR_ALG] != ALG_ES256:
        raise NotUnionCard(f"alg is {hdr[HDR_ALG]!r}, not ES256 (-7)")
    kid = hdr[HDR_KID]
    if type(kid) is not bytes or len(kid) != KID_LEN:
        raise NotUnionCard("kid is not an 8-byte bstr")
    return protected, kid, payload, signature


def sig_structure(protected, payload):
    return cbor2.dumps(["Signature1", protected, b"", payload])


def es256_verify(public_key, protected, payload, signature):
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), sig_structure(protected, payload),
                          ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def payload_bytes_if_decodable(data):
    """Best-effort extraction of the payload bstr, tagged or not (for the
    payload_hex consistency check); None if the COSE itself is undecodable."""
    try:
        top = strict_loads(data)
    except NotUnionCard:
        return None
    arr = top.value if isinstance(top, cbor2.CBORTag) else top
    if isinstance(arr, list) and len(arr) == 4 and type(arr[2]) is bytes:
        return arr[2]
    return None


# --------------------------------------------------------------------------
# Trust list
# --------------------------------------------------------------------------

def require_p256(cert, what):
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BrokenVector(f"{what} does not carry a P-256 key")
    return key


def signed_by(issuer_key, cert):
    try:
        issuer_key.verify(cert.signature, cert.tbs_certificate_bytes,
                          ec.ECDSA(cert.signature_hash_algorithm))
        return True
    except InvalidSignature:
        return False


def load_trust_list(tl_bytes, root_cert):
    """Verify the trust list; return {kid: (der, cert)} for its stations."""
    root_der = root_cert.public_bytes(DER)
    root_key = require_p256(root_cert, "root certificate")
    if not signed_by(root_key, root_cert):
        raise BrokenVector("root certificate is not self-signed")
    try:
        protected, kid, payload, signature = parse_cose_sign1(tl_bytes)
    except NotUnionCard as exc:
        raise BrokenVector(f"trust list is not a well-formed COSE_Sign1: {exc}") from exc
    if kid != cert_kid(root_der):
        raise BrokenVector("trust list kid is not SHA-256(root DER)[:8]")
    if not es256_verify(root_key, protected, payload, signature):
        raise BrokenVector("trust list signature does not verify with the root key")
    try:
        body = strict_loads(payload)
    except NotUnionCard as exc:
        raise BrokenVector(f"trust list payload: {exc}") from exc
    if not isinstance(body, dict) or any(type(k) is not int for k in body) \
            or set(body) != {1, 2, 3, 4, 5}:
        raise BrokenVector("trust list payload is not a map with exactly keys 1..5")
    if type(body[1]) is not int or body[1] != 1:
        raise BrokenVector(f"trust list version is {body[1]!r}, not 1")
    if not is_uint(body[2]):
        raise BrokenVector("trust list sequence is not a uint")
    issued = body[3]
    # cbor2 turns tag 1 into an aware datetime; the deterministic re-encoding
    # below proves its content was an unsigned integer (a float would differ)
    if not isinstance(issued, dt.datetime) or issued.timestamp() < 0 \
            or issued.timestamp() != int(issued.timestamp()):
        raise BrokenVector("trust list field 3 is not tag 1 with uint epoch seconds")
    if not is_deterministic(body, payload):
        raise BrokenVector("trust list payload does not re-encode to the same bytes "
                           "(field 3 not a uint epoch, or not deterministically encoded)")
    if body[4] != root_der:
        raise BrokenVector("root certificate in the trust list differs from root_certificate_pem (pin)")
    if not isinstance(body[5], list):
        raise BrokenVector("trust list field 5 is not an array")
    stations = {}
    for i, der in enumerate(body[5]):
        if type(der) is not bytes:
            raise BrokenVector(f"trust list station #{i} is not a bstr")
        try:
            cert = x509.load_der_x509_certificate(der)
        except Exception as exc:
            raise BrokenVector(f"trust list station #{i} is not a certificate: {exc}") from exc
        if cert.public_bytes(DER) != der:
            raise BrokenVector(f"trust list station #{i} does not round-trip as DER")
        require_p256(cert, f"trust list station #{i}")
        if not signed_by(root_key, cert):
            raise BrokenVector(f"trust list station #{i} ({cn_of(cert)}) is not signed by the root")
        k = cert_kid(der)
        if k in stations:
            raise BrokenVector(f"two trust list stations share kid {k.hex()}")
        stations[k] = (der, cert)
    return stations


def cn_of(cert):
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return cns[0].value if len(cns) == 1 else None


# --------------------------------------------------------------------------
# Payload (the card record fields)
# --------------------------------------------------------------------------

def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def day_to_date(n, what):
    try:
        return EPOCH_DAY + dt.timedelta(days=n)
    except OverflowError as exc:
        raise NotUnionCard(f"{what} date out of range") from exc


def parse_payload(payload):
    """Decode and validate the payload; return a dict of typed fields."""
    m = strict_loads(payload)
    if not is_deterministic(m, payload):
        raise NotUnionCard("payload is not deterministically encoded (RFC 8949 section 4.2.1)")
    if not isinstance(m, dict):
        raise NotUnionCard("payload is not a map")
    if any(type(k) is not int or not 1 <= k <= 10 for k in m):
        raise NotUnionCard(f"payload has keys outside 1..10: {sorted(map(repr, m))}")
    missing = {1, 2, 3, 4, 5, 6, 7, 8, 10} - set(m)
    if missing:
        raise NotUnionCard(f"payload lacks required key(s) {sorted(missing)}")

    if type(m[1]) is not int or m[1] != 1:
        raise NotUnionCard(f"version is {m[1]!r}, not 1")

    number = m[2]
    if not is_uint(number) or number >= 10 ** 16:
        raise NotUnionCard("card number is not a uint of at most 16 digits")
    digits = f"{number:016d}"
    if not digits.startswith("9643"):
        raise NotUnionCard(f"card number {digits} does not start with 9643")
    number_region = int(digits[4:6])
    if not 1 <= number_region <= 89:
        raise NotUnionCard(f"card number region {digits[4:6]} not in 01..89")
    if not luhn_ok(digits):
        raise NotUnionCard(f"card number {digits} fails the Luhn check")

    member = m[3]
    if type(member) is not str or not 1 <= len(member) <= 32 \
            or any(not 0x21 <= ord(c) <= 0x7E for c in member):
        raise NotUnionCard("member id is not 1-32 printable ASCII characters (no spaces)")

    if not is_uint(m[4]) or m[4] != number_region:
        raise NotUnionCard(f"region {m[4]!r} differs from digits 5-6 of the number ({number_region})")
    if not is_uint(m[5]) or m[5] > 0xFFFFFFFF:
        raise NotUnionCard("organisation is not a uint32")
    if not is_uint(m[6]) or not 1 <= m[6] <= 255:
        raise NotUnionCard("sequence is not in 1..255")

    issued_n, expires_n = day_number(m[7]), day_number(m[8])
    if issued_n is None or expires_n is None:
        raise NotUnionCard("issued/expires are not tag-100 day counts (RFC 8943)")
    if issued_n > expires_n:
        raise NotUnionCard("issued is after expires")
    if expires_n - issued_n > MAX_LIFETIME_DAYS:
        raise NotUnionCard(f"valid for {expires_n - issued_n} days, more than {MAX_LIFETIME_DAYS}")
    issued, expires = day_to_date(issued_n, "issued"), day_to_date(expires_n, "expires")

    chip = m.get(9)
    if 9 in m and (type(chip) is not bytes or len(chip) not in (4, 7, 10)):
        raise NotUnionCard("chip UID is not a bstr of 4, 7 or 10 bytes")

    station = m[10]
    if type(station) is not str or not STATION_ID_RE.fullmatch(station):
        raise NotUnionCard(f"station id {station!r} is not 1-32 of [a-z0-9-] without a leading '-'")

    return {"version": m[1], "card_number": digits, "member_id": member,
            "region": m[4], "organisation": m[5], "sequence": m[6],
            "issued": issued, "expires": expires, "chip_uid": chip,
            "station_id": station}


def fields_json_view(rec):
    out = {"version": rec["version"], "card_number": rec["card_number"],
           "member_id": rec["member_id"], "region": rec["region"],
           "organisation": rec["organisation"], "sequence": rec["sequence"],
           "issued": rec["issued"].isoformat(), "expires": rec["expires"].isoformat(),
           "station_id": rec["station_id"]}
    if rec["chip_uid"] is not None:
        out["chip_uid"] = rec["chip_uid"].hex()
    return out


# --------------------------------------------------------------------------
# The verdict
# --------------------------------------------------------------------------

def naive_utc(d):
    return d.replace(tzinfo=None) if d.tzinfo else d


def verify_record(record, stations, root_cert, today):
    """Return (verdict, stage, record_fields_or_None, note).

    stage: 'shape' | 'issuer' | 'signature' | 'payload' | 'later' tells how far
    the check got, which decides which consistency checks apply."""
    # (1) shape and size
    if len(record) > MAX_RECORD_SIZE:
        return "not_union_card", "shape", None, f"{len(record)} bytes > {MAX_RECORD_SIZE}"
    try:
        protected, kid, payload, signature = parse_cose_sign1(record)
    except NotUnionCard as exc:
        return "not_union_card", "shape", None, str(exc)
    # (2) issuer on the trust list
    if kid not in stations:
        return "unknown_issuer", "issuer", None, f"kid {kid.hex()} not on the trust list"
    _, station_cert = stations[kid]
    # (3) signature
    if not es256_verify(station_cert.public_key(), protected, payload, signature):
        return "bad_signature", "signature", None, "ES256 signature does not verify"
    # (4) payload
    try:
        rec = parse_payload(payload)
    except NotUnionCard as exc:
        return "not_union_card", "payload", None, str(exc)
    # (5) the payload's station id names the signer
    cn = cn_of(station_cert)
    if rec["station_id"] != cn:
        return "bad_signature", "later", rec, f"station id {rec['station_id']!r} but signer CN {cn!r}"
    # (6) signer (and root) valid on the issue date
    t = dt.datetime.combine(rec["issued"], dt.time(0, 0))
    nb = naive_utc(station_cert.not_valid_before)
    if nb.date() == rec["issued"] and nb > t:
        t = nb
    for what, c in (("station", station_cert), ("root", root_cert)):
        lo, hi = naive_utc(c.not_valid_before), naive_utc(c.not_valid_after)
        if not lo <= t <= hi:
            return "issuer_not_valid", "later", rec, f"{what} certificate not valid at {t.isoformat()}Z"
    # (7) the record's own validity period
    if today < rec["issued"]:
        return "not_yet_valid", "later", rec, ""
    if today > rec["expires"]:
        return "expired", "later", rec, ""
    return "valid", "later", rec, ""


class Vector:
    def __init__(self, path):
        self.path = path
        self.name = path.stem
        d = json.loads(path.read_text(encoding="utf-8"))
        self.data = d
        self.expected = d["expected_verdict"]
        if self.expected not in VERDICTS:
            raise BrokenVector(f"unknown expected_verdict {self.expected!r}")
        self.record = bytes.fromhex(d["cose_sign1_hex"])
        self.payload_hex = d["payload_hex"]
        self.fields = d["fields"]
        self.today = dt.date.fromisoformat(d["verify_on"])
        self.cert = x509.load_pem_x509_certificate(d["certificate_pem"].encode())
        self.public_key = serialization.load_pem_public_key(d["public_key_pem"].encode())
        self.root = x509.load_pem_x509_certificate(d["root_certificate_pem"].encode())
        self.stations = load_trust_list(bytes.fromhex(d["trust_list_hex"]), self.root)
        self.size = d["size"]


SPKI = (DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_vector(vec):
    """Return (verdict, problems) where problems lists consistency failures."""
    problems = []
    verdict, stage, rec, note = verify_record(vec.record, vec.stations, vec.root, vec.today)
    if vec.public_key.public_bytes(*SPKI) != vec.cert.public_key().public_bytes(*SPKI):
        problems.append("public_key_pem is not the public key of certificate_pem")
    if vec.size != len(vec.record):
        problems.append(f"size {vec.size} but cose_sign1_hex has {len(vec.record)} bytes")
    inner = payload_bytes_if_decodable(vec.record)
    if inner is not None and inner.hex() != vec.payload_hex.lower():
        problems.append("payload_hex differs from the payload inside cose_sign1_hex")
    if stage in ("payload", "later") and vec.fields:
        if rec is None:
            problems.append(f"fields given but the payload does not parse ({note})")
        elif fields_json_view(rec) != vec.fields:
            problems.append(f"fields {vec.fields} differ from the decoded payload {fields_json_view(rec)}")
    return verdict, note, problems


def vector_paths(directory):
    paths = sorted(Path(directory).glob("*.json"))
    if not paths:
        sys.exit(f"error: no *.json vectors in {directory}")
    return paths


def run_check(directory):
    passed = failed = 0
    for path in vector_paths(directory):
        try:
            vec = Vector(path)
            verdict, note, problems = check_vector(vec)
            expected = vec.expected
        except (BrokenVector, KeyError, ValueError) as exc:
            verdict, note, problems = "error", "", [f"BROKEN VECTOR: {type(exc).__name__}: {exc}"]
            expected = "?"
            try:
                expected = json.loads(path.read_text(encoding="utf-8")).get("expected_verdict", "?")
            except Exception:
                pass
        ok = verdict == expected and not problems
        print(f"{path.stem}: {verdict} (expected {expected}) {'ok' if ok else 'MISMATCH'}")
        if not ok:
            if verdict != expected and note:
                print(f"  {path.stem}: computed {verdict}: {note}", file=sys.stderr)
            for p in problems:
                print(f"  {path.stem}: {p}", file=sys.stderr)
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def run_self_test(directory):
    """Flip each byte of the payload region of every valid vector in turn; the
    verifier must never answer 'valid' for a mutated record."""
    passed = failed = 0
    for path in vector_paths(directory):
        vec = Vector(path)
        if vec.expected != "valid":
            continue
        base, *_ = verify_record(vec.record, vec.stations, vec.root, vec.today)
        payload = bytes.fromhex(vec.payload_hex)
        start = vec.record.find(payload)
        ok = base == "valid" and start > 0 and vec.record.count(payload) == 1
        seen = {}
        if ok:
            for i in range(start, start + len(payload)):
                mutated = bytearray(vec.record)
                mutated[i] ^= 0x01
                v, *_ = verify_record(bytes(mutated), vec.stations, vec.root, vec.today)
                seen[v] = seen.get(v, 0) + 1
                if v == "valid":
                    ok = False
        summary = ", ".join(f"{k} x{n}" for k, n in sorted(seen.items()))
        print(f"{path.stem}: unmutated {base}; {len(payload)} single-byte payload flips -> "
              f"{summary or 'none'} {'ok' if ok else 'MISMATCH'}")
        passed += ok
        failed += not ok
    if passed + failed == 0:
        print("no valid vectors to mutate")
        return 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main():
    default_dir = Path(__file__).resolve().parent.parent / "vectors" / "card-record"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory", nargs="?", default=str(default_dir),
                    help="folder of card-record vector JSON files")
    ap.add_argument("--self-test", action="store_true",
                    help="mutate each valid vector and check it is no longer valid")
    args = ap.parse_args()
    return run_self_test(args.directory) if args.self_test else run_check(args.directory)


if __name__ == "__main__":
    sys.exit(main())
