"""Client-side pacing: keep requests under the org's rate limit so a bulk run meets few 429s.

Genesys allows a budget per client-credentials token per minute (300 by default, raisable) and tells
the client where it stands on every answer (`inin-ratelimit-allowed`, `-count`, `-reset`). The pacer
is a token bucket: a small burst goes out at once (one channel provisions without waiting), and a
long run is held to a steady rate.

Without those headers the bucket alone must keep every 60 s window within the budget, however
Genesys aligns its windows: burst (2 %) + a minute of refill (98 %) = the budget. Once the headers
are seen, the window's own count is the guard: the pacer refills at the full budget, may send up to
5 % of it at once (a single channel's twenty calls do not queue at 5 per second), and stops sending
when the requests still unanswered would spend what the window has left, until it resets. A 429
stops all sending for its Retry-After.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

_BLIND_BURST_SHARE = 0.02
_BLIND_REFILL_SHARE = 0.98  # burst + refill = budget, with no view of Genesys's window
# With the window's count in view, that count stops us before the budget is spent; the bucket only
# spreads requests out.
_GUARDED_BURST_SHARE = 0.05
_GUARDED_REFILL_SHARE = 1.0


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
        self._guarded = False
        self._budget = 0.0
        self._rate = 0.0  # tokens per second; 0 = no pacing
        self._capacity = 1.0
        self._tokens = 1.0
        self.set_budget(requests_per_minute)
        self._tokens = self._capacity
        self._updated = clock()
        self._blocked_until = 0.0
        self._in_flight = 0
        self._lock = asyncio.Lock()

    @property
    def requests_per_minute(self) -> float:
        """The budget being paced for."""
        return self._budget

    def set_budget(self, requests_per_minute: float) -> None:
        """Pace for a new per-minute budget (0 or less turns pacing off)."""
        self._budget = max(0.0, requests_per_minute)
        refill, burst = (
            (_GUARDED_REFILL_SHARE, _GUARDED_BURST_SHARE)
            if self._guarded
            else (_BLIND_REFILL_SHARE, _BLIND_BURST_SHARE)
        )
        self._rate = self._budget * refill / 60.0
        capacity = max(1.0, float(int(self._budget * burst)))
        # A larger bucket starts as full as the smaller one was, plus what it adds.
        self._tokens = max(0.0, min(capacity, self._tokens + capacity - self._capacity))
        self._capacity = capacity

    async def wait_turn(self) -> None:
        """Wait until this caller may send its next request; call `answered()` when it returns."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._blocked_until:
                    await self._sleep(self._blocked_until - now)
                    continue
                if self._rate == 0:
                    break
                self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                if self._tokens >= 1.0 - 1e-9:  # tolerance: float refill may land a hair under 1
                    self._tokens = max(0.0, self._tokens - 1.0)
                    break
                # Holding the lock while waiting keeps callers in order (first come, first served).
                await self._sleep((1.0 - self._tokens) / self._rate)
            self._in_flight += 1

    def answered(self, headers: Mapping[str, str] | None = None) -> None:
        """A request sent after `wait_turn` is over; learn from its rate-limit headers if any."""
        self._in_flight = max(0, self._in_flight - 1)
        if headers is None:
            return
        allowed = _number(headers.get("inin-ratelimit-allowed"))
        count = _number(headers.get("inin-ratelimit-count"))
        reset = _number(headers.get("inin-ratelimit-reset"))
        if allowed is None or allowed <= 0:
            return
        if count is not None and reset is not None and not self._guarded:
            self._guarded = True
            self.set_budget(allowed)
        elif allowed != self._budget:
            self.set_budget(allowed)
        if count is not None and reset is not None and allowed - count <= self._in_flight:
            # What is still on its way spends the rest of this window: wait for the next one.
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
