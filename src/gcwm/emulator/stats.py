"""Counters of what the emulator answered, for gcwm's tests and benchmark (`GET /emulator/stats`)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Request, status, login and fault counters; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # A gauge of answers in flight, not a counter: `clear` leaves it, or a hold ending after a
        # reset would take it below zero.
        self.held_answers = 0
        self.delayed_requests = 0
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.requests = 0
            self.http429 = 0
            self.http5xx = 0
            self.logins = 0
            self.commit_then_fail = 0
            self.committed_then_held = 0
            self.dependency_400s = 0
            self.by_operation: Counter[str] = Counter()
            self.by_status: Counter[int] = Counter()

    def count_request(self, operation: str) -> None:
        with self._lock:
            self.requests += 1
            self.by_operation[operation] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self.by_status[status] += 1
            if status == 429:
                self.http429 += 1
            elif status >= 500:
                self.http5xx += 1

    def count_login(self) -> None:
        with self._lock:
            self.logins += 1

    def count_commit_then_fail(self) -> None:
        with self._lock:
            self.commit_then_fail += 1

    def count_dependency_400(self) -> None:
        """A write naming an object made moments before was answered a transient 400."""
        with self._lock:
            self.dependency_400s += 1

    def hold_started(self) -> None:
        """A committed write's answer is being held back (commit-then-delay)."""
        with self._lock:
            self.held_answers += 1
            self.committed_then_held += 1

    def hold_ended(self) -> None:
        with self._lock:
            self.held_answers -= 1

    def delay_started(self) -> None:
        """A request is waiting out a latency rule before it is carried out."""
        with self._lock:
            self.delayed_requests += 1

    def delay_ended(self) -> None:
        with self._lock:
            self.delayed_requests -= 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "http429": self.http429,
                "http5xx": self.http5xx,
                "logins": self.logins,
                "commitThenFail": self.commit_then_fail,
                "committedThenHeld": self.committed_then_held,
                "heldAnswers": self.held_answers,
                "delayedRequests": self.delayed_requests,
                "dependency400s": self.dependency_400s,
                "byOperation": dict(sorted(self.by_operation.items())),
                "byStatus": {str(k): v for k, v in sorted(self.by_status.items())},
            }
