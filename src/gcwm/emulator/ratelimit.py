"""Per-token request budget over a fixed window, and the `inin-ratelimit-*` headers.

Genesys's budget is `client.credentials.token.rate.per.minute` = 300 per token (README). The header
meanings (used / allowed / seconds to reset) are inferred from observed values there. Emulator
choices: the window starts at a token's first request; requests answered 429 do not count."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Float noise in `reset_s` ((t + 60) - t can be 60.00000000000001) must not round up to a whole
# second more than the window: 61 for a 60 s window.
_ROUNDING_SLACK_S = 1e-9


def _whole_seconds(seconds: float) -> int:
    return math.ceil(seconds - _ROUNDING_SLACK_S)


@dataclass(frozen=True)
class Decision:
    """Whether a request is within budget, and the numbers the headers report."""

    allowed: bool
    count: int
    budget: int
    reset_s: float

    @property
    def retry_after_s(self) -> int:
        """Whole seconds until the window resets, at least 1 (the `Retry-After` value)."""
        return max(1, _whole_seconds(self.reset_s))

    def headers(self) -> dict[str, str]:
        return {
            "inin-ratelimit-count": str(self.count),
            "inin-ratelimit-allowed": str(self.budget),
            "inin-ratelimit-reset": str(_whole_seconds(self.reset_s)),
        }


@dataclass
class _Window:
    start: float
    count: int = 0


class RateLimiter:
    """Fixed windows of `window_s`, one per token."""

    def __init__(self, budget: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self.window_s = window_s
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def take(self, token: str) -> Decision:
        """Spend one request of the token's budget, unless it is used up."""
        with self._lock:
            # Read under the lock: a `now` older than a window another thread just started would
            # put more than a whole window before its reset.
            now = self._clock()
            window = self._windows.get(token)
            if window is None or now - window.start >= self.window_s:
                window = self._windows[token] = _Window(now)
            reset = min(max(self.window_s - (now - window.start), 0.0), self.window_s)
            if window.count >= self.budget:
                return Decision(False, window.count, self.budget, reset)
            window.count += 1
            return Decision(True, window.count, self.budget, reset)

    def idle(self) -> Decision:
        """Headers for an answer with no token behind it (nothing spent)."""
        return Decision(True, 0, self.budget, self.window_s)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
