"""The generic validator, driven by api-subset.json, on its own (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest

from gcwm.emulator.schema import load_subset, parse_type
from gcwm.emulator.validation import validate_model


def _problems(model: str, value: Any) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in validate_model(load_subset(), model, value)]


def test_type_notation_is_parsed() -> None:
    """list[T], dict(str, T), primitives and model names."""
    node = parse_type("list[dict(str, Limit)]")
    assert (node.kind, node.item and node.item.kind) == ("list", "dict")
    assert node.item is not None and node.item.item is not None
    assert (node.item.item.kind, node.item.item.name) == ("model", "Limit")
    assert parse_type("datetime").kind == "primitive"


def test_a_valid_nested_body_has_no_problems() -> None:
    """Nested models, lists of models, enums and date-times pass."""
    body = {
        "name": "d",
        "allowedDomains": ["example.com"],
        "pushIntegrations": [{"id": "p", "provider": "FCM"}],
        "configuration": {"id": "c", "version": "1"},
        "dateCreated": "2024-05-01T10:00:00.000Z",
        "lastModifiedUser": None,
    }
    assert _problems("WebDeployment", body) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"allowAllDomains": 1}, [("allowAllDomains", "invalid.type")]),
        ({"allowedDomains": [True]}, [("allowedDomains[0]", "invalid.type")]),
        ({"status": "Gone"}, [("status", "invalid.value")]),
        (
            {"flow": {"publishVersion": {"dateCreated": "soon"}}},
            [("flow.publishVersion.dateCreated", "invalid.type")],
        ),
        ({"flow": {"shape": "x"}}, [("flow.shape", "unknown.field")]),
        ({"flow": "f-1"}, [("flow", "invalid.type")]),
    ],
)
def test_problems_name_the_field_path(value: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    """Each problem carries the dotted path, list indexes included, and an error code."""
    assert _problems("WebDeployment", value) == expected


def test_booleans_are_not_numbers_and_integers_are_floats() -> None:
    """bool is refused where int or float is expected; an int is a valid float."""
    assert _problems("Limit", {"value": True}) == [("value", "invalid.type")]
    assert _problems("Limit", {"value": 2}) == []
    assert _problems("ExpansionCriterium", {"threshold": 3}) == []
    assert _problems("ExpansionCriterium", {"threshold": False}) == [("threshold", "invalid.type")]


def test_dates_must_be_iso_dates() -> None:
    """`date` fields take YYYY-MM-DD."""
    assert _problems("Education", {"dateStart": "2020-01-31"}) == []
    assert _problems("Education", {"dateStart": "31/01/2020"}) == [("dateStart", "invalid.type")]


def test_maps_are_checked_per_value() -> None:
    """dict(str, T) values are checked against T."""
    assert _problems("ErrorBody", {"messageParams": {"a": "x", "b": 3}}) == [
        ("messageParams.b", "invalid.type")
    ]
