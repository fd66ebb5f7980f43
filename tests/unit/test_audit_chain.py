"""The hash chain's parts at their edges (gcwm.audit.chain): canonical JSON where json.dumps and
RFC 8785 part ways, the time format, and how a body and its hash are made."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785

from gcwm.audit.chain import CHAIN_KEYS, GENESIS, canonical, format_time, link, parse_time, seal

LARGEST_EXACT = 2**53 - 1


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1.5, "x", None, True, False]},
        {"n": LARGEST_EXACT, "m": -LARGEST_EXACT},
        {"float": 0.0001, "half": 0.5},
        # Where json.dumps and RFC 8785 differ: whole floats, exponents, non-ASCII keys (UTF-16 order).
        {"whole": 12.0, "big": 1e16, "huge": 1e21, "tiny": 1.5e-7},
        {"nested": {"deeper": [1.0, {"x": 2.0}]}},
        {"\u00e9": 1, "z": 2, "\U0001f600": 3, "\uff5e": 4},
        {"text": "caf\u00e9 \u2713"},
    ],
)
def test_canonical_json_is_rfc_8785(value: dict[str, object]) -> None:
    """Whichever road it takes, the bytes are the ones the rfc8785 package writes."""
    assert canonical(value) == rfc8785.dumps(value)


def test_whole_floats_are_written_without_a_fraction_wherever_they_are() -> None:
    """JCS writes 1.0 as 1, also inside lists inside objects."""
    assert canonical({"x": {"y": [1.0]}}) == b'{"x":{"y":[1]}}'
    assert canonical({"x": [2.0]}) == b'{"x":[2]}'


def test_non_ascii_text_is_written_as_utf_8_not_escaped() -> None:
    """RFC 8785: strings as UTF-8, no \\u escapes for printable characters."""
    assert canonical({"name": "caf\u00e9"}) == '{"name":"caf\u00e9"}'.encode()


@pytest.mark.parametrize("number", [LARGEST_EXACT + 1, -LARGEST_EXACT - 1])
def test_integers_past_the_exact_range_are_refused(number: int) -> None:
    """I-JSON: an integer IEEE 754 cannot hold exactly has no canonical form."""
    with pytest.raises(rfc8785.IntegerDomainError):
        canonical({"n": number})


def test_a_lone_surrogate_is_refused() -> None:
    """Not UTF-8: rfc8785 says what is wrong with it."""
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical({"text": "\ud800"})


def test_time_is_utc_with_six_fractional_digits_and_z() -> None:
    """One spelling per instant, whatever the offset it was given in; read back to the same instant."""
    at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(at) == "2024-01-02T01:04:05.000000Z"
    assert parse_time(format_time(at)) == at
    assert parse_time("2024-01-02T03:04:05.5+02:00") == datetime(2024, 1, 2, 1, 4, 5, 500000, tzinfo=UTC)
    assert parse_time("2024-01-02T01:04:05Z").tzinfo is UTC


def test_a_naive_time_is_refused() -> None:
    """Without an offset the instant is unknown."""
    with pytest.raises(
        ValueError, match=r"^naive datetime 2024-01-02T03:04:05 in the audit log: pass an aware"
    ):
        format_time(datetime(2024, 1, 2, 3, 4, 5))


def test_a_hash_covers_the_previous_hash_as_raw_bytes_then_the_body() -> None:
    """h_i = SHA-256(h_{i-1} as 32 raw bytes || body)."""
    assert GENESIS == "0" * 64
    assert link(GENESIS, b"{}") == hashlib.sha256(bytes(32) + b"{}").hexdigest()
    prev = "ab" * 32
    assert link(prev, b"x") == hashlib.sha256(bytes.fromhex(prev) + b"x").hexdigest()


def test_seal_writes_seq_time_and_previous_hash_into_the_body_and_links_it() -> None:
    """The body is canonical JSON of the fields plus seq, at and prev; its hash follows prev."""
    at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    body, hash_ = seal(7, at, GENESIS, {"action": "channel.created", "b": 1})
    assert json.loads(body) == {
        "action": "channel.created",
        "b": 1,
        "seq": 7,
        "at": "2024-01-02T03:04:05.000000Z",
        "prev": GENESIS,
    }
    assert body == canonical(json.loads(body)).decode()
    assert hash_ == link(GENESIS, body.encode())


@pytest.mark.parametrize("key", sorted(CHAIN_KEYS))
def test_an_event_may_not_write_the_chains_own_keys(key: str) -> None:
    """seq, at and prev are the chain's: a field of that name is refused, naming it."""
    assert {"seq", "at", "prev"} == CHAIN_KEYS
    with pytest.raises(ValueError, match=rf"^audit fields \['{key}'\] are written by the chain itself$"):
        seal(1, datetime(2024, 1, 2, tzinfo=UTC), GENESIS, {key: 1, "action": "x"})


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object()])
def test_a_value_json_has_no_form_for_is_refused_as_rfc_8785_refuses_it(value: object) -> None:
    """Sets, bytes and objects: the rfc8785 package's error, whichever road was tried first."""
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical({"x": [value]})


def test_a_z_time_is_read_as_utc_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Z` is UTC, not local time, on a machine set to another zone."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_time("2024-01-02T01:04:05.000000Z") == datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
