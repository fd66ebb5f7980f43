"""The per-token budget, its headers and the normalised 429."""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx

from gcwm.emulator.ratelimit import RateLimiter
from tests.emulator.harness import Emulator, wait_for

HEADERS = ("inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset")
# A clock reading at which the old `start + window - now` gave 60.00000000000001 seconds left on a
# window starting now, which math.ceil made "61".
ROUNDS_UP_CLOCK = 1000.4


def _old_reset_header(start: float, now: float, window_s: float = 60.0) -> int:
    """The header as the emulator computed it before the fix, to show a clock value reaches the bug."""
    return math.ceil(start + window_s - now)


def test_every_api_answer_carries_rate_limit_and_correlation_headers(
    emulator: Emulator, api: httpx.Client
) -> None:
    """Successes, errors, unauthenticated calls and logins carry the three headers and a correlation id."""
    with httpx.Client(base_url=emulator.url) as anonymous:
        answers = [anonymous.get("/api/v2/tokens/me")]
        login = anonymous.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("x", "y"))
    answers += [api.get("/api/v2/tokens/me"), api.get("/api/v2/flows/missing"), api.get("/api/v2/nowhere")]
    assert login.headers["inin-ratelimit-count"] == "0" and login.headers["ININ-Correlation-Id"]
    for answer in answers:
        assert all(name in answer.headers for name in HEADERS), answer.headers
        assert answer.headers["ININ-Correlation-Id"]
    assert [a.headers["inin-ratelimit-count"] for a in answers] == ["0", "1", "2", "3"]
    assert answers[1].headers["inin-ratelimit-allowed"] == "300"
    assert 0 < int(answers[1].headers["inin-ratelimit-reset"]) <= 60


def test_call_over_budget_is_a_normalised_429(start_emulator: Callable[..., Emulator]) -> None:
    """With 5 per minute, the 6th call is 429 with an integer Retry-After and the normalised body."""
    emu = start_emulator(rate_limit_per_min=5, rate_window_s=60)
    with emu.client() as api:
        statuses = [api.get("/api/v2/tokens/me").status_code for _ in range(5)]
        refused = api.get("/api/v2/tokens/me")
    assert statuses == [200] * 5
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    body = refused.json()
    assert body["code"] == "too.many.requests.retry.after"
    assert body["message"] == f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds"
    assert body["status"] == 429
    assert body["details"] == [] and body["errors"] == []
    assert body["contextId"] == refused.headers["ININ-Correlation-Id"]
    assert refused.headers["inin-ratelimit-count"] == "5"
    assert refused.headers["inin-ratelimit-allowed"] == "5"


def test_budget_is_per_token(start_emulator: Callable[..., Emulator]) -> None:
    """A second token has its own budget."""
    emu = start_emulator(rate_limit_per_min=2)
    with emu.client() as first, emu.client() as second:
        assert [first.get("/api/v2/tokens/me").status_code for _ in range(3)] == [200, 200, 429]
        assert second.get("/api/v2/tokens/me").status_code == 200


def test_budget_comes_back_when_the_window_resets(start_emulator: Callable[..., Emulator]) -> None:
    """After the window resets, calls succeed again; Retry-After is at least 1."""
    emu = start_emulator(rate_limit_per_min=1, rate_window_s=0.3)
    with emu.client() as api:
        assert api.get("/api/v2/tokens/me").status_code == 200
        refused = api.get("/api/v2/tokens/me")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"  # never 0, even with under a second left
        refusals = [refused]
        wait_for(
            lambda: refusals.append(r := api.get("/api/v2/tokens/me")) or r.status_code == 200, what="reset"
        )
    assert emu.admin("GET", "stats")["http429"] == len(refusals) - 1


def test_admin_api_is_never_rate_limited(start_emulator: Callable[..., Emulator]) -> None:
    """/emulator/* needs no token and has no budget."""
    emu = start_emulator(rate_limit_per_min=1)
    for _ in range(5):
        emu.admin("GET", "stats")


def test_reset_header_never_says_more_than_the_window() -> None:
    """Float noise in the seconds left must not round a 60 s window up to "61" (regression)."""
    assert _old_reset_header(ROUNDS_UP_CLOCK, ROUNDS_UP_CLOCK) == 61  # this clock does reach the bug
    limiter = RateLimiter(300, 60.0, clock=lambda: ROUNDS_UP_CLOCK)
    decision = limiter.take("token")
    assert decision.headers()["inin-ratelimit-reset"] == "60"
    assert decision.retry_after_s == 60
    assert limiter.idle().headers()["inin-ratelimit-reset"] == "60"


def test_reset_header_and_retry_after_stay_within_the_window() -> None:
    """Across many clock readings, both for windows starting then and later in a window, including
    refusals: the header is 0..60 and Retry-After 1..60."""
    clock = [0.0]
    limiter = RateLimiter(3, 60.0, clock=lambda: clock[0])
    readings = [base + k * 0.1 for base in (0.0, 1000.0, 86_400.0, 1e6) for k in range(3000)]
    assert any(_old_reset_header(t, t) == 61 for t in readings)  # the sweep meets the old bug
    for index, now in enumerate(readings):
        clock[0] = now
        for token in (f"fresh-{index}", "steady"):  # a window starting now, and one under way
            decision = limiter.take(token)
            assert 0 <= int(decision.headers()["inin-ratelimit-reset"]) <= 60, (now, token)
            assert 1 <= decision.retry_after_s <= 60, (now, token)
