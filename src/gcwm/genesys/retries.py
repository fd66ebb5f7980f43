"""When and how long to wait before trying a Genesys call again (used with stamina).

- 429: exactly the Retry-After Genesys sent (honoured up to 180 s, as the official Go SDK does), plus a
  little jitter so clients do not stampede.
- 502/503/504, a 5xx but 501 on a read, connect errors and timeouts: exponential backoff with full jitter.
- A 400 on a write that names an object made seconds before: backoff until its window (30 s, as the
  Terraform provider) ends. A 400 is a refusal, so even a create may be sent again.
- Anything else (other 400s, 401, 403, 404, 409, a 500 on a write...): not retried here; which
  failures pass is `gcwm.errors.is_transient`.
A create whose outcome is unknown is not retried here either: the caller looks the object up first.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from gcwm.errors import (
    GenesysBadRequest,
    GenesysError,
    GenesysRateLimited,
    GenesysTransportError,
    is_transient,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying one call: attempts, total budget, backoff base and cap."""

    attempts: int = 8
    budget_s: float = 300.0
    backoff_base_s: float = 0.25
    backoff_cap_s: float = 20.0
    retry_after_jitter_s: float = 0.5
    # The official Go SDK retries a 429 while Retry-After is at most 180 s (shared/genesys, [S14]).
    retry_after_cap_s: float = 180.0
    # How long a 400 on a write naming a fresh object is retried (the provider's 30 s, [S5]).
    fresh_object_400_s: float = 30.0


class BackoffHook:
    """A stamina `on=` hook for one call: decides per failure whether and how long to wait."""

    def __init__(self, policy: RetryPolicy, *, resend_unknown: bool, rng: random.Random) -> None:
        self._policy = policy
        self._resend_unknown = resend_unknown
        self._rng = rng
        self._failures = 0

    def __call__(self, exc: Exception) -> bool | float:
        p = self._policy
        if isinstance(exc, GenesysRateLimited):
            # A 429 was not executed, so even a create may be sent again.
            wait = exc.retry_after_s + self._rng.uniform(0, p.retry_after_jitter_s)
            return min(p.retry_after_cap_s, wait)
        if isinstance(exc, GenesysTransportError) and not exc.request_sent:
            return self._full_jitter()  # never left: even a create is safe to send again
        if isinstance(exc, GenesysBadRequest):
            if not is_transient(exc) or exc.retry_until is None:
                return False
            # Refused, so nothing was made: even a create may go again, within the window.
            return max(0.001, min(self._full_jitter(), exc.retry_until - time.monotonic()))
        if isinstance(exc, GenesysError) and is_transient(exc) and self._resend_unknown:
            return self._full_jitter()
        return False

    def _full_jitter(self) -> float:
        self._failures += 1
        ceiling = min(self._policy.backoff_cap_s, self._policy.backoff_base_s * 2**self._failures)
        # Never 0: stamina reads a float as "wait this long", and 0.0 would spin.
        return max(0.001, self._rng.uniform(0, ceiling))
