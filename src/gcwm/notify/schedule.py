"""When a failed notification is tried again, and which answers end its tries at once.

The schedule is Svix's (research §1.3): immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
after each failure: 8 attempts over about 27.5 hours, then the message is dead-lettered. Each delay
gets +-10 % of random jitter, so messages that failed together do not all come back together; full
jitter would turn "10 h" into "any time in 10 h". A Retry-After the target sends is honoured as the
least wait (capped at a day). The schedule is a value the dispatcher is given, so tests run it with
zero delays instead of waiting hours.

Statuses: 2xx is delivered. Any 4xx except 408, 409, 425 and 429 is final (the request itself is
wrong: the same request will be refused again); 3xx is final too, as redirects are never followed
(Standard Webhooks: "3xx = failure"). Everything else (5xx, 408, 409, 425, 429, no answer) is retried.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

SVIX_DELAYS_S: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
#: 4xx answers that may well pass: timeout, conflict, too early, too many requests.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
MAX_RETRY_AFTER_S = 86400.0


@dataclass(frozen=True)
class RetrySchedule:
    """Delays before attempts 2, 3, ...; the first attempt is immediate. One try per delay, plus one."""

    delays_s: tuple[float, ...] = SVIX_DELAYS_S
    jitter: float = 0.1
    max_retry_after_s: float = MAX_RETRY_AFTER_S

    @property
    def max_attempts(self) -> int:
        """Attempts in all before a message is dead-lettered."""
        return len(self.delays_s) + 1

    def next_delay(
        self,
        attempts: int,
        *,
        retry_after_s: float | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> float | None:
        """Seconds to wait after failed attempt number `attempts` (1-based), or None when that was
        the last one."""
        if attempts >= self.max_attempts:
            return None
        base = self.delays_s[max(attempts, 1) - 1]
        delay = base * uniform(1.0 - self.jitter, 1.0 + self.jitter) if base > 0 else 0.0
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.max_retry_after_s))
        return delay


def is_final(status: int) -> bool:
    """True for an answer after which the same request is never sent again (redirects included)."""
    return 300 <= status < 400 or (400 <= status < 500 and status not in RETRYABLE_4XX)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); None if absent
    or unreadable."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
