"""A job's Genesys call timings: every run of the job adds its own, after the earlier runs'."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from gcwm.store import Job, Store
from gcwm.store.tables import genesys_calls


@dataclass(frozen=True)
class _Call:
    operation: str
    status: str
    duration_ms: float
    at: datetime


def test_a_resumed_job_adds_its_calls_after_the_first_runs(store: Store, enqueue: Callable[..., Job]) -> None:
    """Regression: a second run numbered its calls from 1 again, the insert failed on the primary key
    and the job's end was not recorded until its lease ran out."""
    job = enqueue()
    now = datetime.now(UTC)
    first = [_Call("POST /api/v2/webdeployments/configurations", "200", 12.5, now)]
    second = [_Call("GET /api/v2/webdeployments/configurations", "200", 3.0, now), first[0]]
    with store.unit_of_work() as tx:
        assert tx.call_timings.add(job.id, first) == 1
    with store.unit_of_work() as tx:
        assert tx.call_timings.add(job.id, second) == 2
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(genesys_calls.c.seq, genesys_calls.c.operation).order_by(genesys_calls.c.seq)
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, "POST /api/v2/webdeployments/configurations"),
        (2, "GET /api/v2/webdeployments/configurations"),
        (3, "POST /api/v2/webdeployments/configurations"),
    ]
