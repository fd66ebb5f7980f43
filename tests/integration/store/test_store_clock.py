"""Leases are stamped and compared with the database's clock, so a worker whose own clock is wrong
neither steals a live lease nor hands out one that has already run out.

Each test runs a claim in a separate process under libfaketime, whose clock is an hour off while the
PostgreSQL server's is right (SQLite runs inside the worker, so there the host's clock is the
database's and this question does not arise)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gcwm.store import Job, Store
from tests.support.databases import make_database_url

ROOT = Path(__file__).parents[3]


def _claim_with_clock_off_by(offset: str, url: str, worker_id: str, lease_s: float) -> str:
    faketime = shutil.which("faketime")
    if faketime is None:
        pytest.skip("libfaketime is not installed (Debian package faketime): cannot skew a worker's clock")
    script = (
        "import sys; from tests.support.store_workers import claim_once; "
        "claim_once(sys.argv[1], sys.argv[2], float(sys.argv[3]))"
    )
    done = subprocess.run(
        [faketime, "-f", offset, sys.executable, "-c", script, url, worker_id, str(lease_s)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """PostgreSQL only: its clock is the server's, apart from any worker's."""
    with make_database_url(request.param, tmp_path) as url:
        yield url


def test_a_worker_whose_clock_runs_ahead_does_not_take_a_live_lease(
    store: Store, database_url: str, enqueue: Callable[..., Job]
) -> None:
    """An hour ahead, the skewed worker would think every lease long expired."""
    job = enqueue()
    with store.unit_of_work() as tx:
        assert tx.jobs.claim_next("worker-a", 60) is not None
    assert _claim_with_clock_off_by("+1h", database_url, "worker-ahead", 60) == "none"
    assert store.get_job(job.id).lease_owner == "worker-a"


def test_a_lease_taken_by_a_worker_whose_clock_runs_behind_is_not_already_expired(
    store: Store, database_url: str, enqueue: Callable[..., Job]
) -> None:
    """An hour behind, the skewed worker would write a lease that ran out before it began."""
    job = enqueue()
    assert _claim_with_clock_off_by("-1h", database_url, "worker-behind", 60) == job.id
    with store.unit_of_work() as tx:
        assert tx.jobs.claim_next("worker-b", 60) is None
    assert store.get_job(job.id).lease_owner == "worker-behind"
