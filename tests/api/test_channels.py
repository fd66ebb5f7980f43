"""Submitting, watching, cancelling and destroying channels over real HTTP, against the emulator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.flows import (
    CONFIGURATIONS_POST,
    assert_problem,
    document,
    submit,
    wait_for_job,
)
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until
from tests.support.service import RunningService


def test_a_submitted_channel_is_worked_to_success_by_the_service(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """202 + Location; the job succeeds; the channel is listed and live in the org; the key is the actor."""
    with service.client("operator") as http:
        answer = submit(http, document("api-web"))
        assert answer.status_code == 202, answer.text
        [queued] = answer.json()["jobs"]
        assert queued["channel"] == "api-web"
        assert answer.headers["location"] == f"/v1/jobs/{queued['id']}"
        job = wait_for_job(http, queued["id"])
        listed = http.get("/v1/channels").json()["channels"]
        shown = http.get("/v1/channels/api-web").json()
        audit = http.get("/v1/audit", params={"job": queued["id"]}).json()["entries"]
    assert job["status"] == "succeeded", job
    assert job["result"]["outcome"] in ("created", "updated"), job["result"]
    assert [s["step"] for s in job["steps"]] and all(s["durationMs"] >= 0 for s in job["steps"])
    assert [c["name"] for c in listed] == ["api-web"]
    assert shown["deploymentId"] in {d["id"] for d in emulator.deployments()}
    operator = service.key_id("operator")
    assert job["actor"] == operator
    assert audit and {e["actor"] for e in audit} == {operator}


def test_a_spec_problem_is_a_problem_document_naming_channel_and_field(service: RunningService) -> None:
    """Bad input is RFC 9457 problem details; nothing is queued."""
    bad = {
        "channels": [{"name": "typo-web", "routingQueue": "Support", "inboundMessageFlow": "F", "colour": 1}]
    }
    with service.client("operator") as http:
        spec = submit(http, bad)
        not_json = http.post("/v1/channels", content=b"{nope", headers={"content-type": "application/json"})
        jobs = http.get("/v1/jobs").json()["jobs"]
    body = assert_problem(spec, 422)
    locations = [p["location"] for p in body["problems"]]
    assert any("typo-web" in where and "colour" in where for where in locations), locations
    assert_problem(not_json, 422)
    assert jobs == []


def test_a_body_over_the_cap_is_413(service: RunningService) -> None:
    """Request bodies are capped at 1 MiB, declared or streamed."""
    huge = b'{"channels": [' + b" " * (1024 * 1024 + 10) + b"]}"
    with service.client("operator") as http:
        declared = http.post("/v1/channels", content=huge, headers={"content-type": "application/json"})
        streamed = http.post(
            "/v1/channels",
            content=iter([huge[:1000], huge[1000:]]),
            headers={"content-type": "application/json"},
        )
    assert_problem(declared, 413)
    assert_problem(streamed, 413)


def test_the_same_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """One job only, one configuration created; a different body under the same key is 422."""
    with service.client("operator") as http:
        first = submit(http, document("once-web"), **{"Idempotency-Key": "k-1"})
        again = submit(http, document("once-web"), **{"Idempotency-Key": "k-1"})
        other = submit(http, document("other-web"), **{"Idempotency-Key": "k-1"})
        assert first.status_code == 202, first.text
        wait_for_job(http, first.json()["jobs"][0]["id"])
        jobs = http.get("/v1/jobs").json()["jobs"]
    assert again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert len(jobs) == 1
    assert emulator.calls(CONFIGURATIONS_POST) == 1
    assert_problem(other, 422)


def test_one_idempotency_key_sent_twice_at_once_makes_one_job_and_a_409(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """The second request arrives while the first is still being carried out (held at its read of the
    org's queues): it is a 409 problem, not a second job; once the first has answered, the same
    request replays it."""
    emulator.add_fault("GET", "/api/v2/routing/queues", "latency", latency_ms=60_000)
    with service.client("operator") as http, service.client("operator") as other:
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(submit, http, document("twice-web"), **{"Idempotency-Key": "k-twice"})
            wait_until(lambda: emulator.delayed_requests() == 1, what="the first request to be in progress")
            meanwhile = submit(other, document("twice-web"), **{"Idempotency-Key": "k-twice"})
            assert emulator.release_held() == 1  # the first was still in progress when the second came
            answer = first.result(timeout=60)
        assert answer.status_code == 202, answer.text
        wait_for_job(http, answer.json()["jobs"][0]["id"])
        replay = submit(other, document("twice-web"), **{"Idempotency-Key": "k-twice"})
        jobs = http.get("/v1/jobs").json()["jobs"]
    assert_problem(meanwhile, 409)
    assert replay.status_code == 202 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == answer.json()
    assert len(jobs) == 1
    assert emulator.calls(CONFIGURATIONS_POST) == 1


def test_a_running_job_is_cancelled(service: RunningService, emulator: RunningEmulator) -> None:
    """Cancel asks a running job to stop after the step in hand; it ends cancelled; resume requeues it."""
    emulator.add_fault("POST", "/api/v2/webdeployments/configurations$", "latency", latency_ms=1500)
    with service.client("operator") as http:
        job_id = submit(http, document("slow-web")).json()["jobs"][0]["id"]
        wait_until(lambda: emulator.delayed_requests() == 1, what="the configuration create to be in flight")
        cancelled = http.post(f"/v1/jobs/{job_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["cancelRequested"] or cancelled.json()["status"] == "cancelled"
        ended = wait_for_job(http, job_id)
        again = http.post(f"/v1/jobs/{job_id}/cancel")
        resumed = http.post(f"/v1/jobs/{job_id}/resume")
        assert resumed.status_code == 202, resumed.text
        finished = wait_for_job(http, job_id)
    assert ended["status"] == "cancelled"
    assert again.status_code == 200 and again.json()["status"] == "cancelled"  # cancelling twice is harmless
    assert finished["status"] == "succeeded"


def test_deleting_a_channel_removes_deployment_and_configuration(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """DELETE (admin) queues a destroy job; once it succeeds the org holds neither object."""
    with service.client("admin") as http:
        made = wait_for_job(http, submit(http, document("gone-web")).json()["jobs"][0]["id"])
        assert made["status"] == "succeeded"
        assert len(emulator.deployments()) == 1
        answer = http.delete("/v1/channels/gone-web")
        assert answer.status_code == 202, answer.text
        destroyed = wait_for_job(http, answer.json()["jobs"][0]["id"])
        missing = http.get("/v1/channels/gone-web")
        unknown = http.delete("/v1/channels/never-was")
    assert destroyed["status"] == "succeeded", destroyed
    assert emulator.deployments() == []
    assert emulator.configurations() == []
    assert_problem(missing, 404)
    assert_problem(unknown, 404)


def test_cursors_walk_every_job_exactly_once(service: RunningService) -> None:
    """Pages of 2 over 5 jobs: each job once, newest first; a garbage cursor is a 422 problem."""
    with service.client("operator") as http:
        # One submission each, so every job is newer than the one before.
        queued = [submit(http, document(f"page-{i}")).json()["jobs"][0] for i in range(5)]
        seen: list[str] = []
        pages = 0
        params: dict[str, str | int] = {"limit": 2}
        while True:
            page = http.get("/v1/jobs", params=params).json()
            pages += 1
            seen += [j["id"] for j in page["jobs"]]
            if page["nextCursor"] is None:
                break
            params = {"limit": 2, "cursor": page["nextCursor"]}
        garbage = http.get("/v1/jobs", params={"cursor": "not-a-cursor"})
        foreign = http.get("/v1/notifications", params={"cursor": params.get("cursor", "x")})
    assert sorted(seen) == sorted(j["id"] for j in queued)
    assert len(seen) == len(set(seen)) == 5
    assert seen == [j["id"] for j in reversed(queued)]  # newest first, across the pages
    assert pages == 3
    assert_problem(garbage, 422)
    assert_problem(foreign, 422)


def test_a_channel_naming_a_queue_the_org_lacks_is_refused_with_422_naming_the_field(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """The API refuses what the CLI refuses (issue 24, item 8): the references are checked against the
    org at submission, not after a 202 by a job that can only fail."""
    body = document("lost-web")
    body["channels"][0]["routingQueue"] = "No Such Queue"
    with service.client("operator") as http:
        answer = submit(http, body)
        jobs = http.get("/v1/jobs").json()["jobs"]
    problem = assert_problem(answer, 422)
    (finding,) = [f for f in problem["findings"] if f["check"] == "reference_not_usable"]
    assert (finding["channel"], finding["location"]) == ("lost-web", "routingQueue")
    assert "No Such Queue" in finding["description"]
    assert jobs == [] and emulator.configurations() == []


def test_an_itsm_secret_the_service_cannot_read_is_refused_with_422_naming_the_field(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """A notification whose secret is not set where the service runs could only fail hours later,
    on the retry schedule (issue 24, item 6): the API refuses it at submission, as the CLI does."""
    body = document("hooked-web")
    body["channels"][0]["itsm"] = {
        "type": "webhook",
        "url": "https://itsm.example.com/hooks/gcwm",
        "secretEnv": "GCWM_ITSM_NEVER_SET",
    }
    with service.client("operator") as http:
        answer = submit(http, body)
        jobs = http.get("/v1/jobs").json()["jobs"]
    problem = assert_problem(answer, 422)
    assert "itsm.secretEnv" in answer.text and "GCWM_ITSM_NEVER_SET" in answer.text, problem
    assert jobs == [] and emulator.configurations() == []
