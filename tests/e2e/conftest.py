"""Run the real `gcwm` command, as users do, against the emulator and a real database."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import gcwm_command
from tests.support.databases import make_database_url


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_gcwm(
    args: list[str], env: dict[str, str], *, timeout: float = 120, cwd: Path | None = None
) -> Result:
    done = subprocess.run(
        [*gcwm_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind for a gcwm process to use."""
    with make_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL schema (skips, saying why, where PostgreSQL is absent)."""
    with make_database_url("postgresql", tmp_path) as url:
        yield url
