"""The per-token budget, its headers and the normalised 429."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.emulator.harness import Emulator, wait_for

HEADERS = ("inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset")


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
