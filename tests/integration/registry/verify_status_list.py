#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent verifier of the registry's signed status list and its deltas.

A second implementation, written from docs/status-list.md and docs/card-format.md only (it
calls no C++ and was written without reading the C++ encoder or decoder; it shares only the
deterministic-CBOR check with the card-record checker in tests/independent), so that a
misreading of the format cannot pass on both sides.

usage: verify_status_list.py LIST.cose ROOT_CERT.pem [--delta DELTA.cose ...] [--print-regions]
                             [EXPECT ...]

  EXPECT is REGION:SERIAL:STATE, STATE one of valid, suspended, revoked, uncovered (a serial
  beyond the region's issuedUpTo, or a region the list does not carry).
  --print-regions prints "R:TOP,R:TOP,..." (region : issuedUpTo) of the final list.
  Exit status: 0 verified (and every EXPECT holds), 1 verification failed (the reason on
  stderr, starting with the error code docs/status-list.md names), 2 wrong usage.

Format followed (section names of docs/status-list.md unless said otherwise):
  * Envelope: COSE_Sign1 (RFC 9052 section 4.2), tag 18, protected header {1: -7, 4: kid},
    empty unprotected header, signature r || s (RFC 9053 section 2.1, ES256), signed over
    Sig_structure ["Signature1", protected, h'', payload] (RFC 9052 section 4.4); kid = the
    first 8 bytes of SHA-256 of the signer certificate's DER; at most 16 MiB.
  * Payload: CBOR map in deterministic encoding (RFC 8949 section 4.2.1), keys 1..14 as in the
    "Payload" table, exactly the keys its kind has.
  * Positions, Golomb coding (unary quotient, truncated-binary remainder, MSB first, zero
    padding), the suspended subset as indexes within the listed sequence, the delta's choice
    bit after each code (table "was / bit 0 / bit 1").
  * Verification order and error codes of the "Verification" section; the signer's extended
    key usage 2.25.31926822762138043215239599781450107256 ("Signing").

Run with Debian's interpreter (python3-cbor2 5.4.6, python3-cryptography 38).
"""

import datetime as dt
import hashlib
import io
import sys
from pathlib import Path

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "independent"))
from deterministic_cbor import is_deterministic  # noqa: E402

PROG = "verify_status_list"

# docs/status-list.md, "Envelope" and "Verification"
MAX_LIST_SIZE = 16 * 1024 * 1024  # kMaxStatusListSize, 16 MiB
MAX_COVERED_POSITIONS = 100_000_000  # kMaxCoveredPositions
CLOCK_SKEW = dt.timedelta(minutes=10)  # kStatusClockSkew
MAX_CERT_SIZE = 4096  # key 14: "at most 4096 bytes"
MAX_GOLOMB_M = 2**40  # keys 9 and 12: "uint 1..2^40"
MAX_SERIAL = 999_999_999  # "serials of at most 9 digits" (card-number.md: 9-digit serial)
REGION_MIN, REGION_MAX = 1, 89  # card-number.md: regions 01-89
# cryptography 38 (Debian 12) refuses OID arcs above 2^64 - 1 and with them a certificate's whole
# extension list, so the extensions are read with the small DER reader below instead.
STATUS_SIGNING_OID = "2.25.31926822762138043215239599781450107256"
OID_BASIC_CONSTRAINTS = "2.5.29.19"  # RFC 5280 section 4.2.1.9
OID_KEY_USAGE = "2.5.29.15"  # RFC 5280 section 4.2.1.3
OID_EXT_KEY_USAGE = "2.5.29.37"  # RFC 5280 section 4.2.1.12

# RFC 9052 / RFC 9053
COSE_SIGN1_TAG = 18
HDR_ALG, HDR_KID = 1, 4
ALG_ES256 = -7
KID_LEN = 8
SIG_LEN = 64
TAG_EPOCH = 1  # RFC 8949 section 3.4.2

# Payload keys (the "Payload" table)
K_FORMAT, K_KIND, K_VERSION, K_BASE, K_ISSUED = 1, 2, 3, 4, 5
K_REGIONS, K_GROWTH, K_COUNT, K_M, K_POSITIONS = 6, 7, 8, 9, 10
K_SUSP_COUNT, K_SUSP_M, K_SUSP_POSITIONS, K_CERT = 11, 12, 13, 14
KIND_SNAPSHOT, KIND_DELTA = 1, 2

# The verifier's form: one byte per covered position (the doc's form packs 2 bits).
VALID, SUSPENDED, REVOKED = 0, 1, 2
STATE_NAMES = {VALID: "valid", SUSPENDED: "suspended", REVOKED: "revoked"}
# "Delta": the two other validities in the order valid, suspended, revoked; the bit picks one.
DELTA_CHOICE = {
    VALID: (SUSPENDED, REVOKED),
    SUSPENDED: (VALID, REVOKED),
    REVOKED: (VALID, SUSPENDED),
}

DER = serialization.Encoding.DER
_BYTE_BITS = [format(i, "08b") for i in range(256)]


class Refused(Exception):
    """Verification failed: `code` is the docs' error code, the message says what is wrong."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


class UsageError(Exception):
    pass


# --------------------------------------------------------------------------
# CBOR
# --------------------------------------------------------------------------


def strict_loads(data, what):
    """Exactly one CBOR item spanning all of `data`; any decoder failure is `damaged`."""
    fp = io.BytesIO(data)
    try:
        obj = cbor2.CBORDecoder(fp).decode()
    except Exception as exc:  # cbor2 raises various types, incl. on out-of-range dates
        raise Refused("damaged", f"{what} is not well-formed CBOR ({exc})") from exc
    if fp.tell() != len(data):
        raise Refused("damaged", f"{what} has {len(data) - fp.tell()} byte(s) after its CBOR item")
    return obj



def is_uint(v):
    return type(v) is int and v >= 0  # bool is a subclass of int: excluded


# --------------------------------------------------------------------------
# Envelope: COSE_Sign1 (RFC 9052 section 4.2 / 4.4, RFC 9053 section 2.1)
# --------------------------------------------------------------------------


class Envelope:
    def __init__(self, protected, kid, payload, signature):
        self.protected, self.kid, self.payload, self.signature = protected, kid, payload, signature


def parse_envelope(data):
    top = strict_loads(data, "the COSE_Sign1")
    if not isinstance(top, cbor2.CBORTag) or top.tag != COSE_SIGN1_TAG:
        raise Refused("damaged", "not a tagged COSE_Sign1 (CBOR tag 18)")
    arr = top.value
    if not isinstance(arr, list) or len(arr) != 4:
        raise Refused("damaged", "the COSE_Sign1 is not an array of 4 items")
    protected, unprotected, payload, signature = arr
    if type(protected) is not bytes:
        raise Refused("damaged", "the protected header is not a byte string")
    if not isinstance(unprotected, dict) or unprotected:
        raise Refused("damaged", "the unprotected header is not an empty map")
    if type(payload) is not bytes:
        raise Refused("damaged", "the payload is not a byte string")
    if type(signature) is not bytes or len(signature) != SIG_LEN:
        raise Refused("damaged", f"the signature is not {SIG_LEN} bytes (r || s)")
    if not is_deterministic(top, data):
        raise Refused("damaged", "the COSE_Sign1 is not deterministically encoded")
    hdr = strict_loads(protected, "the protected header")
    if not isinstance(hdr, dict) or set(hdr) != {HDR_ALG, HDR_KID} or len(hdr) != 2:
        raise Refused("damaged", "the protected header is not exactly {1: alg, 4: kid}")
    if not is_deterministic(hdr, protected):
        raise Refused("damaged", "the protected header is not deterministically encoded")
    if type(hdr[HDR_ALG]) is not int or hdr[HDR_ALG] != ALG_ES256:
        raise Refused("damaged", f"the algorithm is {hdr[HDR_ALG]!r}, not ES256 (-7)")
    kid = hdr[HDR_KID]
    if type(kid) is not bytes or len(kid) != KID_LEN:
        raise Refused("damaged", f"the kid is not a {KID_LEN}-byte string")
    return Envelope(protected, kid, payload, signature)


def es256_verifies(public_key, env):
    to_sign = cbor2.dumps(["Signature1", env.protected, b"", env.payload])
    r = int.from_bytes(env.signature[:32], "big")
    s = int.from_bytes(env.signature[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), to_sign, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False


def cert_kid(der):
    return hashlib.sha256(der).digest()[:KID_LEN]


# --------------------------------------------------------------------------
# Payload
# --------------------------------------------------------------------------

SNAPSHOT_KEYS = {K_FORMAT, K_KIND, K_VERSION, K_ISSUED, K_REGIONS, K_COUNT, K_SUSP_COUNT, K_CERT}
DELTA_KEYS = {K_FORMAT, K_KIND, K_VERSION, K_BASE, K_ISSUED, K_REGIONS, K_GROWTH, K_COUNT}


class Payload:
    pass


def parse_payload(raw, want_kind):
    """Decode and check the field types and key sets; the coded content is checked later
    (step 7), after the signature."""
    m = strict_loads(raw, "the payload")
    if not isinstance(m, dict) or any(type(k) is not int for k in m):
        raise Refused("damaged", "the payload is not a map with integer keys")
    if not is_deterministic(m, raw):
        raise Refused(
            "damaged", "the payload is not in deterministic encoding (RFC 8949 section 4.2.1)"
        )
    if K_FORMAT not in m:
        raise Refused("damaged", "the payload has no format version (key 1)")
    if not is_uint(m[K_FORMAT]) or m[K_FORMAT] != 1:
        raise Refused("unsupported", f"format version {m[K_FORMAT]!r}; this verifier reads 1")
    kind = m.get(K_KIND)
    if kind not in (KIND_SNAPSHOT, KIND_DELTA) or not is_uint(kind):
        raise Refused("damaged", f"kind (key 2) is {kind!r}, neither 1 (snapshot) nor 2 (delta)")
    if kind != want_kind:
        names = {KIND_SNAPSHOT: "snapshot", KIND_DELTA: "delta"}
        raise Refused("wrong_kind", f"expected a {names[want_kind]}, got a {names[kind]}")

    required = set(SNAPSHOT_KEYS if kind == KIND_SNAPSHOT else DELTA_KEYS)
    optional = set() if kind == KIND_SNAPSHOT else {K_CERT}
    count = m.get(K_COUNT)
    if not is_uint(count):
        raise Refused("damaged", "count (key 8) is not an unsigned integer")
    if count > 0:
        required |= {K_M, K_POSITIONS}
    if kind == KIND_SNAPSHOT:
        scount = m.get(K_SUSP_COUNT)
        if not is_uint(scount):
            raise Refused("damaged", "suspended count (key 11) is not an unsigned integer")
        if scount > 0:
            required |= {K_SUSP_M, K_SUSP_POSITIONS}
    missing = required - set(m)
    extra = set(m) - required - optional
    if missing:
        raise Refused("damaged", f"the payload lacks key(s) {sorted(missing)}")
    if extra:
        raise Refused("damaged", f"the payload has key(s) {sorted(extra)} this kind does not have")

    p = Payload()
    p.kind = kind
    p.count = count
    for key, attr in ((K_VERSION, "version"), (K_BASE, "base")):
        if key in m:
            if not is_uint(m[key]):
                raise Refused("damaged", f"key {key} is not an unsigned integer")
            setattr(p, attr, m[key])
    issued = m[K_ISSUED]
    # cbor2 turns tag 1 into an aware datetime; the deterministic re-encoding above proved its
    # content was an integer (a float or a string would not re-encode to the same bytes).
    if not isinstance(issued, dt.datetime) or issued.timestamp() < 0:
        raise Refused("damaged", "issued at (key 5) is not tag 1 with unsigned epoch seconds")
    p.issued_at = int(issued.timestamp())

    regions = m[K_REGIONS]
    if not isinstance(regions, list):
        raise Refused("damaged", "regions (key 6) is not an array")
    p.regions = []
    for i, item in enumerate(regions):
        if not isinstance(item, list) or len(item) != 2 or not all(map(is_uint, item)):
            raise Refused("damaged", f"regions entry {i} is not [region, issuedUpTo] (uint, uint)")
        p.regions.append((item[0], item[1]))
    if kind == KIND_DELTA:
        growth = m[K_GROWTH]
        if not isinstance(growth, list) or not all(map(is_uint, growth)):
            raise Refused("damaged", "growth (key 7) is not an array of unsigned integers")
        p.growth = list(growth)
    if count > 0:
        p.m = m[K_M]
        if not is_uint(p.m) or not 1 <= p.m <= MAX_GOLOMB_M:
            raise Refused("damaged", f"M (key 9) is {p.m!r}, not in 1..2^40")
        p.positions = m[K_POSITIONS]
        if type(p.positions) is not bytes:
            raise Refused("damaged", "positions (key 10) is not a byte string")
    if kind == KIND_SNAPSHOT:
        p.susp_count = m[K_SUSP_COUNT]
        if p.susp_count > 0:
            p.susp_m = m[K_SUSP_M]
            if not is_uint(p.susp_m) or not 1 <= p.susp_m <= MAX_GOLOMB_M:
                raise Refused("damaged", f"suspended M (key 12) is {p.susp_m!r}, not in 1..2^40")
            p.susp_positions = m[K_SUSP_POSITIONS]
            if type(p.susp_positions) is not bytes:
                raise Refused("damaged", "suspended positions (key 13) is not a byte string")
    p.cert_der = m.get(K_CERT)
    if p.cert_der is not None:
        if type(p.cert_der) is not bytes or not 1 <= len(p.cert_der) <= MAX_CERT_SIZE:
            raise Refused(
                "damaged", "signer certificate (key 14) is not a byte string of 1..4096 bytes"
            )
    return p


# --------------------------------------------------------------------------
# DER (ITU-T X.690 section 8.1 and 10): just enough to read certificate extensions
# --------------------------------------------------------------------------


def der_item(data, pos, end):
    """The TLV at `pos`: (tag, content start, content end). Single-byte tags only, which is
    all a certificate's structure up to its extensions uses."""
    if pos + 2 > end:
        raise ValueError("truncated DER")
    tag, n = data[pos], data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or pos + k > end:
            raise ValueError("bad DER length")
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    if pos + n > end:
        raise ValueError("DER item runs past its parent")
    return tag, pos, pos + n


def der_children(data, start, end):
    pos = start
    while pos < end:
        tag, s, e = der_item(data, pos, end)
        yield tag, s, e
        pos = e


def encode_oid(dotted):
    """The content octets of an OBJECT IDENTIFIER (X.690 section 8.19)."""
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1]] + arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def cert_extensions(der):
    """{extension OID content octets: (critical, extnValue octets)} of a certificate (RFC 5280
    section 4.1: Certificate -> tbsCertificate -> [3] Extensions)."""
    tag, s, e = der_item(der, 0, len(der))
    if tag != 0x30:
        raise ValueError("not a SEQUENCE")
    tag, s, e = next(der_children(der, s, e))
    if tag != 0x30:
        raise ValueError("tbsCertificate is not a SEQUENCE")
    out = {}
    for tag, cs, ce in der_children(der, s, e):
        if tag != 0xA3:
            continue
        stag, ss, se = der_item(der, cs, ce)
        if stag != 0x30 or se != ce:
            raise ValueError("extensions are not one SEQUENCE")
        for xtag, xs, xe in der_children(der, ss, se):
            parts = list(der_children(der, xs, xe))
            if xtag != 0x30 or not 2 <= len(parts) <= 3 or parts[0][0] != 0x06:
                raise ValueError("an extension is malformed")
            critical = len(parts) == 3 and parts[1][0] == 0x01 and der[parts[1][1]] != 0
            if parts[-1][0] != 0x04:
                raise ValueError("an extension value is not an OCTET STRING")
            oid = der[parts[0][1] : parts[0][2]]
            if oid in out:
                raise ValueError("an extension appears twice")
            out[oid] = (critical, der[parts[-1][1] : parts[-1][2]])
    return out


