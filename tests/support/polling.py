"""Waiting for an event in a test: poll with a deadline, never sleep a guessed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

# The pause between probes grows from 10 ms to 100 ms: a probe is often a few queries or an HTTP call,
# and polling every 20 ms for seconds took CPU from the very servers and workers being waited for.
FIRST_PAUSE_S = 0.01
LAST_PAUSE_S = 0.1


def _pauses() -> Iterator[float]:
    pause = FIRST_PAUSE_S
    while True:
        yield pause
        pause = min(pause * 1.5, LAST_PAUSE_S)


def wait_until(probe: Callable[[], object], *, timeout_s: float = 30.0, what: str = "the condition") -> None:
    """Poll `probe` until it returns something truthy; fail, naming `what`, after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    pauses = _pauses()
    while not probe():
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout_s:.0f} s waiting for {what}"
            raise AssertionError(msg)
        time.sleep(next(pauses))


async def eventually(
    probe: Callable[[], object], *, timeout_s: float = 30.0, what: str = "the condition"
) -> None:
    """`wait_until` for async tests: the event loop keeps running the work being waited for."""
    deadline = time.monotonic() + timeout_s
    pauses = _pauses()
    while not await asyncio.to_thread(probe):
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout_s:.0f} s waiting for {what}"
            raise AssertionError(msg)
        await asyncio.sleep(next(pauses))
