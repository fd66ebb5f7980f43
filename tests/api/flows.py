"""What the API tests do over and over: build a spec document, submit it, wait for a job to end."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.polling import wait_until

FINISHED = ("succeeded", "failed", "cancelled")
CONFIGURATIONS_POST = "POST /api/v2/webdeployments/configurations"
DEPLOYMENTS_POST = "POST /api/v2/webdeployments/deployments"


def channel(name: str, **extra: Any) -> dict[str, Any]:
    """A channel the test emulator's seeded org can take (its queue and flow exist there)."""
    return {
        "name": name,
        "routingQueue": "Support",
        "inboundMessageFlow": "Support Messaging Flow",
        "allowedDomains": ["www.example.com"],
        **extra,
    }


def document(*names: str) -> dict[str, Any]:
    return {"channels": [channel(n) for n in names]}


def submit(http: httpx.Client, body: dict[str, Any], **headers: str) -> httpx.Response:
    return http.post("/v1/channels", json=body, headers=headers)


def wait_for_job(http: httpx.Client, job_id: str, *, timeout_s: float = 60) -> dict[str, Any]:
    """Poll GET /v1/jobs/{id} until the job has ended; its document."""
    seen: dict[str, Any] = {}

    def ended() -> bool:
        answer = http.get(f"/v1/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        seen.update(answer.json())
        return seen["status"] in FINISHED

    wait_until(ended, timeout_s=timeout_s, what=f"job {job_id} to end")
    return seen


def assert_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The answer is an RFC 9457 problem of this status; its document."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["title"]
    return body
