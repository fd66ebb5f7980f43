"""Client-side pacing: spread requests under the org's rate limit so a bulk run meets few 429s.

Genesys allows a budget per client-credentials token per minute (300 by default, raisable) and tells
the client where it stands on every answer (`inin-ratelimit-allowed`, `-count`, `-reset`). The pacer
spaces requests evenly at a safe fraction of that budget, learns the real budget from the headers,
and stops sending altogether until a 429's Retry-After has passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

# Aim below the budget so clock skew between our windows and Genesys's never tips us over.
_SAFETY = 0.97


class Pacer:
    """An evenly spaced request schedule at `requests_per_minute`, shared by all callers."""

    def __init__(self, requests_per_minute: float, *, window_s: float = 60.0) -> None:
        self._window = window_s
        self._interval = 0.0
        self.set_budget(requests_per_minute)
        self._next_slot = 0.0
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()

    @property
    def requests_per_minute(self) -> float:
        return 0.0 if self._interval == 0 else 60.0 / self._interval / _SAFETY

    def set_budget(self, requests_per_minute: float) -> None:
        """Pace for a new budget (0 or less turns pacing off)."""
        if requests_per_minute <= 0:
            self._interval = 0.0
        else:
            per_second = requests_per_minute * _SAFETY / self._window
            self._interval = 1.0 / per_second

    async def wait_turn(self) -> None:
        """Wait until this caller may send its next request."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next_slot, self._blocked_until)
            self._next_slot = start + self._interval
        delay = start - now
        if delay > 0:
            await asyncio.sleep(delay)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the budget and the window's state from Genesys's rate-limit headers."""
        allowed = _number(headers.get("inin-ratelimit-allowed"))
        if allowed is not None and allowed > 0:
            budget = allowed * 60.0 / self._window
            if self._interval == 0 or abs(budget - self.requests_per_minute) > 0.5:
                self.set_budget(budget)
        count = _number(headers.get("inin-ratelimit-count"))
        reset = _number(headers.get("inin-ratelimit-reset"))
        if allowed and count is not None and reset is not None and count >= allowed:
            # The window is spent: nothing more can succeed before it resets.
            self.block_for(reset)

    def block_for(self, seconds: float) -> None:
        """Send nothing for `seconds` (a 429's Retry-After, or a spent window)."""
        self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
