"""The Genesys calls of a finished job, written in the transaction that ends it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gcwm.store.sql import database_errors
from gcwm.store.tables import genesys_calls


class CallTiming(Protocol):
    """What is stored of one call attempt (gcwm.observability.calls.Call has this shape)."""

    @property
    def operation(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def duration_ms(self) -> float: ...
    @property
    def at(self) -> datetime: ...


class CallTimingRepository:
    """Call timings, on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, job_id: str, calls: Sequence[CallTiming]) -> int:
        """Store `calls` of job `job_id`, numbered in order, in one statement; how many."""
        if not calls:
            return 0
        # A job run again (resumed, taken over) adds its calls after those of its earlier runs.
        last = sa.select(sa.func.coalesce(sa.func.max(genesys_calls.c.seq), 0)).where(
            genesys_calls.c.job_id == job_id
        )
        with database_errors(f"reading the Genesys call timings of job {job_id}", self._connection):
            start = int(self._connection.execute(last).scalar_one()) + 1
        rows = [
            {
                "job_id": job_id,
                "seq": seq,
                "operation": call.operation,
                "status": call.status,
                "duration_ms": call.duration_ms,
                "at": call.at,
            }
            for seq, call in enumerate(calls, start=start)
        ]
        with database_errors(f"storing the Genesys call timings of job {job_id}", self._connection):
            self._connection.execute(genesys_calls.insert(), rows)
        return len(rows)
