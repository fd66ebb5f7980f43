"""The official SDK's operations and models, shipped inside this package.

`api-subset.json` is an exact copy of shared/genesys/api-subset.json; `api-supplement.json` adds, in
the same shape and from the same SDK (269.0.0), the operations gcwm's subset lacks (supported
content profiles); `field_rules.json` adds what the Python SDK cannot say: enums on the items of
`list[str]` fields (kept in the Java and iOS SDKs) and numeric ranges. Each file names its sources."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

PRIMITIVES = frozenset({"str", "bool", "int", "float", "datetime", "date", "object"})


@dataclass(frozen=True)
class FieldSpec:
    """One wire field of a model: its type notation, the allowed values (of a string, or of each item
    of a list of strings) and, for numbers, the allowed range."""

    name: str
    type: str
    enum: tuple[str, ...] | None = None
    item_enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class TypeNode:
    """A parsed type notation: a primitive, a model name, `list[T]` or `dict(str, T)`."""

    kind: str  # "primitive" | "model" | "list" | "dict"
    name: str = ""
    item: TypeNode | None = None


@dataclass(frozen=True)
class Operation:
    """One API operation: method, path template and its request and response models."""

    name: str
    method: str
    path: str
    request_body: str | None
    response: str | None


class ApiSubset:
    """Models and operations as extracted from PureCloudPlatformClientV2 269.0.0."""

    def __init__(self, document: dict[str, Any], rules: dict[str, Any] | None = None) -> None:
        item_enums = (rules or {}).get("itemEnums", {})
        ranges = (rules or {}).get("ranges", {})
        self.models: dict[str, dict[str, FieldSpec]] = {}
        for model, fields in document["models"].items():
            self.models[model] = {}
            for wire, spec in fields.items():
                key = f"{model}.{wire}"
                bounds = ranges.get(key, {})
                self.models[model][wire] = FieldSpec(
                    wire,
                    spec["type"],
                    tuple(spec["enum"]) if "enum" in spec else None,
                    tuple(item_enums[key]["values"]) if key in item_enums else None,
                    bounds.get("minimum"),
                    bounds.get("maximum"),
                )
        self.operations: list[Operation] = [
            Operation(op["operation"], op["method"], op["path"], op["request_body"], op["response"])
            for op in document["operations"]
        ]

    def fields(self, model: str) -> dict[str, FieldSpec]:
        return self.models[model]

    def operation(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(name)


_LIST = re.compile(r"list\[(?P<item>.+)\]")
_DICT = re.compile(r"dict\(str, (?P<item>.+)\)")


@cache
def parse_type(notation: str) -> TypeNode:
    """Parse the subset's type notation (`list[Foo]`, `dict(str, int)`, `str`, `Foo`)."""
    if match := _LIST.fullmatch(notation):
        return TypeNode("list", item=parse_type(match["item"]))
    if match := _DICT.fullmatch(notation):
        return TypeNode("dict", item=parse_type(match["item"]))
    if notation in PRIMITIVES:
        return TypeNode("primitive", name=notation)
    return TypeNode("model", name=notation)


def merge_documents(subset: dict[str, Any], supplement: dict[str, Any]) -> dict[str, Any]:
    """The subset with the supplement's operations and models added; a model both define must be
    defined the same way, and no operation may be defined twice."""
    models = dict(subset["models"])
    for name, fields in supplement["models"].items():
        if name in models and models[name] != fields:
            msg = f"api-supplement.json defines model {name} differently from api-subset.json"
            raise ValueError(msg)
        models[name] = fields
    known = {op["operation"] for op in subset["operations"]}
    twice = sorted(known & {op["operation"] for op in supplement["operations"]})
    if twice:
        msg = f"api-supplement.json repeats operations of api-subset.json: {', '.join(twice)}"
        raise ValueError(msg)
    return {**subset, "operations": [*subset["operations"], *supplement["operations"]], "models": models}


def read_packaged(name: str) -> dict[str, Any]:
    """One of the JSON documents shipped in this package (never read from outside it)."""
    document: dict[str, Any] = json.loads(
        resources.files("gcwm.emulator").joinpath(name).read_text(encoding="utf-8")
    )
    return document


@cache
def load_subset() -> ApiSubset:
    """The SDK's operations and models: api-subset.json plus api-supplement.json, with field_rules.json."""
    document = merge_documents(read_packaged("api-subset.json"), read_packaged("api-supplement.json"))
    return ApiSubset(document, read_packaged("field_rules.json"))
