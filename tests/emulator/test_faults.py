"""Injected faults: targeted rules, commit-then-fail, and seeded random faults that repeat exactly."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator.harness import Emulator, wait_for
from tests.emulator.steps import CONFIGS, DEPLOYMENTS, deployment_body, flow_id, published_configuration


def _rule(emulator: Emulator, method: str, path: str, fault: str, **extra: Any) -> dict[str, Any]:
    rule = {"method": method, "path": path, "fault": fault, **extra}
    result: dict[str, Any] = emulator.admin("POST", "faults/rules", rule)
    return result


def _deployments(emulator: Emulator) -> list[dict[str, Any]]:
    with emulator.client() as api:
        entities: list[dict[str, Any]] = api.get(DEPLOYMENTS).json()["entities"]
        return entities


@pytest.fixture
def new_deployment(api: httpx.Client) -> dict[str, Any]:
    """A valid body for POST deployments (its configuration is published)."""
    return deployment_body(published_configuration(api), flow_id(api, "Support Messaging Flow"))


def test_http429_rule_answers_retry_after_then_is_used_up(emulator: Emulator, api: httpx.Client) -> None:
    """A counted 429 rule hits `count` matching requests with its Retry-After, then is removed."""
    _rule(emulator, "GET", r"/api/v2/routing/queues.*", "http429", count=2, retry_after_s=7)
    first, second, third = (api.get("/api/v2/routing/queues") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "7"
    assert first.json()["code"] == "too.many.requests.retry.after"
    assert "[7] seconds" in first.json()["message"]
    assert emulator.admin("GET", "faults")["rules"] == []


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("http500", 500, "internal.server.error"),
        ("http502", 502, "bad.gateway"),
        ("http503", 503, "service.unavailable"),
        ("http504", 504, "request.timeout"),
        ("http400", 400, "bad.request"),
        ("http404", 404, "not.found"),
        ("http409", 409, "conflict"),
    ],
)
def test_status_rules_answer_an_error_body(
    emulator: Emulator, api: httpx.Client, fault: str, status: int, code: str
) -> None:
    """Each status fault answers its status with an ErrorBody, and does not run the handler."""
    _rule(emulator, "POST", CONFIGS, fault)
    response = api.post(CONFIGS, json={"name": "never made"})
    assert response.status_code == status
    assert response.json()["code"] == code
    assert api.get(CONFIGS).json()["entities"] == []


def test_rules_match_method_and_whole_path(emulator: Emulator, api: httpx.Client) -> None:
    """Method must match (or be *), and the regex must match the whole path."""
    _rule(emulator, "POST", "/api/v2/flows", "http503")
    _rule(emulator, "*", "/api/v2/routing", "http503")
    assert api.get("/api/v2/flows").status_code == 200
    assert api.get("/api/v2/routing/queues").status_code == 200
    assert len(emulator.admin("GET", "faults")["rules"]) == 2
    assert emulator.admin("DELETE", "faults/rules")["rules"] == []


def test_commit_then_fail_creates_the_deployment_yet_answers_500(
    emulator: Emulator, api: httpx.Client, new_deployment: dict[str, Any]
) -> None:
    """The write happens, the client gets a 500: only a lookup tells it the outcome."""
    _rule(emulator, "POST", DEPLOYMENTS, "commit_then_fail")
    response = api.post(DEPLOYMENTS, json=new_deployment)
    assert response.status_code == 500
    assert response.json()["code"] == "internal.server.error"
    assert [d["name"] for d in _deployments(emulator)] == [new_deployment["name"]]
    assert emulator.admin("GET", "stats")["commitThenFail"] == 1


def test_commit_then_reset_drops_the_connection_after_the_write(
    emulator: Emulator, api: httpx.Client, new_deployment: dict[str, Any]
) -> None:
    """The write happens and the connection breaks mid-answer: httpx raises a transport error."""
    _rule(emulator, "POST", DEPLOYMENTS, "commit_then_reset")
    with pytest.raises(httpx.TransportError):
        api.post(DEPLOYMENTS, json=new_deployment)
    assert [d["name"] for d in _deployments(emulator)] == [new_deployment["name"]]


def test_commit_then_reset_on_delete_breaks_the_answer_too(emulator: Emulator, api: httpx.Client) -> None:
    """A 204 has no body to cut short, so the dropped answer must still fail on the client."""
    config_id = api.post(CONFIGS, json={"name": "doomed"}).json()["id"]
    _rule(emulator, "DELETE", f"{CONFIGS}/.*", "commit_then_reset")
    with pytest.raises(httpx.TransportError):
        api.delete(f"{CONFIGS}/{config_id}")
    assert api.get(f"{CONFIGS}/{config_id}/versions/draft").json()["status"] == "Deleting"


def test_commit_then_fail_leaves_failed_writes_alone(emulator: Emulator, api: httpx.Client) -> None:
    """A write the handler refuses keeps its own answer (nothing was committed)."""
    _rule(emulator, "POST", CONFIGS, "commit_then_fail")
    assert api.post(CONFIGS, json={"bogus": 1}).status_code == 400


def test_latency_rule_delays_the_answer(emulator: Emulator, api: httpx.Client) -> None:
    """A latency rule holds the matching answer back by latency_ms."""
    _rule(emulator, "GET", "/api/v2/tokens/me", "latency", latency_ms=200)
    started = time.monotonic()
    assert api.get("/api/v2/tokens/me").status_code == 200
    assert time.monotonic() - started >= 0.2


def _held(emulator: Emulator) -> int:
    return int(emulator.admin("GET", "stats")["heldAnswers"])


def _names(api: httpx.Client) -> list[str]:
    return [c["name"] for c in api.get(CONFIGS).json()["entities"]]


def test_commit_then_delay_commits_then_holds_the_answer(emulator: Emulator, api: httpx.Client) -> None:
    """The create is visible in the listing while its answer is held; released, the answer is a plain 200."""
    rules = _rule(emulator, "POST", CONFIGS, "commit_then_delay", latency_ms=60_000)["rules"]
    assert [(r["fault"], r["latency_ms"]) for r in rules] == [("commit_then_delay", 60_000)]
    with emulator.client() as slow, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(slow.post, CONFIGS, json={"name": "slow to answer"})
        wait_for(lambda: _held(emulator) == 1, what="the create's answer to be held")
        assert _names(api) == ["slow to answer"]
        assert not pending.done()  # so the listing above saw the object while its answer was held
        assert emulator.admin("POST", "faults/held/release") == {"released": 1}
        response = pending.result(timeout=10)
    assert response.status_code == 200
    assert response.json()["name"] == "slow to answer"
    stats = emulator.admin("GET", "stats")
    assert (stats["heldAnswers"], stats["committedThenHeld"]) == (0, 1)
    assert stats["byStatus"] == {"200": 2}  # the create and the listing


def test_commit_then_delay_journals_before_holding_and_ends_when_the_client_goes(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    """While the answer is held the write is already in the state file; a client that disconnects
    (killed while waiting) ends the hold at once, and the object stays made."""
    state = tmp_path / "org.json"
    emu = start_emulator(state_file=state)
    _rule(emu, "POST", CONFIGS, "commit_then_delay", latency_ms=60_000)
    payload = json.dumps({"name": "made then abandoned"}).encode()
    # A raw socket, so that the test can close the connection mid-request as a killed client would.
    request = (
        f"POST {CONFIGS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {emu.token()}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", emu.server.port)) as client:
        client.sendall(request + payload)
        wait_for(lambda: _held(emu) == 1, what="the create's answer to be held")
        saved = "".join(f.read_text() for f in (state, state.with_name("org.json.journal")) if f.exists())
        assert "made then abandoned" in saved
    wait_for(lambda: _held(emu) == 0, what="the hold to end when the client went away")
    with emu.client() as api:
        assert _names(api) == ["made then abandoned"]


def test_commit_then_delay_holds_only_successful_writes(emulator: Emulator, api: httpx.Client) -> None:
    """A read, or a write the handler refuses, matching the rule is answered at once (the rule is
    still used up); a hold of a minute would time the client out."""
    _rule(emulator, "*", CONFIGS, "commit_then_delay", count=2, latency_ms=60_000)
    assert api.get(CONFIGS, timeout=5).status_code == 200
    assert api.post(CONFIGS, json={"bogus": 1}, timeout=5).status_code == 400
    stats = emulator.admin("GET", "stats")
    assert (stats["heldAnswers"], stats["committedThenHeld"]) == (0, 0)
    assert emulator.admin("GET", "faults")["rules"] == []


MALFORMED_PAGE = "<html><body>502 Bad Gateway (upstream sent a page)</body></html>"


def _is_the_page(response: httpx.Response) -> bool:
    """A 200 whose body is the proxy's HTML page, which is not JSON."""
    try:
        response.json()
    except json.JSONDecodeError:
        parsed = False
    else:
        parsed = True
    return (
        response.status_code == 200
        and response.headers["content-type"] == "text/html"
        and response.text == MALFORMED_PAGE
        and not parsed
    )


