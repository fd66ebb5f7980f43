"""Injected faults: targeted, counted rules first, then random ones drawn from a seeded RNG.

Random transient errors are 502/503/504 and 429, the statuses Genesys treats as retryable
(README, "Errors and rate limits"); a 500 only comes from commit-then-fail, whose outcome is
unknown to the client. Every request that reaches the draw takes the same five numbers from the
RNG, so one seed and one request sequence give one sequence of answers."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from random import Random
from typing import Any, Literal

from gcwm.emulator.config import EmulatorConfig, FaultRule
from gcwm.emulator.errors import ApiError

After = Literal["fail", "reset", "stall"]
# Emulator choice: a random 429 starts a burst that also hits this many next requests of the token.
BURST_EXTRA = 2
# Emulator choice: the Retry-After of an injected 429 when no rule says otherwise.
RANDOM_RETRY_AFTER_S = 1
_TRANSIENT = ((0.25, 502), (0.75, 503), (1.0, 504))
_AFTER_KINDS: tuple[After, ...] = ("fail", "reset", "stall")
_STATUS_OF = {"http400": 400, "http404": 404, "http409": 409, "http429": 429}
_STATUS_OF.update({f"http{s}": s for s in (500, 502, 503, 504)})
_MESSAGES = {
    400: "The request could not be understood by the server (emulated fault)",
    404: "The requested resource was not found (emulated fault)",
    409: "The resource was modified concurrently (emulated fault)",
    500: "The server encountered an internal error (emulated fault)",
    502: "Bad gateway (emulated fault)",
    503: "The service is temporarily unavailable (emulated fault)",
    504: "The request timed out (emulated fault)",
}


@dataclass
class FaultSettings:
    """The random-fault knobs, changeable at run time through `PUT /emulator/faults`."""

    fault_5xx_rate: float = 0.0
    fault_429_rate: float = 0.0
    commit_then_fail_rate: float = 0.0
    latency_ms: float = 0.0
    stall_s: float = 2.0
    seed: int | None = None
    # The first N publishes of each configuration, and the first N deployment creates naming each
    # published version, answer a transient 400 (shared/genesys/README.md, Corrections).
    dependency_400s: int = 0


@dataclass
class Plan:
    """What to do to one request: answer an error now, wait first, or break or hold back the answer
    afterwards (`hold_s`: send a committed write's answer only that much later; `malformed`: send a
    2xx answer with a body that is not JSON)."""

    error: ApiError | None = None
    delay_s: float = 0.0
    after: After | None = None
    hold_s: float | None = None
    malformed: bool = False
    rule: FaultRule | None = field(default=None, repr=False)


def too_many_requests(retry_after_s: int) -> ApiError:
    """The normalised 429 Genesys answers since 2021-11-10 (README, [S2])."""
    msg = f"Rate limit exceeded the maximum. Retry the request in [{retry_after_s}] seconds"
    return ApiError(429, msg, headers={"Retry-After": str(retry_after_s)})


def fault_error(status: int) -> ApiError:
    return ApiError(status, _MESSAGES[status])


def dependency_error(message: str, entity_id: str) -> ApiError:
    """The transient 400 of a write naming an object made moments before (the wording is the
    emulator's: Genesys's message for it is unconfirmed)."""
    return ApiError(400, message, code="bad.request", entity_id=entity_id)


class FaultInjector:
    """Decides, per request, which fault (if any) it gets."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self.settings = FaultSettings()
        self.rules: list[FaultRule] = []
        self._rng = Random()
        self._bursts: dict[str, int] = {}
        self._dependents: Counter[str] = Counter()
        self.reset(initial=True)

    def reset(self, *, initial: bool = False) -> None:
        """Back to the configured rates and rules at start (`initial`), or to no faults at all."""
        c = self._config
        with self._lock:
            if initial:
                self.settings = FaultSettings(
                    c.fault_5xx_rate,
                    c.fault_429_rate,
                    c.commit_then_fail_rate,
                    c.latency_ms,
                    c.stall_s,
                    c.seed,
                    c.dependency_400s,
                )
                self.rules = [replace(rule) for rule in c.rules]  # counts are used up here
            else:
                self.settings = FaultSettings(stall_s=c.stall_s, seed=c.seed)
                self.rules = []
            self._rng = Random(self.settings.seed)
            self._bursts.clear()
            self._dependents.clear()

    def is_too_soon(self, dependency: str) -> bool:
        """Whether this write naming `dependency` (e.g. "publish:<configuration id>") is among the
        first `dependency_400s` writes naming it, and so gets a transient 400. Every such write is
        counted, so raising the knob later also hits objects already written to fewer times."""
        with self._lock:
            seen = self._dependents[dependency]
            self._dependents[dependency] = seen + 1
            return seen < self.settings.dependency_400s

    def update(self, changes: dict[str, Any]) -> FaultSettings:
        """Change some knobs; naming `seed` (even the same one) restarts the RNG from it."""
        with self._lock:
            merged = {**asdict(self.settings), **changes}
            self.settings = FaultSettings(**merged)
            if "seed" in changes:
                self._rng = Random(self.settings.seed)
                self._bursts.clear()
            return self.settings

    def add_rule(self, rule: FaultRule) -> None:
        with self._lock:
            self.rules.append(rule)

    def clear_rules(self) -> None:
        with self._lock:
            self.rules.clear()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {**asdict(self.settings), "rules": [asdict(r) for r in self.rules]}

    def plan(self, method: str, path: str, token: str | None, *, random_faults: bool) -> Plan:
        """The fault for this request: the first matching rule (used up after `count` hits),
        else a random draw (API requests only)."""
        with self._lock:
            rule = self._take_rule(method, path)
            draws = [self._rng.random() for _ in range(5)] if random_faults else None
            if rule is not None:
                return _rule_plan(rule)
            if draws is None:
                return Plan()
            return self._random_plan(draws, method, token)

    def _take_rule(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method, path):
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
                return rule
        return None

    def _random_plan(self, draws: list[float], method: str, token: str | None) -> Plan:
        u429, u5xx, ustatus, uafter, ukind = draws
        s = self.settings
        key = token or ""
        if self._bursts.get(key, 0) > 0:
            self._bursts[key] -= 1
            return Plan(error=too_many_requests(RANDOM_RETRY_AFTER_S))
        if u429 < s.fault_429_rate:
            self._bursts[key] = BURST_EXTRA
            return Plan(error=too_many_requests(RANDOM_RETRY_AFTER_S))
        if u5xx < s.fault_5xx_rate:
            status = next(code for bound, code in _TRANSIENT if ustatus < bound)
            return Plan(error=fault_error(status))
        if method.upper() in ("POST", "PUT", "DELETE", "PATCH") and uafter < s.commit_then_fail_rate:
            return Plan(after=_AFTER_KINDS[min(int(ukind * 3), 2)])
        return Plan()


def _rule_plan(rule: FaultRule) -> Plan:
    if rule.fault == "latency":
        return Plan(delay_s=rule.latency_ms / 1000, rule=rule)
    if rule.fault == "commit_then_fail":
        return Plan(after="fail", rule=rule)
    if rule.fault == "commit_then_reset":
        return Plan(after="reset", rule=rule)
    if rule.fault == "commit_then_delay":
        return Plan(hold_s=rule.latency_ms / 1000, rule=rule)
    if rule.fault == "malformed_answer":
        return Plan(malformed=True, rule=rule)
    if rule.fault == "http429":
        return Plan(error=too_many_requests(rule.retry_after_s), rule=rule)
    return Plan(error=fault_error(_STATUS_OF[rule.fault]), rule=rule)
