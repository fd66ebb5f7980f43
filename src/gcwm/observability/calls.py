"""The Genesys calls of one run, for the latency summary `gcwm provision` ends with.

A run opens `recording_calls()`; the transport reports each attempt through
`gcwm.observability.metrics.observe_genesys_call`, which adds it here. The samples live exactly as
long as the run: they hang on a context variable set for the run's context only, so the tasks the
run starts (its jobs) report into it, and a long-lived `gcwm serve` that opens none keeps nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from gcwm.observability.latency import Distribution

_current: ContextVar[CallSamples | None] = ContextVar("gcwm_call_samples", default=None)


class CallSamples:
    """Every Genesys call attempt of one run: its duration (ms) and answer status, per operation."""

    def __init__(self) -> None:
        self._ms: dict[str, list[float]] = {}
        self._statuses: dict[str, Counter[str]] = {}

    def record(self, operation: str, status: str, seconds: float) -> None:
        """One attempt answered with `status` ("none": no answer) after `seconds`."""
        self._ms.setdefault(operation, []).append(seconds * 1000)
        self._statuses.setdefault(operation, Counter())[status] += 1

    def __len__(self) -> int:
        return sum(len(samples) for samples in self._ms.values())

    def distributions(self) -> dict[str, tuple[Distribution, dict[str, int]]]:
        """Per operation: the distribution of its attempts' durations and its answers by status."""
        return {op: (Distribution.of(samples), dict(self._statuses[op])) for op, samples in self._ms.items()}


def current_calls() -> CallSamples | None:
    """The samples of the run in progress in this context, if one is recording."""
    return _current.get()


@contextmanager
def recording_calls() -> Iterator[CallSamples]:
    """Record the Genesys calls made inside (and by tasks started inside) until the block ends."""
    samples = CallSamples()
    token = _current.set(samples)
    try:
        yield samples
    finally:
        _current.reset(token)