def basic_constraints_ca(ext):
    """cA of BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, ... }, or None."""
    v = ext.get(encode_oid(OID_BASIC_CONSTRAINTS))
    if v is None:
        return None
    tag, s, e = der_item(v[1], 0, len(v[1]))
    if tag != 0x30:
        raise ValueError("BasicConstraints is not a SEQUENCE")
    for t, cs, ce in der_children(v[1], s, e):
        return t == 0x01 and ce > cs and v[1][cs] != 0
    return False


def key_usage_bits(ext):
    """KeyUsage BIT STRING as an int with bit 0 (digitalSignature) as its highest, or None."""
    v = ext.get(encode_oid(OID_KEY_USAGE))
    if v is None:
        return None
    tag, s, e = der_item(v[1], 0, len(v[1]))
    if tag != 0x03 or e - s < 1:
        raise ValueError("KeyUsage is not a BIT STRING")
    bits = v[1][s + 1 : e] + b"\0\0"
    return (bits[0] << 8) | bits[1]


KU_DIGITAL_SIGNATURE = 0x8000  # bit 0
KU_KEY_CERT_SIGN = 0x0400  # bit 5


def ext_key_usages(ext):
    """The OIDs (content octets) of ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId, or None."""
    v = ext.get(encode_oid(OID_EXT_KEY_USAGE))
    if v is None:
        return None
    tag, s, e = der_item(v[1], 0, len(v[1]))
    if tag != 0x30:
        raise ValueError("ExtendedKeyUsage is not a SEQUENCE")
    out = []
    for t, cs, ce in der_children(v[1], s, e):
        if t != 0x06:
            raise ValueError("ExtendedKeyUsage holds something other than an OID")
        out.append(v[1][cs:ce])
    return out


