"""A command imports only the rooms it uses: the pure ones (`domains`, `csp evaluate`, `--help`,
`--version`) load no database, HTTP client or web framework; and the rooms that re-export their names
lazily (PEP 562) export exactly what they say. Timings are bench/startup.py's, never a test's."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "gcwm"
# The libraries a pure command has no use for.
HEAVY = ("sqlalchemy", "alembic", "httpx", "fastapi", "uvicorn")
LAZY_ROOMS = sorted(
    p.parent.name for p in SRC.glob("*/__init__.py") if "_EXPORTS" in p.read_text(encoding="utf-8")
)


def _imported_by(args: list[str], home: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `gcwm ARGS` as the console script does, under `python -X importtime`; the top-level
    packages it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    env["GCWM_HOME"] = str(home)
    code = "import sys; from gcwm.cli import main; sys.argv[0] = 'gcwm'; main()"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    packages = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return done, packages


@pytest.mark.parametrize(
    ("args", "printed"),
    [
        (["domains", "example.com", "https://Shop.Example.com/"], "shop.example.com"),
        (["csp", "evaluate", "default-src 'self'"], "default-src 'self'"),
        (["csp", "evaluate", "script-src 'self'", "--region", "mypurecloud.ie"], "script-src 'self'"),
        (["--help"], "provision"),
        (["--version"], "gcwm "),
    ],
)
def test_pure_commands_import_no_database_http_client_or_web_framework(
    args: list[str], printed: str, tmp_path: Path
) -> None:
    """Checking a domain or a policy, or asking for help, loads neither SQLAlchemy, Alembic, httpx,
    FastAPI nor uvicorn (each costs a command tenths of a second to import)."""
    done, packages = _imported_by(args, tmp_path)

    assert printed in done.stdout, done.stderr[-2000:]
    assert {"gcwm", "typer"} <= packages  # the import list is read
    assert sorted(packages & set(HEAVY)) == []
    assert not any(tmp_path.iterdir())  # nor does it make gcwm's home


def _type_checking_imports(room: str) -> dict[str, str]:
    """The names the room's __init__ imports for type checkers, and the module of each."""
    tree = ast.parse((SRC / room / "__init__.py").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.module
                found.update({alias.asname or alias.name: statement.module for alias in statement.names})
    return found


@pytest.mark.parametrize("room", LAZY_ROOMS)
def test_lazy_room_exports_what_it_declares(room: str) -> None:
    """A lazily exporting room lists each name once, for type checkers and for the run-time import
    alike, and every name resolves to the object its module defines."""
    module = importlib.import_module(f"gcwm.{room}")
    exports: dict[str, str] = module._EXPORTS

    assert _type_checking_imports(room) == exports
    assert sorted(exports) == sorted(module.__all__)
    for name, source in exports.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name)


def test_lazy_room_refuses_an_unknown_name() -> None:
    """An unknown name is an AttributeError (so `from gcwm.store import submodule` still works)."""
    import gcwm.store

    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        _ = gcwm.store.NoSuchName  # type: ignore[attr-defined]
    from gcwm.store import tables

    assert tables.metadata is not None
