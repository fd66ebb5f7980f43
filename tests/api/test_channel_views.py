"""GET /v1/channels and /v1/channels/{name} answer the document `gcwm channels list|show` prints:
snippet, ids, proposed CSP, last job and newest audit entries (issue 24, item 3)."""

from __future__ import annotations

from tests.api.flows import document, submit, wait_for_job
from tests.support.emulator import RunningEmulator
from tests.support.service import RunningService


def test_the_channel_listing_and_page_carry_the_snippet_last_job_and_audit(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """Each listed channel has its snippet, deployment, last job (by the submitting key) and its
    newest audit entries without step checkpoints; one channel's document adds the spec."""
    with service.client("operator") as http:
        queued = submit(http, document("views-a", "views-b")).json()["jobs"]
        for job in queued:
            assert wait_for_job(http, job["id"])["status"] == "succeeded"
        listed = http.get("/v1/channels").json()["channels"]
        shown = http.get("/v1/channels/VIEWS-a").json()

    deployments = {d["id"] for d in emulator.deployments()}
    assert [c["name"] for c in listed] == ["views-a", "views-b"]
    operator = service.key_id("operator")
    for c in listed:
        assert c["deploymentId"] in deployments and c["deploymentId"] in c["snippet"]
        assert c["proposedCsp"]
        assert c["lastJob"]["status"] == "succeeded" and c["lastJob"]["actor"] == operator
        assert c["audit"] and c["audit"][0]["action"] == "channel.created"
        assert all(e["action"] != "step.done" for e in c["audit"])
    assert shown["name"] == "views-a"
    assert shown["snippet"] == listed[0]["snippet"]
    assert shown["spec"]["routingQueue"]["name"] == "Support"
    assert shown["lastJob"]["id"] in {j["id"] for j in queued}