# --------------------------------------------------------------------------
# Certificates ("Signing"; card-format.md "Keys and certificates")
# --------------------------------------------------------------------------


def load_root(pem_bytes):
    """The pinned certificate must be a union root: a self-signed P-256 CA that may sign
    certificates."""
    try:
        root = x509.load_pem_x509_certificate(pem_bytes)
    except Exception as exc:
        raise Refused("untrusted_signer", f"the pinned root is not a PEM certificate ({exc})")
    key = root.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise Refused("untrusted_signer", "the pinned root does not carry a P-256 key")
    if root.issuer != root.subject or not signed_by(key, root):
        raise Refused("untrusted_signer", "the pinned root is not self-signed")
    try:
        ext = cert_extensions(root.public_bytes(DER))
        ca, ku = basic_constraints_ca(ext), key_usage_bits(ext)
    except ValueError as exc:
        raise Refused("untrusted_signer", f"the pinned root's extensions are malformed ({exc})")
    if not ca or ku is None or not ku & KU_KEY_CERT_SIGN:
        raise Refused("untrusted_signer", "the pinned root is not a CA that signs certificates")
    return root


def signed_by(issuer_key, cert):
    try:
        issuer_key.verify(
            cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
        )
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def load_signer_cert(der):
    try:
        cert = x509.load_der_x509_certificate(der)
        same = cert.public_bytes(DER) == der
        # cryptography parses lazily: touch every field used later so that a damaged one is
        # refused here rather than raising later
        cert.issuer, cert.subject, cert.not_valid_before, cert.not_valid_after
        cert.public_key(), cert.signature, cert.tbs_certificate_bytes
        cert.signature_hash_algorithm
    except Exception as exc:  # cryptography raises ValueError, KeyError, ... on bad DER
        raise Refused("untrusted_signer", f"key 14 is not an X.509 certificate ({exc!r})")
    if not same:
        raise Refused("untrusted_signer", "key 14 is not a certificate in DER")
    return cert


