"""Client-side pacing: keep requests under the org's rate limit so a bulk run meets few 429s.

Genesys allows a budget per client-credentials token per minute (300 by default, raisable) and tells
the client where it stands on every answer (`inin-ratelimit-allowed`, `-count`, `-reset`). The pacer
is a token bucket: a small burst goes out at once (one channel provisions without waiting), and a
long run is held to a steady rate. Bucket size plus a minute of refill stays within the budget for
any 60 s window, however Genesys aligns its windows. A spent window or a 429 stops all sending until
Genesys says the budget is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

# Refill at 98 % of the budget and allow a burst of 2 %: burst + refill per minute = the budget.
_REFILL_SHARE = 0.98
_BURST_SHARE = 0.02


class Pacer:
    """A token bucket sized from a per-minute budget, shared by every caller of one OAuth client."""

    def __init__(
        self,
        requests_per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._rate = 0.0  # tokens per second; 0 = no pacing
        self._capacity = 1.0
        self._tokens = 1.0
        self._budget = 0.0
        self.set_budget(requests_per_minute)
        self._tokens = self._capacity
        self._updated = clock()
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()

    @property
    def requests_per_minute(self) -> float:
        """The budget being paced for."""
        return self._budget

    def set_budget(self, requests_per_minute: float) -> None:
        """Pace for a new per-minute budget (0 or less turns pacing off)."""
        self._budget = max(0.0, requests_per_minute)
        self._rate = self._budget * _REFILL_SHARE / 60.0
        self._capacity = max(1.0, int(self._budget * _BURST_SHARE))
        self._tokens = min(self._tokens, self._capacity)

    async def wait_turn(self) -> None:
        """Wait until this caller may send its next request."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._blocked_until:
                    await self._sleep(self._blocked_until - now)
                    continue
                if self._rate == 0:
                    return
                self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                if self._tokens >= 1.0 - 1e-9:  # tolerance: float refill may land a hair under 1
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                # Holding the lock while waiting keeps callers in order (first come, first served).
                await self._sleep((1.0 - self._tokens) / self._rate)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the budget and the window's state from Genesys's rate-limit headers."""
        allowed = _number(headers.get("inin-ratelimit-allowed"))
        if allowed is not None and allowed > 0 and allowed != self._budget:
            self.set_budget(allowed)
        count = _number(headers.get("inin-ratelimit-count"))
        reset = _number(headers.get("inin-ratelimit-reset"))
        if allowed and count is not None and reset is not None and count >= allowed:
            # The window is spent: nothing more can succeed before it resets.
            self.block_for(reset)

    def block_for(self, seconds: float) -> None:
        """Send nothing for `seconds` (a 429's Retry-After, or a spent window).

        The bucket keeps filling meanwhile: its bound (burst + rate x time) holds for any interval
        whether or not we sent, and Genesys's window keeps running while we wait."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
