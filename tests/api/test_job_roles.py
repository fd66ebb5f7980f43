"""Resuming or cancelling a job needs the role that may submit its kind, and the log names who did it
(issue 23, item 2): over real HTTP against a live `gcwm serve`."""

from __future__ import annotations

from tests.api.flows import assert_problem, document, submit, wait_for_job
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until
from tests.support.service import RunningService

DELETE_DEPLOYMENT = r"/api/v2/webdeployments/deployments/[^/]+"


def test_an_operator_cannot_finish_an_admins_delete_and_the_admin_who_does_is_named(
    service: RunningService, emulator: RunningEmulator
) -> None:
    with service.client("admin") as admin:
        made = wait_for_job(admin, submit(admin, document("doomed-web")).json()["jobs"][0]["id"])
        assert made["status"] == "succeeded", made
        emulator.add_fault("DELETE", DELETE_DEPLOYMENT, "http400")  # the destroy fails once
        destroy_id = admin.delete("/v1/channels/doomed-web").json()["jobs"][0]["id"]
        failed = wait_for_job(admin, destroy_id)
    assert failed["status"] == "failed", failed

    with service.client("operator") as operator:
        refused = operator.post(f"/v1/jobs/{destroy_id}/resume")
        still = operator.get(f"/v1/jobs/{destroy_id}").json()
    assert_problem(refused, 403)
    assert refused.json()["required"] == "admin"
    assert still["status"] == "failed" and still["resumedBy"] is None  # nothing was queued

    with service.client("admin") as admin:
        resumed = admin.post(f"/v1/jobs/{destroy_id}/resume")
        assert resumed.status_code == 202, resumed.text
        done = wait_for_job(admin, destroy_id)
        audit = admin.get("/v1/audit", params={"job": destroy_id}).json()["entries"]
    assert done["status"] == "succeeded", done
    admin_key = service.key_id("admin")
    assert done["resumedBy"] == admin_key
    (entry,) = [e for e in audit if e["action"] == "job.resumed"]
    assert entry["actor"] == admin_key
    assert emulator.deployments() == []


def test_an_operator_cannot_cancel_a_delete_an_admin_can_and_is_named(
    service: RunningService, emulator: RunningEmulator
) -> None:
    with service.client("admin") as admin:
        made = wait_for_job(admin, submit(admin, document("slow-web")).json()["jobs"][0]["id"])
        assert made["status"] == "succeeded", made
        emulator.add_fault("DELETE", DELETE_DEPLOYMENT, "latency", latency_ms=60_000)
        destroy_id = admin.delete("/v1/channels/slow-web").json()["jobs"][0]["id"]
        wait_until(lambda: emulator.delayed_requests() == 1, what="the destroy's DELETE to be in flight")
        with service.client("operator") as operator:
            refused = operator.post(f"/v1/jobs/{destroy_id}/cancel")
        cancelled = admin.post(f"/v1/jobs/{destroy_id}/cancel")
        emulator.release_held()
        ended = wait_for_job(admin, destroy_id)
        audit = admin.get("/v1/audit", params={"job": destroy_id}).json()["entries"]
    assert_problem(refused, 403)
    assert cancelled.status_code == 200, cancelled.text
    assert ended["status"] == "cancelled", ended
    admin_key = service.key_id("admin")
    asked = [e for e in audit if e["action"] in ("job.cancel_requested", "job.cancelled")]
    assert asked and all(e["actor"] == admin_key for e in asked), audit