def check_status_signer(cert):
    """Step 3: the status-signing extended key usage ("Signing": end entity, digitalSignature
    only, EKU kStatusSigningOid)."""
    try:
        eku = ext_key_usages(cert_extensions(cert.public_bytes(DER)))
    except ValueError as exc:
        raise Refused("not_status_signer", f"the signer certificate's extensions: {exc}")
    if eku is None:
        raise Refused("not_status_signer", "the signer certificate has no extended key usage")
    if encode_oid(STATUS_SIGNING_OID) not in eku:
        raise Refused(
            "not_status_signer",
            f"the signer certificate's extended key usage lacks {STATUS_SIGNING_OID}"
            " (status signing)",
        )


def naive_utc(t):
    return t.replace(tzinfo=None) if t.tzinfo else t


def check_chain(cert, root, issued_at):
    """Step 4: validity periods of both at the list's issue time, CA constraints, signature."""
    t = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=issued_at)
    stamp = t.strftime("%Y-%m-%d %H:%M:%S UTC")
    for what, c in (("signer", cert), ("root", root)):
        lo, hi = naive_utc(c.not_valid_before), naive_utc(c.not_valid_after)
        if not lo <= t <= hi:
            raise Refused(
                "untrusted_signer",
                f"the {what} certificate is valid {lo:%Y-%m-%d %H:%M:%S} to {hi:%Y-%m-%d %H:%M:%S}"
                f" UTC, not at the list's issue time {stamp}",
            )
    try:
        ext = cert_extensions(cert.public_bytes(DER))
        ca, ku = basic_constraints_ca(ext), key_usage_bits(ext)
    except ValueError as exc:
        raise Refused("untrusted_signer", f"the signer certificate's extensions: {exc}")
    if ca:
        raise Refused("untrusted_signer", "the signer certificate is a CA, not an end entity")
    if ku is not None and not ku & KU_DIGITAL_SIGNATURE:
        raise Refused("untrusted_signer", "the signer certificate may not sign (key usage)")
    if cert.issuer != root.subject:
        raise Refused("untrusted_signer", "the signer certificate's issuer is not the pinned root")
    if not signed_by(root.public_key(), cert):
        raise Refused("untrusted_signer", "the signer certificate is not signed by the pinned root")
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise Refused("untrusted_signer", "the signer certificate does not carry a P-256 key")


