"""The API's tests run against a live `gcwm serve` subprocess working against the test emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import make_database_url
from tests.support.service import RunningService, start_service


@pytest.fixture
def service_database() -> str:
    """Which database the service uses; a test asks for PostgreSQL with
    `@pytest.mark.parametrize("service_database", ["postgresql"], indirect=True)`."""
    return "sqlite"


@pytest.fixture
def service(
    gcwm_env: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[RunningService]:
    """`gcwm serve` on a free port with a key per role, its own home, against the `emulator` fixture."""
    kind = getattr(request, "param", None) or request.getfixturevalue("service_database")
    if kind == "sqlite":
        with start_service(gcwm_env, tmp_path) as running:
            yield running
        return
    with (
        make_database_url(kind, tmp_path) as url,
        start_service(gcwm_env, tmp_path, database_url=url) as running,
    ):
        yield running
