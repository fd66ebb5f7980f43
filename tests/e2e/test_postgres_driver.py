"""PostgreSQL's driver is the `gcwm[postgres]` extra: a SQLite install never imports it, and a
postgresql:// URL without it fails saying what to install.

The driver is hidden from the `gcwm` process by a `psycopg` package earlier on its path that notes
each import and then fails as a missing module does (the installed one stays untouched)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import ROOT, gcwm_command
from tests.support.service import clean_environment

_HIDDEN = """\
import os
with open(os.environ["GCWM_TEST_IMPORT_NOTE"], "a") as note:
    note.write(__name__ + "\\n")
raise ModuleNotFoundError("No module named 'psycopg'", name="psycopg")
"""


def _without_psycopg(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose Python cannot import psycopg, and the file each attempt is noted in."""
    shadow = tmp_path / "no-psycopg"
    for name in ("psycopg", "psycopg_binary", "psycopg2"):
        (shadow / name).mkdir(parents=True)
        (shadow / name / "__init__.py").write_text(_HIDDEN)
    note = tmp_path / "imports.txt"
    env = clean_environment()
    env["PYTHONPATH"] = os.pathsep.join([str(shadow), *filter(None, [env.get("PYTHONPATH")])])
    env["GCWM_TEST_IMPORT_NOTE"] = str(note)
    env["GCWM_HOME"] = str(tmp_path / "home")
    return env, note


def _gcwm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*gcwm_command(), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_provision_on_sqlite_never_imports_the_postgres_driver(tmp_path: Path) -> None:
    """The default database, the embedded emulator, a whole provision: no psycopg import attempted."""
    env, note = _without_psycopg(tmp_path)
    done = _gcwm(env, "provision", "examples/channel.yaml")
    assert done.returncode == 0, done.stderr
    assert not note.exists(), f"imported: {note.read_text()}"


def test_a_postgres_url_without_the_driver_names_the_extra_to_install(tmp_path: Path) -> None:
    """The error says which URL (without its password) and `pip install 'gcwm[postgres]'`."""
    env, note = _without_psycopg(tmp_path)
    env["GCWM_DATABASE_URL"] = "postgresql://gcwm:s3cret@127.0.0.1:9/gcwm"
    done = _gcwm(env, "jobs", "list")
    assert done.returncode != 0
    assert "pip install 'gcwm[postgres]'" in done.stderr, done.stderr
    assert "postgresql+psycopg://gcwm:***@127.0.0.1:9/gcwm" in done.stderr, done.stderr
    assert "s3cret" not in done.stderr
    assert "Traceback" not in done.stderr
    assert note.read_text().split() == ["psycopg"]