# --------------------------------------------------------------------------
# Golomb coding ("Golomb coding")
# --------------------------------------------------------------------------


class BitReader:
    def __init__(self, data, what):
        self.bits = "".join(map(_BYTE_BITS.__getitem__, data))
        self.pos = 0
        self.what = what

    def read(self, n):
        if self.pos + n > len(self.bits):
            raise Refused("damaged", f"{self.what}: a code runs past the end of the bit string")
        v = int(self.bits[self.pos : self.pos + n], 2) if n else 0
        self.pos += n
        return v

    def unary(self):
        end = self.bits.find("0", self.pos)
        if end < 0:
            raise Refused("damaged", f"{self.what}: a code runs past the end of the bit string")
        q = end - self.pos
        self.pos = end + 1
        return q

    def finish(self):
        """Nothing may follow the last code but the zero bits that pad its byte."""
        if len(self.bits) - self.pos >= 8:
            raise Refused("damaged", f"{self.what}: a byte is left over after the last code")
        if "1" in self.bits[self.pos :]:
            raise Refused("damaged", f"{self.what}: a padding bit after the last code is not zero")


def golomb_gap(reader, m):
    """q = g div M in unary (q ones, a zero); r = g mod M in truncated binary: b = ceil(log2 M),
    u = 2^b - M; r < u in b - 1 bits, otherwise r + u in b bits; nothing for M = 1."""
    q = reader.unary()
    if m == 1:
        return q
    b = (m - 1).bit_length()  # ceil(log2 M) for M >= 2
    u = (1 << b) - m
    x = reader.read(b - 1)
    if x >= u:
        x = (x << 1) | reader.read(1)
        x -= u
        if x >= m:  # only reachable if u = 0 is mishandled; kept as a guard
            raise Refused("damaged", f"{reader.what}: a remainder is not below M")
    return q * m + x


