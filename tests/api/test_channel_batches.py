"""Issue 23, item 6, over real HTTP: one request can neither stall the service nor flood the audit
log. At most GCWM_MAX_CHANNELS_PER_REQUEST channels (1000) per POST, the policy review runs off the
event loop, and a refused batch is one audit entry listing its channels."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.api.flows import assert_problem, channel, submit
from tests.support.service import RunningService, start_service

#: How long /healthz may take while a 1000-channel review runs. With the review (and the plan) on
#: the event loop /healthz waited 0.9-1.3 s (measured, issue 23); off the loop a few milliseconds.
HEALTHZ_WITHIN_S = 0.5


def _heavy(n: int) -> dict[str, Any]:
    """A channel whose review costs the most per byte: many domains (IDNA, the Public Suffix List), visitor
    text with markup, image hosts in the CSP; `sanitizeHtml: false` makes the policy refuse it."""
    return channel(
        f"batch-{n:04d}",
        allowedDomains=[f"w{d}.shop{n}.co.uk" for d in range(12)],
        messenger={
            "languages": ["en-us", "fr"],
            "labels": {
                "en-us": {"MessengerHomeHeaderTitle": "<b>Hi</b> <i>there</i>"},
                "fr": {"MessengerHomeHeaderTitle": "<b>Salut</b>"},
            },
            "homeScreen": {"enabled": True, "logoUrl": f"https://cdn{n}.example.com/logo.png"},
        },
        security={"sanitizeHtml": False},
    )


def _refusals(http: httpx.Client) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = http.get(
        "/v1/audit", params={"action": "policy.refused", "limit": 200}
    ).json()["entries"]
    return entries


def test_a_batch_over_the_cap_is_413_and_nothing_is_queued_or_audited(service: RunningService) -> None:
    """1001 channels: a 413 problem naming the cap, before any check or write."""
    body = {"channels": [channel(f"over-{n:04d}") for n in range(1001)]}
    with service.client("operator") as http:
        answer = submit(http, body)
        problem = assert_problem(answer, 413)
        assert problem["type"].endswith("/too-many-channels"), problem
        assert (problem["limit"], problem["channels"]) == (1000, 1001)
        assert "GCWM_MAX_CHANNELS_PER_REQUEST" in problem["detail"]
        assert http.get("/v1/jobs").json()["jobs"] == []
        assert _refusals(http) == []


def test_the_cap_is_a_setting(gcwm_env: dict[str, str], tmp_path: Path) -> None:
    """GCWM_MAX_CHANNELS_PER_REQUEST=2: three channels are 413, two go through."""
    env = {**gcwm_env, "GCWM_MAX_CHANNELS_PER_REQUEST": "2"}
    with start_service(env, tmp_path, roles=("operator",)) as service, service.client("operator") as http:
        over = submit(http, {"channels": [channel(f"three-{n}") for n in range(3)]})
        under = submit(http, {"channels": [channel(f"two-{n}") for n in range(2)]})
    assert assert_problem(over, 413)["limit"] == 2
    assert under.status_code == 202, under.text


def test_a_refused_batch_of_1000_leaves_healthz_answering_and_one_audit_entry(
    service: RunningService,
) -> None:
    """The policy review of 1000 channels runs off the event loop: /healthz, polled all along, answers
    within HEALTHZ_WITHIN_S; the refusal is one `policy.refused` entry naming every channel."""
    body = {"channels": [_heavy(n) for n in range(1000)]}
    waits: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=service.url, timeout=30) as health:
            while not stop.is_set():
                started = time.perf_counter()
                assert health.get("/healthz").status_code == 200
                waits.append(time.perf_counter() - started)

    poller = threading.Thread(target=poll, daemon=True)
    with service.client("operator") as http:
        poller.start()
        started = time.perf_counter()
        try:
            answer = submit(http, body)
        finally:
            took = time.perf_counter() - started
            stop.set()
            poller.join(timeout=30)
        refusals = _refusals(http)
    problem = assert_problem(answer, 422)
    assert {f["channel"] for f in problem["findings"]} == {f"batch-{n:04d}" for n in range(1000)}
    assert len(waits) >= 3, waits
    # A review on the event loop held /healthz for about as long as the whole request took; off the
    # loop, only the body's parsing can. On a busy machine everything is slower, so the bound is
    # HEALTHZ_WITHIN_S or half the request, whichever is longer.
    within = max(HEALTHZ_WITHIN_S, took / 2)
    assert max(waits) < within, f"/healthz waited {max(waits):.3f} s during a {took:.3f} s review"
    (entry,) = refusals
    summary = entry["summary"]
    assert [c["name"] for c in summary["channels"]] == [f"batch-{n:04d}" for n in range(1000)]
    assert all(len(c["specHash"]) == 64 for c in summary["channels"])
    assert summary["findingsTotal"] >= 1000
