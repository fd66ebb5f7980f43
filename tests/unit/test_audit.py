"""The audit room's pure parts: redaction, entry fields, canonical JSON, CEF escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from gcwm.audit import AuditEvent, AuditTargets, canonical, cef_line, format_time, redact
from gcwm.audit.chain import GENESIS, link, seal
from gcwm.audit.export import cef_header, cef_value


def test_redact_drops_secret_named_keys_at_any_depth() -> None:
    """Secrets, tokens, passwords, authorization and keys never reach an entry, however nested."""
    summary = {
        "specHash": "ab" * 32,
        "changed": ["itsm.url", "deployment.allowedDomains"],
        "client_secret": "s3cret",
        "accessToken": "t0ken",
        "Authorization": "Bearer x",
        "itsm": {"url": "https://itsm.example.com", "webhookSecret": "whsec_abc", "apiKey": "k"},
        "headers": [{"X-Api-Key": "k", "Accept": "json"}],
        "password": "p",
        "privateKey": "-----BEGIN",
    }

    assert redact(summary) == {
        "specHash": "ab" * 32,
        "changed": ["itsm.url", "deployment.allowedDomains"],
        "itsm": {"url": "https://itsm.example.com"},
        "headers": [{"Accept": "json"}],
    }


def test_redact_drops_values_shaped_like_credentials_under_any_name() -> None:
    """A webhook secret or bearer token under an innocent name is dropped too."""
    summary = {
        "note": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "auth": "Bearer abc",
        "list": ["Basic Zm9v", "ok"],
    }

    assert redact(summary) == {"list": ["ok"]}


def test_an_event_records_exactly_the_issue_fields_with_its_summary_redacted() -> None:
    """action, actor, orgId, targets (absent ones omitted), outcome, correlationId, summary."""
    event = AuditEvent(
        action="deployment.created",
        actor="api-key:7f3a",
        org_id="org-1",
        targets=AuditTargets(channel="web", deployment="dep-1"),
        outcome="succeeded",
        correlation_id="corr-1",
        summary={"specHash": "ab", "token": "t"},
    )

    assert event.fields() == {
        "action": "deployment.created",
        "actor": "api-key:7f3a",
        "orgId": "org-1",
        "targets": {"channel": "web", "deployment": "dep-1"},
        "outcome": "succeeded",
        "correlationId": "corr-1",
        "summary": {"specHash": "ab"},
    }


def test_a_sealed_body_is_canonical_and_carries_seq_time_and_the_previous_hash() -> None:
    """Sorted keys, no whitespace (RFC 8785); the hash covers the previous hash's bytes and the body."""
    at = datetime(2026, 11, 29, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))

    body, hash_ = seal(1, at, GENESIS, {"b": 1, "a": {"z": "é", "y": None}})

    assert (
        body
        == '{"a":{"y":null,"z":"é"},"at":"2026-11-29T09:00:00.000005Z","b":1,"prev":"'
        + GENESIS
        + '","seq":1}'
    )
    assert hash_ == link(GENESIS, body.encode())
    assert canonical(json.loads(body)).decode() == body
    with pytest.raises(ValueError, match="written by the chain"):
        seal(2, at, hash_, {"seq": 9})


def test_times_are_rfc3339_utc_with_microseconds_and_never_naive() -> None:
    """One spelling per instant, so a signed time can be rebuilt from the database."""
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 1, 2))


def test_cef_escapes_header_and_extension_fields_as_the_spec_says() -> None:
    """Header: backslash and pipe; extension: backslash and equals, line breaks as \\n and \\r."""
    assert cef_header("a|b\\c=d") == "a\\|b\\\\c=d"
    assert cef_value("a|b\\c=d\r\ne") == "a|b\\\\c\\=d\\r\\ne"


def test_a_cef_line_has_the_fixed_header_and_the_entry_in_its_extension() -> None:
    """Vendor and product gcwm, the action as signature id and name, a severity from the outcome."""
    entry = {
        "seq": 7,
        "at": "2026-11-29T10:00:00.250000Z",
        "action": "channel|provisioned",
        "actor": "bob=admin",
        "orgId": "org-1",
        "targets": {"channel": "web"},
        "outcome": "refused",
        "correlationId": "c-1",
        "summary": {"specHash": "ab"},
    }

    line = cef_line(entry, version="0.1.0")

    assert line == (
        "CEF:0|gcwm|gcwm|0.1.0|channel\\|provisioned|channel\\|provisioned|5|"
        "rt=1795946400250 suser=bob\\=admin act=channel|provisioned outcome=refused externalId=7 "
        "cs1Label=orgId cs1=org-1 cs2Label=channel cs2=web cs6Label=correlationId cs6=c-1 "
        'msg={"specHash":"ab"}'
    )


_SCALARS = st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text() | st.floats(allow_nan=False)
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
)
_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(max_codepoint=127)), inner, max_size=4)
    ),
)


@given(st.dictionaries(st.text(st.characters(max_codepoint=127)), _PLAIN, max_size=6))
def test_canonical_json_is_rfc8785_on_its_fast_road(value: dict[str, object]) -> None:
    """Strings, exact integers, booleans, null, lists and ASCII keys: json.dumps writes JCS's bytes."""
    assert canonical(value) == rfc8785.dumps(value)


@given(st.floats(allow_nan=False, allow_infinity=False) | st.floats(-1e6, 1e6) | st.floats(-1, 1))
def test_a_float_is_written_as_rfc8785_writes_it(number: float) -> None:
    """Step durations are floats: the fast road must spell every one as ECMAScript does, or leave it."""
    value = {"durationMs": number, "nested": [number, {"x": number}]}
    assert canonical(value) == rfc8785.dumps(value)


def test_typical_durations_take_the_fast_road() -> None:
    """12.5 ms and friends are written by json.dumps, not the slower rfc8785 (the append's hot path)."""
    from gcwm.audit.chain import _is_plain

    assert all(_is_plain({"durationMs": d}) for d in (12.5, 0.1, 1234.567, 0.0001))
    assert not any(_is_plain({"x": d}) for d in (12.0, 1e16, 1e-5, -0.0))


@given(st.dictionaries(st.text(), _JSON, max_size=6))
def test_canonical_json_is_rfc8785_for_any_json(value: dict[str, object]) -> None:
    """Floats, big integers and non-ASCII keys take rfc8785's road: the same bytes, or the same refusal."""
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        with pytest.raises(type(exc)):
            canonical(value)
    else:
        assert canonical(value) == expected
