"""When to look again: learn how long Genesys takes to make things Active, and poll around that.

Polling spends rate-limit budget that creates could use. A bulk run sees the same kind of object
turn Active again and again, so after a few samples the first look is placed just before the usual
time, and later looks back off from there.
"""

from __future__ import annotations

from collections import deque
from statistics import median

_SAMPLES = 25
_MIN_SAMPLES = 3
_LEAD = 0.9  # look slightly before the median, so a typical wait costs one or two calls


class ActivationClock:
    """Recent times-to-Active per kind of object (configuration draft, deployment)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}

    def first_delay(self, kind: str, default_s: float) -> float:
        """How long to wait before the first look at a `kind` that was just created or changed."""
        seen = self._seen.get(kind)
        if seen is None or len(seen) < _MIN_SAMPLES:
            return default_s
        return max(default_s, _LEAD * median(seen))

    def observe(self, kind: str, seconds: float) -> None:
        """Record that a `kind` took `seconds` to become Active."""
        self._seen.setdefault(kind, deque(maxlen=_SAMPLES)).append(seconds)