def golomb_cost(gap, m):
    """Bits of one gap's code with parameter M."""
    q, r = divmod(gap, m)
    if m == 1:
        return q + 1
    b = (m - 1).bit_length()
    return q + 1 + (b - 1 if r < (1 << b) - m else b)


def documented_golomb_m(gaps):
    """The M the "Choice of M" paragraph prescribes for these gaps. Not a verification step
    (a reader accepts any M in 1..2^40); the tests use it to check the encoder: mean + 1 =
    (sum + n) // n; M0 = max(1, (mean + 1) * 693 // 1000); candidates lo = max(1, M0 // 2) to
    hi = 2 * M0 + 2 in steps of max(1, (hi - lo) // 256)."""
    m0 = max(1, (sum(gaps) + len(gaps)) // len(gaps) * 693 // 1000)
    lo, hi = max(1, m0 // 2), 2 * m0 + 2
    candidates = range(lo, hi + 1, max(1, (hi - lo) // 256))
    best = None
    for m in candidates:
        c = sum(golomb_cost(g, m) for g in gaps)
        if best is None or c < best[0]:  # ties: the smaller M, met first
            best = (c, m)
    return best[1]


def decode_sequence(data, m, count, limit, what, choice_bits=False):
    """Yield (index, choice bit or None) for `count` Golomb-coded gaps: the first index is the
    first gap, each next one is the previous + 1 + its gap; every index must be < `limit`."""
    reader = BitReader(data, what)
    min_bits = 2 if choice_bits else 1
    if count > len(reader.bits) // min_bits:
        raise Refused("damaged", f"{what}: count {count} is more than {len(data)} bytes can hold")
    index = -1
    for i in range(count):
        index += 1 + golomb_gap(reader, m)
        if index >= limit:
            raise Refused(
                "damaged",
                f"{what}: code {i + 1} of {count} steps to {index}, past the last of {limit}",
            )
        yield index, (reader.read(1) if choice_bits else None)
    reader.finish()


# --------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------


class Region:
    def __init__(self, code, top, start):
        self.code, self.top, self.start = code, top, start


def build_regions(pairs):
    """Region table -> ([Region], total covered positions), checked as step 7 says."""
    out = []
    start = 0
    last = 0
    for code, top in pairs:
        if not REGION_MIN <= code <= REGION_MAX:
            raise Refused("damaged", f"region {code} is outside {REGION_MIN}..{REGION_MAX}")
        if code <= last:
            raise Refused("damaged", f"region {code} follows region {last}: not ascending")
        if top > MAX_SERIAL:
            raise Refused("damaged", f"region {code}: issuedUpTo {top} has more than 9 digits")
        out.append(Region(code, top, start))
        start += top + 1
        last = code
        if start > MAX_COVERED_POSITIONS:
            raise Refused(
                "too_large", f"the list covers more than {MAX_COVERED_POSITIONS} positions"
            )
    return out, start


class StatusList:
    def __init__(self, version, issued_at, regions, total, states, signer):
        self.version, self.issued_at = version, issued_at
        self.regions, self.total, self.states, self.signer = regions, total, states, signer

    def lookup(self, region, serial):
        for r in self.regions:
            if r.code == region:
                if serial > r.top:
                    return "uncovered"
                return STATE_NAMES[self.states[r.start + serial]]
        return "uncovered"

    def describe(self, pos):
        for r in self.regions:
            if r.start <= pos <= r.start + r.top:
                return f"{r.code}/{pos - r.start}"
        return f"position {pos}"


def read_limited(path):
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_LIST_SIZE + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}")
    if len(data) > MAX_LIST_SIZE:
        raise Refused("too_large", f"more than {MAX_LIST_SIZE} bytes (16 MiB); not parsed")
    return data


def verify_signer(env, p, cert, root, now):
    """Steps 3-6 for a signer certificate already chosen in step 2."""
    check_status_signer(cert)
    check_chain(cert, root, p.issued_at)
    der = cert.public_bytes(DER)
    if env.kid != cert_kid(der):
        raise Refused(
            "bad_signature",
            f"kid {env.kid.hex()} is not the signer certificate's key id {cert_kid(der).hex()}",
        )
    if not es256_verifies(cert.public_key(), env):
        raise Refused("bad_signature", "the ES256 signature does not verify with the signer's key")
    if dt.datetime(1970, 1, 1) + dt.timedelta(seconds=p.issued_at) > now + CLOCK_SKEW:
        raise Refused(
            "from_future",
            f"the list is dated {p.issued_at} (epoch seconds), more than 10 minutes after this"
            " machine's clock: check the clock",
        )


def load_snapshot(data, root, now):
    env = parse_envelope(data)  # step 1
    p = parse_payload(env.payload, KIND_SNAPSHOT)
    cert = load_signer_cert(p.cert_der)  # step 2
    verify_signer(env, p, cert, root, now)  # steps 3-6
    # step 7
    regions, total = build_regions(p.regions)
    if p.count > total:
        raise Refused("damaged", f"count {p.count} is more than the {total} covered positions")
    if p.susp_count > p.count:
        raise Refused(
            "damaged", f"suspended count {p.susp_count} is more than the {p.count} listed"
        )
    states = bytearray(total)
    listed = (
        decode_sequence(p.positions, p.m, p.count, total, "positions (key 10)")
        if p.count
        else iter(())
    )
    suspended = (
        decode_sequence(
            p.susp_positions, p.susp_m, p.susp_count, p.count, "suspended positions (key 13)"
        )
        if p.susp_count
        else iter(())
    )
    next_susp = next(suspended, (None, None))[0]
    for i, (pos, _) in enumerate(listed):
        if i == next_susp:
            states[pos] = SUSPENDED
            next_susp = next(suspended, (None, None))[0]
        else:
            states[pos] = REVOKED
    if next_susp is not None:  # cannot happen: indexes are checked < count
        raise Refused("damaged", "a suspended index lies beyond the listed sequence")
    # drain: a generator checks the padding of its bit string only once it is exhausted
    for _ in suspended:
        pass
    return StatusList(p.version, p.issued_at, regions, total, states, cert)


def apply_delta(held, data, root, now):
    env = parse_envelope(data)  # step 1
    p = parse_payload(env.payload, KIND_DELTA)
    if p.base != held.version:
        raise Refused(
            "base_mismatch",
            f"the delta applies to version {p.base}, but the list held is version {held.version}",
        )
    if p.cert_der is not None:  # step 2
        cert = load_signer_cert(p.cert_der)
    else:
        cert = held.signer
        held_kid = cert_kid(cert.public_bytes(DER))
        if env.kid != held_kid:
            raise Refused(
                "untrusted_signer",
                f"the delta carries no certificate and its kid {env.kid.hex()} is not the held"
                f" list's signer {held_kid.hex()}",
            )
    verify_signer(env, p, cert, root, now)  # steps 3-6
    # step 7 ("Delta"): the version must rise and the issue time not go back. The doc names no
    # error code for these two; reported here as `damaged`.
    if p.version <= held.version:
        raise Refused(
            "damaged", f"the delta's version {p.version} is not above its base {held.version}"
        )
    if p.issued_at < held.issued_at:
        raise Refused(
            "damaged",
            f"the delta is issued at {p.issued_at}, before its base ({held.issued_at})",
        )
    if len(p.growth) != len(held.regions):
        raise Refused(
            "damaged",
            f"growth (key 7) has {len(p.growth)} entries for the base's {len(held.regions)}"
            " regions",
        )
    held_codes = {r.code for r in held.regions}
    for code, _ in p.regions:
        if code in held_codes:
            raise Refused("damaged", f"new region {code} (key 6) is already covered by the base")
    # B's region table: the base's regions grown by key 7 plus key 6's new ones, ascending
    # ("Positions": the regions present, ascending).
    pairs = [(r.code, r.top + g) for r, g in zip(held.regions, p.growth)]
    pairs += list(p.regions)
    pairs.sort()
    # key 6 must itself be ascending and unique (checked on its own, as written)
    build_regions(p.regions)
    regions, total = build_regions(pairs)
    if p.count > total:
        raise Refused("damaged", f"count {p.count} is more than the {total} covered positions")
    states = bytearray(total)
    by_code = {r.code: r for r in held.regions}
    for r in regions:
        old = by_code.get(r.code)
        if old is not None:
            n = old.top + 1
            states[r.start : r.start + n] = held.states[old.start : old.start + n]
    if p.count:
        for pos, bit in decode_sequence(
            p.positions, p.m, p.count, total, "positions (key 10)", choice_bits=True
        ):
            states[pos] = DELTA_CHOICE[states[pos]][bit]
    return StatusList(p.version, p.issued_at, regions, total, states, cert)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

USAGE = (
    "usage: verify_status_list.py LIST.cose ROOT_CERT.pem [--delta DELTA.cose ...]"
    " [--print-regions] [--now EPOCH_SECONDS] [EXPECT ...]\n"
    "  --now: judge the list as at this time (a list dated more than 10 minutes after it is"
    " refused); default this machine's clock\n"
    "  EXPECT: REGION:SERIAL:STATE, STATE one of valid, suspended, revoked, uncovered"
)


def load_or_apply(held, data, root, now):
    """`data` as a snapshot when nothing is held, else as a delta to the held list."""
    return load_snapshot(data, root, now) if held is None else apply_delta(held, data, root, now)


def parse_args(argv):
    positional, deltas, print_regions, now = [], [], False, None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--now":
            if i + 1 >= len(argv) or not argv[i + 1].isdigit():
                raise UsageError("--now needs a time in epoch seconds")
            now = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(argv[i + 1]))
            i += 2
            continue
        if a == "--delta":
            if i + 1 >= len(argv):
                raise UsageError("--delta needs a file")
            deltas.append(argv[i + 1])
            i += 2
            continue
        if a.startswith("--delta="):
            deltas.append(a[len("--delta=") :])
        elif a == "--print-regions":
            print_regions = True
        elif a in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        elif a.startswith("-") and a != "-":
            raise UsageError(f"unknown option {a}")
        else:
            positional.append(a)
        i += 1
    if len(positional) < 2:
        raise UsageError("LIST.cose and ROOT_CERT.pem are required")
    expects = []
    for e in positional[2:]:
        parts = e.split(":")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            raise UsageError(f"expectation {e!r} is not REGION:SERIAL:STATE")
        region, serial, state = int(parts[0]), int(parts[1]), parts[2]
        if not REGION_MIN <= region <= REGION_MAX or serial > MAX_SERIAL:
            raise UsageError(f"expectation {e!r}: region 1..89, serial of at most 9 digits")
        if state not in ("valid", "suspended", "revoked", "uncovered"):
            raise UsageError(f"expectation {e!r}: state must be valid/suspended/revoked/uncovered")
        expects.append((region, serial, state))
    return positional[0], positional[1], deltas, print_regions, now, expects


def main(argv):
    try:
        list_path, root_path, deltas, print_regions, now, expects = parse_args(argv)
        try:
            with open(root_path, "rb") as f:
                root_pem = f.read()
        except OSError as exc:
            raise UsageError(f"cannot read {root_path}: {exc.strerror}")
        now = now or dt.datetime.utcnow()
        current = root_path
        try:
            root = load_root(root_pem)
            current = list_path
            held = load_snapshot(read_limited(list_path), root, now)
            for d in deltas:
                current = d
                held = apply_delta(held, read_limited(d), root, now)
        except Refused as exc:
            print(f"{PROG}: {current}: {exc}", file=sys.stderr)
            return 1
        except (UsageError, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug here, or a library surprised by the bytes: fail closed
            print(f"{PROG}: {current}: not verified: unexpected {exc!r}", file=sys.stderr)
            return 1
    except UsageError as exc:
        print(f"{PROG}: {exc}\n{USAGE}", file=sys.stderr)
        return 2

    wrong = []
    for region, serial, want in expects:
        got = held.lookup(region, serial)
        if got != want:
            wrong.append(f"{region}:{serial} is {got}, expected {want}")
    if wrong:
        for w in wrong:
            print(f"{PROG}: {current}: expectation failed: {w}", file=sys.stderr)
        return 1
    if print_regions:
        print(",".join(f"{r.code}:{r.top}" for r in held.regions))
    else:
        listed = sum(1 for s in held.states if s)
        susp = held.states.count(SUSPENDED)
        print(
            f"ok: version {held.version}, issued at {held.issued_at}, {len(held.regions)} regions,"
            f" {held.total} covered positions, {listed} listed ({susp} suspended),"
            f" {len(deltas)} delta(s) applied, {len(expects)} expectation(s) hold"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
