"""gcwm's files are its user's alone: GCWM_HOME is made 0700 and every file gcwm makes in it (the
SQLite database and its -wal/-shm, the audit key and head, their locks) 0600, whatever the umask.

The commands run under umask 022, the usual one, which alone would give 0755 and 0644."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ROOT, gcwm_command
from tests.support.polling import wait_until
from tests.support.service import clean_environment, start_service

EMULATOR_FILES = ("emulator-state.json", "emulator-state.json.journal")


def _modes(home: Path) -> dict[str, int]:
    """Permission bits of everything under `home`, by path relative to it."""
    return {str(p.relative_to(home)): stat.S_IMODE(p.lstat().st_mode) for p in sorted(home.rglob("*"))}


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def _provision_on_a_fresh_home(tmp_path: Path) -> Path:
    home = tmp_path / "new" / "gcwm-home"  # neither it nor its parent exists yet
    env = {**clean_environment(), "GCWM_HOME": str(home)}
    done = subprocess.run(
        [*gcwm_command(), "provision", "examples/channel.yaml"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=0o022,
    )
    assert done.returncode == 0, done.stderr
    return home


def test_provision_on_a_fresh_home_makes_it_0700_and_its_files_0600(tmp_path: Path) -> None:
    """The embedded emulator's run: database, audit key, head and locks are the user's alone."""
    home = _provision_on_a_fresh_home(tmp_path)
    modes = _modes(home)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert {"gcwm.db", "audit-key.pem", "audit-head.json"} <= set(modes), modes
    ours = {name: oct(mode) for name, mode in modes.items() if name not in EMULATOR_FILES}
    assert ours == {name: oct(0o600) for name in ours}


def test_the_embedded_emulators_state_in_the_home_is_0600_too(tmp_path: Path) -> None:
    """Its org lives in GCWM_HOME next to gcwm's files; the snapshot and journal are private too."""
    home = _provision_on_a_fresh_home(tmp_path)
    modes = _modes(home)
    assert set(EMULATOR_FILES) <= set(modes), modes
    assert {name: oct(modes[name]) for name in EMULATOR_FILES} == {
        name: oct(0o600) for name in EMULATOR_FILES
    }


def test_a_serving_databases_wal_and_shm_files_are_0600(gcwm_env: dict[str, str], tmp_path: Path) -> None:
    """SQLite makes -wal and -shm while connections are open; `gcwm serve` holds them open."""
    with _umask(0o022), start_service(gcwm_env, tmp_path) as service:
        with service.client("viewer") as http:
            assert http.get("/v1/jobs").status_code == 200
        wait_until(
            lambda: {"gcwm.db-wal", "gcwm.db-shm"} <= set(_modes(service.home)),
            timeout_s=10,
            what="the database's -wal and -shm files",
        )
        modes = _modes(service.home)
    assert {name: oct(mode) for name, mode in modes.items()} == {name: oct(0o600) for name in modes}
