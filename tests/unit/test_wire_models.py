"""Every field of gcwm's Genesys models exists, with the same wire name and enum, in the SDK's models."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from gcwm.genesys import models

_ROOT = Path(__file__).parents[2]
_CANDIDATES = [
    _ROOT.parent / "shared" / "genesys" / "api-subset.json",
    _ROOT / "src/gcwm/emulator/api-subset.json",
]
# gcwm's class -> the SDK model it mirrors, where the names differ.
_RENAMED = {"ErrorDetail": "Detail", "EntityRef": "DomainEntityRef"}


# Models the shared subset lacks (supported content profiles), extracted from the same SDK release.
_SUPPLEMENT = _ROOT / "src/gcwm/emulator/api-supplement.json"


def _subset() -> dict[str, Any]:
    for path in _CANDIDATES:
        if path.exists():
            models: dict[str, Any] = json.loads(path.read_text())["models"]
            return {**json.loads(_SUPPLEMENT.read_text())["models"], **models}
    pytest.skip(f"api-subset.json not found at {_CANDIDATES}")


def _wire_models() -> list[type[models.WireModel]]:
    return [
        obj
        for obj in vars(models).values()
        if isinstance(obj, type)
        and issubclass(obj, models.WireModel)
        and obj is not models.WireModel
        and not obj.__name__.startswith("_")  # private bases share fields; the models they serve are checked
    ]


@pytest.mark.parametrize("model", _wire_models(), ids=lambda m: m.__name__)
def test_fields_match_the_sdk_model(model: type[BaseModel]) -> None:
    """Wire names, and enum values where we narrow a field, are the SDK's."""
    sdk = _subset()[_RENAMED.get(model.__name__, model.__name__)]
    for name, field in model.model_fields.items():
        wire = field.alias or name
        assert wire in sdk, f"{model.__name__}.{name}: {wire!r} is not a field of the SDK model"
        enum = sdk[wire].get("enum")
        literals = _literals(field.annotation)
        if literals:
            assert enum is not None, f"{wire}: we restrict values the SDK leaves open"
            assert set(literals) <= set(enum), f"{wire}: {set(literals) - set(enum)} not in SDK enum"


def _literals(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [lit for arg in typing.get_args(annotation) for lit in _literals(arg)]