def test_malformed_answer_commits_the_create_and_answers_a_page(
    emulator: Emulator, api: httpx.Client, new_deployment: dict[str, Any]
) -> None:
    """The create is carried out, yet its answer is a 200 HTML page; the listing shows the object."""
    _rule(emulator, "POST", DEPLOYMENTS, "malformed_answer")
    response = api.post(DEPLOYMENTS, json=new_deployment)
    assert _is_the_page(response)
    assert response.headers["inin-correlation-id"]
    assert [d["name"] for d in _deployments(emulator)] == [new_deployment["name"]]
    assert emulator.admin("GET", "faults")["rules"] == []


def test_malformed_answer_hits_count_reads_then_is_used_up(emulator: Emulator, api: httpx.Client) -> None:
    """A read matching the rule gets the page `count` times; the next one is the JSON listing again."""
    _rule(emulator, "GET", r"/api/v2/routing/queues.*", "malformed_answer", count=2)
    first, second, third = (api.get("/api/v2/routing/queues") for _ in range(3))
    assert _is_the_page(first) and _is_the_page(second)
    assert third.status_code == 200 and len(third.json()["entities"]) == 6
    assert emulator.admin("GET", "faults")["rules"] == []
    assert emulator.admin("GET", "stats")["byStatus"] == {"200": 3}


