"""A serving gcwm delivers the ITSM notifications its jobs queue, without `gcwm notify run`."""

from __future__ import annotations

import json
from pathlib import Path

from gcwm.notify import EmbeddedSink, Sink, new_secret
from tests.api.flows import channel, submit, wait_for_job
from tests.support.polling import wait_until
from tests.support.service import start_service


def test_a_job_submitted_over_http_is_announced_to_its_webhook_by_the_service(
    gcwm_env: dict[str, str], tmp_path: Path
) -> None:
    secret = new_secret()
    policy = tmp_path / "policy.yaml"
    policy.write_text("allowPrivateItsmTargets: true\n")  # the receiver listens on 127.0.0.1
    env = {**gcwm_env, "GCWM_ITSM_WEBHOOK_SECRET": secret, "GCWM_POLICY_FILE": str(policy)}
    with EmbeddedSink(Sink(secret=secret)) as sink, start_service(env, tmp_path) as service:
        itsm = {"type": "webhook", "url": f"{sink.url}/webhook/ops", "secretEnv": "GCWM_ITSM_WEBHOOK_SECRET"}
        with service.client("operator") as http:
            answer = submit(http, {"channels": [channel("announced-web", itsm=itsm)]})
            assert answer.status_code == 202, answer.text
            (job,) = answer.json()["jobs"]
            assert wait_for_job(http, job["id"])["status"] == "succeeded"

        wait_until(lambda: len(sink.sink.received()) == 1, timeout_s=30, what="the webhook to arrive")
        (webhook,) = sink.sink.received()
        assert webhook.verified is True
        payload = json.loads(webhook.body)
        assert payload["type"] == "channel.provisioned"
        assert payload["data"]["jobId"] == job["id"]
        with service.client("viewer") as http:
            delivered = http.get("/v1/notifications", params={"status": "delivered"}).json()
        assert [n["id"] for n in delivered["notifications"]] == [webhook.webhook_id]
        assert secret not in service.stderr_tail(10_000)
