# SPDX-License-Identifier: Apache-2.0
"""Deterministic CBOR (RFC 8949 section 4.2.1) as the independent checkers test it: cbor2
decodes tag 100 (RFC 8943 days) into a date and tag 1 into a datetime; undone here, a
canonical re-encoding must reproduce the input byte for byte. The union's maps use only small
unsigned keys, for which cbor2's canonical (length-first) key order equals the RFC's bytewise
order."""

import datetime as dt

import cbor2

TAG_DAYS = 100  # RFC 8943
TAG_EPOCH = 1   # RFC 8949 section 3.4.2
EPOCH_DAY = dt.date(1970, 1, 1)


def to_reencodable(obj):
    """Undo cbor2's semantic decoding of the tags the union's formats use."""
    if type(obj) is dt.date:
        return cbor2.CBORTag(TAG_DAYS, (obj - EPOCH_DAY).days)
    if isinstance(obj, dt.datetime):
        secs = obj.timestamp()
        return cbor2.CBORTag(TAG_EPOCH, int(secs) if secs == int(secs) else secs)
    if isinstance(obj, cbor2.CBORTag):
        return cbor2.CBORTag(obj.tag, to_reencodable(obj.value))
    if isinstance(obj, dict):
        return {to_reencodable(k): to_reencodable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_reencodable(v) for v in obj]
    return obj


def is_deterministic(obj, raw):
    """Whether `raw`, which decoded to `obj`, is the deterministic encoding of it."""
    try:
        return cbor2.dumps(to_reencodable(obj), canonical=True) == raw
    except Exception:
        return False