def test_malformed_answer_turns_a_204_into_a_200_page(emulator: Emulator, api: httpx.Client) -> None:
    """A DELETE's 204 has no body to spoil, so it becomes a 200 page; the object is still being deleted."""
    config_id = api.post(CONFIGS, json={"name": "doomed"}).json()["id"]
    _rule(emulator, "DELETE", f"{CONFIGS}/.*", "malformed_answer")
    assert _is_the_page(api.delete(f"{CONFIGS}/{config_id}"))
    assert api.get(f"{CONFIGS}/{config_id}/versions/draft").json()["status"] == "Deleting"


def test_malformed_answer_leaves_error_answers_alone(emulator: Emulator, api: httpx.Client) -> None:
    """A refused write keeps its JSON ErrorBody (nothing was made); the rule is still used up."""
    _rule(emulator, "POST", CONFIGS, "malformed_answer")
    refused = api.post(CONFIGS, json={"bogus": 1})
    assert refused.status_code == 400 and refused.json()["code"] == "bad.request"
    assert emulator.admin("GET", "faults")["rules"] == []
    assert api.post(CONFIGS, json={"name": "fine"}).json()["name"] == "fine"


def test_malformed_answer_hits_the_login(emulator: Emulator) -> None:
    """/oauth/token answers the page instead of the token; the rule used up, the next login works."""
    _rule(emulator, "POST", "/oauth/token", "malformed_answer")
    with httpx.Client(base_url=emulator.url) as http:
        response = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("gcwm-local", "gcwm-local-secret"),
        )
    assert _is_the_page(response)
    assert "access_token" not in response.text
    assert emulator.token()


def test_rules_can_target_the_login(emulator: Emulator) -> None:
    """/oauth/token can be faulted by a rule (503), to test login retries."""
    _rule(emulator, "POST", "/oauth/token", "http503")
    with httpx.Client(base_url=emulator.url) as http:
        response = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("gcwm-local", "gcwm-local-secret"),
        )
    assert response.status_code == 503
    assert emulator.token()


def _statuses(emulator: Emulator, api: httpx.Client, seed: int) -> list[int]:
    emulator.admin(
        "PUT",
        "faults",
        {"fault_5xx_rate": 0.3, "fault_429_rate": 0.1, "commit_then_fail_rate": 0.0, "seed": seed},
    )
    return [api.get("/api/v2/routing/queues").status_code for _ in range(60)]


def test_seeded_random_faults_repeat_exactly(emulator: Emulator, api: httpx.Client) -> None:
    """The same seed and the same requests give the same statuses; another seed does not."""
    first = _statuses(emulator, api, seed=7)
    again = _statuses(emulator, api, seed=7)
    other = _statuses(emulator, api, seed=8)
    assert first == again
    assert first != other
    assert set(first) <= {200, 429, 502, 503, 504}
    assert {429, 200} <= set(first) and set(first) & {502, 503, 504}


def test_random_429_starts_a_burst_with_retry_after(emulator: Emulator, api: httpx.Client) -> None:
    """A random 429 hits the next requests of that token too, each with Retry-After."""
    emulator.admin("PUT", "faults", {"fault_429_rate": 1.0, "seed": 1})
    first = api.get("/api/v2/tokens/me")
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "1"
    emulator.admin("PUT", "faults", {"fault_429_rate": 0.0})
    burst = [api.get("/api/v2/tokens/me").status_code for _ in range(3)]
    assert burst == [429, 429, 200]


