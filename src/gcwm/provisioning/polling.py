"""When to look first: learn how long Genesys takes to make things Active, and look around then.

A bulk run sees the same kind of object turn Active again and again, so after a few samples the first
look is placed just before the quickest recent activations. Waits seen under load include the time
between shared listing reads, so the quick end of the samples is the better estimate of Genesys's own
time; a later look backs off from there.
"""

from __future__ import annotations

from collections import deque

_SAMPLES = 25
_MIN_SAMPLES = 3
_LEAD = 0.9  # look slightly before the quick end, so a typical wait costs one or two looks


class ActivationClock:
    """Recent times-to-Active per kind of object (configuration draft, deployment)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}

    def first_delay(self, kind: str, default_s: float) -> float:
        """How long to wait before the first look at a `kind` that was just created or changed."""
        seen = self._seen.get(kind)
        if seen is None or len(seen) < _MIN_SAMPLES:
            return default_s
        quick = sorted(seen)[len(seen) // 10]  # the 10th percentile
        return max(default_s, _LEAD * quick)

    def observe(self, kind: str, seconds: float) -> None:
        """Record that a `kind` took `seconds` to become Active."""
        self._seen.setdefault(kind, deque(maxlen=_SAMPLES)).append(seconds)
