"""The Genesys calls of one run, for the latency summary `gcwm provision` ends with.

A run opens `recording_calls()`; the transport reports each attempt through
`gcwm.observability.metrics.observe_genesys_call`, which adds it here. The samples live exactly as
long as the run: they hang on a context variable set for the run's context only, so the tasks the
run starts (its jobs) report into it, and a long-lived `gcwm serve` that opens none keeps nothing.

Recorders nest: a worker opens one per job (its calls are stored with the job) inside the run's, and
each call goes to every recorder open in its context.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from gcwm.observability.latency import Distribution

_current: ContextVar[tuple[CallSamples, ...]] = ContextVar("gcwm_call_samples", default=())


@dataclass(frozen=True)
class Call:
    """One attempt: its operation, answer status, duration (ms) and when it ended (UTC)."""

    operation: str
    status: str
    duration_ms: float
    at: datetime


class CallSamples:
    """Every Genesys call attempt of one run: its duration (ms) and answer status, per operation."""

    def __init__(self) -> None:
        self._ms: dict[str, list[float]] = {}
        self._statuses: dict[str, Counter[str]] = {}
        self._calls: list[Call] = []

    def record(self, operation: str, status: str, seconds: float, at: datetime | None = None) -> None:
        """One attempt answered with `status` ("none": no answer) after `seconds`, ending at `at`."""
        ms = seconds * 1000
        self._ms.setdefault(operation, []).append(ms)
        self._statuses.setdefault(operation, Counter())[status] += 1
        self._calls.append(Call(operation, status, ms, at or datetime.now(UTC)))

    @property
    def calls(self) -> list[Call]:
        """Every attempt, in the order they ended."""
        return list(self._calls)

    def __len__(self) -> int:
        return sum(len(samples) for samples in self._ms.values())

    def distributions(self) -> dict[str, tuple[Distribution, dict[str, int]]]:
        """Per operation: the distribution of its attempts' durations and its answers by status."""
        return {op: (Distribution.of(samples), dict(self._statuses[op])) for op, samples in self._ms.items()}


def current_calls() -> CallSamples | None:
    """The innermost recorder open in this context, if any."""
    open_ = _current.get()
    return open_[-1] if open_ else None


def record_call(operation: str, status: str, seconds: float) -> None:
    """One Genesys call attempt, added to every recorder open in this context."""
    open_ = _current.get()
    if open_:
        at = datetime.now(UTC)
        for samples in open_:
            samples.record(operation, status, seconds, at)


@contextmanager
def recording_calls() -> Iterator[CallSamples]:
    """Record the Genesys calls made inside (and by tasks started inside) until the block ends;
    recorders already open keep receiving them too."""
    samples = CallSamples()
    token = _current.set((*_current.get(), samples))
    try:
        yield samples
    finally:
        _current.reset(token)
