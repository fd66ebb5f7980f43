"""The official SDK's operations and models (api-subset.json, shipped inside this package)."""

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
    """One wire field of a model: its type notation and, for strings, the allowed values."""

    name: str
    type: str
    enum: tuple[str, ...] | None = None


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

    def __init__(self, document: dict[str, Any]) -> None:
        self.models: dict[str, dict[str, FieldSpec]] = {
            model: {
                wire: FieldSpec(wire, spec["type"], tuple(spec["enum"]) if "enum" in spec else None)
                for wire, spec in fields.items()
            }
            for model, fields in document["models"].items()
        }
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


@cache
def load_subset() -> ApiSubset:
    """The packaged copy of shared/genesys/api-subset.json (never read from outside the package)."""
    text = resources.files("gcwm.emulator").joinpath("api-subset.json").read_text(encoding="utf-8")
    return ApiSubset(json.loads(text))
