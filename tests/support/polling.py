"""Waiting for an event in a test: poll with a deadline, never sleep a guessed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def wait_until(probe: Callable[[], object], *, timeout_s: float = 30.0, what: str = "the condition") -> None:
    """Poll `probe` until it returns something truthy; fail, naming `what`, after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not probe():
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout_s:.0f} s waiting for {what}"
            raise AssertionError(msg)
        time.sleep(0.02)


async def eventually(
    probe: Callable[[], object], *, timeout_s: float = 30.0, what: str = "the condition"
) -> None:
    """`wait_until` for async tests: the event loop keeps running the work being waited for."""
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(probe):
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout_s:.0f} s waiting for {what}"
            raise AssertionError(msg)
        await asyncio.sleep(0.02)
