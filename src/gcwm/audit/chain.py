"""The hash chain: each entry is canonical JSON (RFC 8785) hashed together with the entry before it.

    h_0 = 32 zero bytes            h_i = SHA-256(h_{i-1} as 32 raw bytes || JCS(body_i))

The body holds the entry's own `seq`, its time `at` (RFC 3339, UTC, always six fractional digits) and
`prev`, h_{i-1} in hex. The hash input puts h_{i-1} in front of the body as raw bytes, so the walk
hashes rows without parsing any JSON; the copy inside the body lets a reader of one entry see what it
follows, and lets verify tell "this entry was edited" from "the entry before it was replaced".

Canonical JSON is RFC 8785 (JCS: sorted keys, no whitespace, ECMAScript numbers), so an outside
verifier in any language gets the same bytes. The `rfc8785` package writes it; for the values entries
hold (strings, integers, booleans, null, lists, objects with ASCII keys, and floats with a fraction
that Python writes without an exponent, as step durations are) `json.dumps` with sorted keys and no
spaces writes the same bytes five times faster, and every append is on a state change's path:
`canonical` takes that road when it can, and property tests hold the two equal.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

GENESIS = "0" * 64
_MAX_EXACT = 2**53 - 1  # RFC 8785 (I-JSON): integers beyond this are not exact in IEEE 754
#: Keys the chain writes into every body; an event's own fields may not use them.
CHAIN_KEYS = frozenset({"seq", "at", "prev"})


def canonical(value: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of a JSON object, as UTF-8 bytes."""
    if _is_plain(value):
        try:
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 says what is wrong with it
    return rfc8785.dumps(dict(value))


def _is_plain(value: object) -> bool:
    """Whether json.dumps writes `value` exactly as RFC 8785 does: no floats (JCS writes numbers the
    ECMAScript way), integers within JCS's exact range, ASCII keys (JCS sorts by UTF-16 units)."""
    pending = [value]
    while pending:
        item = pending.pop()
        # Exact types: a subclass (an enum, say) takes rfc8785's road, which is always right.
        if type(item) is str or type(item) is bool or item is None:
            continue
        if type(item) is int:
            if not -_MAX_EXACT <= item <= _MAX_EXACT:
                return False
        elif type(item) is float:
            # Both write the shortest digits that round-trip; they differ only where Python writes
            # an exponent (it switches at 1e16 and 1e-4, ECMAScript at 1e21 and 1e-6) or a whole
            # number ("12.0" against "12"), and on infinities and NaN, which JSON lacks.
            if not math.isfinite(item) or item.is_integer() or "e" in repr(item):
                return False
        elif type(item) is dict:
            for key, member in item.items():
                if type(key) is not str or not key.isascii():
                    return False
                pending.append(member)
        elif type(item) is list:
            pending.extend(item)
        else:
            return False
    return True


def format_time(at: datetime) -> str:
    """RFC 3339 in UTC with microseconds and `Z`: one spelling per instant, so it can be signed."""
    if at.tzinfo is None:
        msg = f"naive datetime {at.isoformat()} in the audit log: pass an aware UTC datetime"
        raise ValueError(msg)
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """The instant of an RFC 3339 timestamp (as `format_time` writes it, or any offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def link(prev: str, body: bytes) -> str:
    """The hash of an entry whose body is `body` and whose predecessor's hash is `prev` (hex)."""
    return hashlib.sha256(bytes.fromhex(prev) + body).hexdigest()


def seal(seq: int, at: datetime, prev: str, fields: Mapping[str, Any]) -> tuple[str, str]:
    """The canonical body of entry `seq` and its chain hash."""
    clash = CHAIN_KEYS & set(fields)
    if clash:
        msg = f"audit fields {sorted(clash)} are written by the chain itself"
        raise ValueError(msg)
    body = canonical({**fields, "seq": seq, "at": format_time(at), "prev": prev})
    return body.decode(), link(prev, body)
