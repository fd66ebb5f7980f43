"""api-supplement.json is what the installed official SDK says, extracted as api-subset.json was."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator.test_fidelity import SUBSET, SUPPLEMENT

sdk = pytest.importorskip("PureCloudPlatformClientV2")  # slow import: only in this module
extract = pytest.importorskip("tests.emulator.sdk_extract")

pytestmark = pytest.mark.sdk


def test_supplement_is_the_installed_sdks_answer() -> None:
    """Re-extracting from the installed SDK gives the packaged supplement, byte for byte in JSON."""
    assert extract.sdk_version() == "269.0.0"
    assert json.loads(json.dumps(extract.build_supplement())) == SUPPLEMENT


def test_the_extraction_reproduces_the_shared_subset() -> None:
    """The same extraction, run over the subset's own operations and models, gives api-subset.json:
    both files are made the same way."""
    apis = [getattr(sdk, name) for name in dir(sdk) if name.endswith("Api")]
    for operation in SUBSET["operations"]:
        api = next(a for a in apis if hasattr(a, operation["operation"]))
        assert extract.extract_operation(api.__name__, operation["operation"]) == operation
    roots = [m for op in SUBSET["operations"] for m in (op["request_body"], op["response"]) if m]
    models: dict[str, Any] = extract.models_reached([*roots, "ErrorBody"])
    assert models == SUBSET["models"]
