"""Each room of src/gcwm imports only what its job allows, and exports a sorted __all__."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "gcwm"

# room -> the gcwm modules it may import besides itself.
ALLOWED = {
    "emulator": set(),  # stands in for the cloud: nothing of gcwm
    "store": {"gcwm.errors"},
    "observability": {"gcwm.errors"},
    "genesys": {"gcwm.errors", "gcwm.observability"},
    "provisioning": {"gcwm.errors", "gcwm.spec", "gcwm.genesys", "gcwm.store", "gcwm.observability"},
}


def _gcwm_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = (
            [node.module]
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        found.update(n for n in names if n == "gcwm" or n.startswith("gcwm."))
    return found


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_room_imports_only_what_it_may(room: str) -> None:
    """Data flows one way: spec -> provisioning -> genesys/store; the emulator stands alone."""
    allowed = {f"gcwm.{room}", *ALLOWED[room]}
    wrong = {
        f"{path.relative_to(SRC)}: {name}"
        for path in (SRC / room).rglob("*.py")
        for name in _gcwm_imports(path)
        if not any(name == a or name.startswith(f"{a}.") for a in allowed)
    }
    assert wrong == set()


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_room_exports_a_sorted_all(room: str) -> None:
    """Other rooms import a room's public names, listed once and sorted."""
    module = importlib.import_module(f"gcwm.{room}")
    assert module.__doc__, f"gcwm.{room} has no docstring saying its job"
    names = list(module.__all__)
    assert names == sorted(names)
    assert all(hasattr(module, name) for name in names)


def test_genesys_paths_live_only_in_the_client_and_the_emulator() -> None:
    """Only genesys/ (and the emulator) know Genesys's wire paths."""
    outside = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if '"/api/v2/' in p.read_text() and p.relative_to(SRC).parts[0] not in ("genesys", "emulator")
    ]
    assert outside == []