def test_random_commit_then_fail_commits_every_write(start_emulator: Callable[..., Emulator]) -> None:
    """With rate 1 every write is committed but answered 500, a dropped connection, or a 504 stall."""
    emu = start_emulator(commit_then_fail_rate=1.0, stall_s=0.05, seed=3)
    outcomes = []
    with emu.client() as api:
        assert api.get(CONFIGS).status_code == 200  # reads are never hit
        for index in range(8):
            try:
                outcomes.append(api.post(CONFIGS, json={"name": f"c{index}"}).status_code)
            except httpx.TransportError:
                outcomes.append(0)
    assert set(outcomes) == {0, 500, 504}
    assert emu.admin("GET", "stats")["configurations"] == 8
    assert emu.admin("GET", "stats")["commitThenFail"] == 8


def test_latency_setting_delays_every_api_answer(emulator: Emulator, api: httpx.Client) -> None:
    """latency_ms (set at run time here) is added to every API answer, not to the admin API."""
    emulator.admin("PUT", "faults", {"latency_ms": 150})
    started = time.monotonic()
    api.get("/api/v2/tokens/me")
    assert time.monotonic() - started >= 0.15
    assert emulator.admin("GET", "faults")["latency_ms"] == 150


def test_fault_settings_are_validated(emulator: Emulator) -> None:
    """Unknown knobs, rates outside 0..1, unknown fault kinds and bad regexes are refused."""
    bad = [
        ("PUT", "faults", {"fault_5xx_rate": 2}),
        ("PUT", "faults", {"typo_rate": 0.1}),
        ("POST", "faults/rules", {"method": "GET", "path": "/x", "fault": "http418"}),
        ("POST", "faults/rules", {"method": "GET", "path": "(", "fault": "http500"}),
    ]
    for method, path, body in bad:
        response = httpx.request(method, f"{emulator.url}/emulator/{path}", json=body)
        assert response.status_code in (400, 422), body


def test_reset_returns_to_the_seed_and_clears_faults_and_stats(emulator: Emulator, api: httpx.Client) -> None:
    """POST /emulator/reset drops configurations and deployments, rules, rates and counters; keeps org id."""
    org_id = api.get("/api/v2/tokens/me").json()["organization"]["id"]
    published_configuration(api)
    _rule(emulator, "GET", ".*", "http503", count=10)
    emulator.admin("PUT", "faults", {"fault_5xx_rate": 0.5})
    assert emulator.admin("POST", "reset") == {"orgId": org_id}
    faults = emulator.admin("GET", "faults")
    assert faults["rules"] == [] and faults["fault_5xx_rate"] == 0
    assert emulator.admin("GET", "stats")["requests"] == 0
    assert api.get(CONFIGS).json()["entities"] == []
    assert api.get("/api/v2/tokens/me").json()["organization"]["id"] == org_id
    assert len(api.get("/api/v2/routing/queues").json()["entities"]) == 6


def test_stats_count_requests_by_operation_and_status(emulator: Emulator, api: httpx.Client) -> None:
    """byOperation uses the operation's path template; 5xx and 429 answers are counted."""
    config_id = api.post(CONFIGS, json={"name": "x"}).json()["id"]
    api.get(f"{CONFIGS}/{config_id}/versions/draft")
    api.get(f"{CONFIGS}/{config_id}/versions/draft")
    _rule(emulator, "GET", "/api/v2/flows", "http503")
    api.get("/api/v2/flows")
    stats = emulator.admin("GET", "stats")
    assert stats["byOperation"] == {
        "GET /api/v2/flows": 1,
        "GET /api/v2/webdeployments/configurations/{configurationId}/versions/draft": 2,
        "POST /api/v2/webdeployments/configurations": 1,
    }
    assert stats["requests"] == 4
    assert stats["http5xx"] == 1
    assert stats["configurations"] == 1 and stats["deployments"] == 0


def test_release_lets_a_delayed_write_through_at_once(emulator: Emulator, api: httpx.Client) -> None:
    """A latency rule keeps the write unmade while it waits; released, it is carried out and answered."""
    _rule(emulator, "POST", CONFIGS, "latency", latency_ms=60_000)
    with emulator.client() as slow, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(slow.post, CONFIGS, json={"name": "waiting"})
        wait_for(lambda: emulator.admin("GET", "stats")["delayedRequests"] == 1, what="the delay to start")
        assert _names(api) == []  # in flight, not made
        assert emulator.admin("POST", "faults/held/release") == {"released": 1}
        response = pending.result(timeout=10)
    assert response.status_code == 200
    assert _names(api) == ["waiting"]
    assert emulator.admin("GET", "stats")["delayedRequests"] == 0
