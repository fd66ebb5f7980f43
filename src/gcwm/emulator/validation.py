"""Check a JSON request body against an official model definition, field by field, recursively."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gcwm.emulator.schema import ApiSubset, FieldSpec, TypeNode, parse_type

_MAX_PROBLEMS = 20
_EXPECTED = {
    "str": "a string",
    "bool": "a boolean",
    "int": "an integer",
    "float": "a number",
    "datetime": "an ISO-8601 date-time string",
    "date": "an ISO-8601 date string",
    "list": "an array",
    "dict": "an object",
    "model": "an object",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a body: the field path, an error code and a readable message."""

    field: str
    code: str
    message: str


def validate_model(subset: ApiSubset, model: str, value: Any) -> list[Problem]:
    """Every problem of `value` as a `model`: unknown fields, wrong types, values outside an enum
    (of a string, or of the items of a list of strings) or outside a numeric range.

    JSON null is accepted for any field and means "absent" (the SDK drops None fields anyway)."""
    problems: list[Problem] = []
    _check(subset, parse_type(model), value, "", problems)
    return problems[:_MAX_PROBLEMS]


def _check(subset: ApiSubset, node: TypeNode, value: Any, path: str, out: list[Problem]) -> None:
    if value is None or len(out) >= _MAX_PROBLEMS:
        return
    if node.kind == "model":
        _check_model(subset, node.name, value, path, out)
    elif node.kind == "list":
        if not isinstance(value, list):
            out.append(_type_problem(path, "list", value))
            return
        assert node.item is not None
        for index, item in enumerate(value):
            _check(subset, node.item, item, f"{path}[{index}]", out)
    elif node.kind == "dict":
        if not isinstance(value, dict):
            out.append(_type_problem(path, "dict", value))
            return
        assert node.item is not None
        for key, item in value.items():
            _check(subset, node.item, item, _join(path, str(key)), out)
    elif not _is_primitive(node.name, value):
        out.append(_type_problem(path, node.name, value))


def _check_model(subset: ApiSubset, model: str, value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, dict):
        out.append(_type_problem(path, "model", value))
        return
    fields = subset.fields(model)
    for key, item in value.items():
        where = _join(path, str(key))
        spec = fields.get(key)
        if spec is None:
            out.append(Problem(where, "unknown.field", f"{where}: unknown field of {model}"))
            continue
        _check_field(subset, spec, item, where, out)


def _check_field(subset: ApiSubset, spec: FieldSpec, value: Any, path: str, out: list[Problem]) -> None:
    before = len(out)
    _check(subset, parse_type(spec.type), value, path, out)
    if len(out) > before:
        return  # a value of the wrong type: its enum or range says nothing more
    if spec.enum is not None and isinstance(value, str) and value not in spec.enum:
        out.append(_not_one_of(path, value, spec.enum))
    if spec.item_enum is not None and isinstance(value, list):
        # List-item enums come from field_rules.json (the Python SDK drops them).
        out.extend(
            _not_one_of(f"{path}[{index}]", item, spec.item_enum)
            for index, item in enumerate(value)
            if isinstance(item, str) and item not in spec.item_enum
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = spec.minimum, spec.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            msg = f"{path}: {json.dumps(value)} is not between {_number(low)} and {_number(high)}"
            out.append(Problem(path, "invalid.value", msg))


def _not_one_of(path: str, value: str, allowed: tuple[str, ...]) -> Problem:
    return Problem(path, "invalid.value", f"{path}: {json.dumps(value)} is not one of {', '.join(allowed)}")


def _number(bound: float | None) -> str:
    if bound is None:
        return "any"
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _is_primitive(name: str, value: Any) -> bool:
    # bool is an int subclass in Python but not a number on the wire.
    if name == "str":
        return isinstance(value, str)
    if name == "bool":
        return isinstance(value, bool)
    if name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "datetime":
        return isinstance(value, str) and _parses(datetime.fromisoformat, value)
    if name == "date":
        return isinstance(value, str) and _parses(date.fromisoformat, value)
    return True  # "object": any JSON value


def _parses(parser: Any, text: str) -> bool:
    try:
        parser(text)
    except ValueError:
        return False
    return True


def _type_problem(path: str, expected: str, value: Any) -> Problem:
    where = path or "request body"
    shown = json.dumps(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return Problem(
        path, "invalid.type", f"{where}: expected {_EXPECTED.get(expected, expected)}, got {shown}"
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
