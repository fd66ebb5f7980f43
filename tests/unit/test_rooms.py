"""Each room and top-level module of src/gcwm imports only what its job allows, never another room's
private names, and each room exports a sorted __all__."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "gcwm"

# room or top-level module -> the gcwm modules it may import besides itself.
ALLOWED = {
    "emulator": set(),  # stands in for the cloud: nothing of gcwm
    "errors": set(),  # the root of the error tree everyone imports
    "lazy": set(),  # a package's names imported on first use (PEP 562)
    "waits": set(),  # waiting for an event with a time limit, cancellations kept
    "store": {"gcwm.errors", "gcwm.lazy"},
    "policy": {"gcwm.errors", "gcwm.lazy"},  # pure: the caller fetches the data and passes it in
    "audit": {"gcwm.errors", "gcwm.lazy", "gcwm.store", "gcwm.observability"},
    "notify": {
        "gcwm.errors",
        "gcwm.lazy",
        "gcwm.waits",
        "gcwm.spec",
        "gcwm.store",
        "gcwm.policy",
        "gcwm.observability",
        "gcwm.audit",
    },
    "observability": {"gcwm.errors", "gcwm.lazy"},
    "spec": {"gcwm.errors"},
    "settings": {"gcwm.errors"},
    "genesys": {"gcwm.errors", "gcwm.lazy", "gcwm.observability"},
    "provisioning": {
        "gcwm.errors",
        "gcwm.lazy",
        "gcwm.waits",
        "gcwm.spec",
        "gcwm.policy",
        "gcwm.audit",
        "gcwm.notify",
        "gcwm.genesys",
        "gcwm.store",
        "gcwm.observability",
    },
    # Entry points: they wire and render; only bootstrap picks concrete classes.
    "bootstrap": {
        "gcwm.api",
        "gcwm.observability",
        "gcwm.audit",
        "gcwm.notify",
        "gcwm.errors",
        "gcwm.settings",
        "gcwm.genesys",
        "gcwm.policy",
        "gcwm.provisioning",
        "gcwm.store",
        "gcwm.emulator",
    },
    "render": {"gcwm.provisioning"},
    # The HTTP service parses and renders like the CLI; the use cases are the service layer's.
    "api": {
        "gcwm",
        "gcwm.errors",
        "gcwm.settings",
        "gcwm.spec",
        "gcwm.store",
        "gcwm.provisioning",
        "gcwm.observability",
        "gcwm.policy",
        "gcwm.audit",
        "gcwm.notify",
    },
    "preview": {"gcwm.errors", "gcwm.policy"},
    "cli": {
        "gcwm",
        "gcwm.errors",
        "gcwm.settings",
        "gcwm.spec",
        "gcwm.store",
        "gcwm.provisioning",
        "gcwm.observability",
        "gcwm.bootstrap",
        "gcwm.render",
        "gcwm.emulator",
        "gcwm.policy",
        "gcwm.genesys",
        "gcwm.preview",
        "gcwm.audit",
        "gcwm.notify",
        "gcwm.api",
    },
}
ROOMS = sorted(p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def _sources(name: str) -> list[Path]:
    return sorted((SRC / name).rglob("*.py")) if (SRC / name).is_dir() else [SRC / f"{name}.py"]


def _gcwm_imports(path: Path) -> set[str]:
    """Every gcwm module or name imported, as dotted paths (`gcwm.x.y` or `gcwm.x.y.name`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "gcwm" or node.module.startswith("gcwm."):
                found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name == "gcwm" or a.name.startswith("gcwm."))
    return found


def test_every_room_and_top_level_module_has_rules() -> None:
    """A new room or module must say what it may import."""
    modules = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    assert set(ROOMS) | modules <= set(ALLOWED)


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_imports_only_what_its_job_allows(name: str) -> None:
    """Data flows one way: spec -> provisioning -> genesys/store; the emulator stands alone."""
    allowed = {f"gcwm.{name}", *ALLOWED[name]}
    wrong = {
        f"{path.relative_to(SRC)}: {imported}"
        for path in _sources(name)
        for imported in _gcwm_imports(path)
        if not any(imported == a or imported.startswith(f"{a}.") for a in allowed)
        and imported != "gcwm.__version__"
    }
    assert wrong == set()


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_never_imports_another_rooms_private_names(name: str) -> None:
    """`_`-prefixed modules and names are their room's own business."""
    private = {
        f"{path.relative_to(SRC)}: {imported}"
        for path in _sources(name)
        for imported in _gcwm_imports(path)
        if not imported.startswith(f"gcwm.{name}.")
        and any(part.startswith("_") and part != "__version__" for part in imported.split(".")[1:])
    }
    assert private == set()


@pytest.mark.parametrize("room", ROOMS)
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


def test_genesys_literals_live_only_in_the_client_and_the_emulator() -> None:
    """Flow types, the draft's version name and statuses are wire knowledge."""
    literals = ('"INBOUNDSHORTMESSAGE"', '"DRAFT"', '"Deleting"', '"Pending"', '"Active"', '"Error"')
    outside = [
        f"{p.relative_to(SRC)}: {literal}"
        for p in SRC.rglob("*.py")
        for literal in literals
        if literal in p.read_text() and p.relative_to(SRC).parts[0] not in ("genesys", "emulator")
    ]
    assert outside == []
