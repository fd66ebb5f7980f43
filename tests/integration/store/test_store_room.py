"""The store room's borders: what it exports, what it imports, and that its migrations reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

import gcwm.store

STORE_DIR = Path(gcwm.store.__file__).parent


def test_exports_the_public_names_sorted() -> None:
    """__all__ is the room's public API, sorted, and every name in it exists."""
    names = list(gcwm.store.__all__)
    assert names == sorted(names)
    assert {"Store", "UnitOfWork", "connect"} <= set(names)  # what the other rooms build on
    assert all(hasattr(gcwm.store, name) for name in gcwm.store.__all__)


def test_imports_nothing_from_gcwm_but_errors() -> None:
    """The store depends on gcwm.errors (and gcwm.lazy, its exports on first use) and itself only, so
    every other room can use it."""
    outside = set()
    for path in STORE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if (
                    name.startswith("gcwm")
                    and name not in ("gcwm.errors", "gcwm.lazy")
                    and not name.startswith("gcwm.store")
                ):
                    outside.add(f"{path.relative_to(STORE_DIR)}: {name}")

    assert outside == set()


def test_migrations_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    """Every migration has a working downgrade, and upgrading afterwards rebuilds the tables."""
    config = Config()
    config.set_main_option("script_location", str(STORE_DIR / "migrations"))
    config.set_main_option("path_separator", "os")

    for action, revision in ((command.downgrade, "base"), (command.upgrade, "head")):
        with engine.connect() as connection, connection.begin():
            config.attributes["connection"] = connection
            action(config, revision)
        if revision == "base":
            assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}

    assert {"channels", "jobs", "job_steps"} <= set(sa.inspect(engine).get_table_names())
