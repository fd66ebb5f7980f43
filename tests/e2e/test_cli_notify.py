"""`gcwm notify list|show|retry|run` and `gcwm itsm-sink`, run as users run them."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx

import tests.support.http as test_http
from gcwm.notify import EmbeddedSink, Fault, Sink, enqueue, new_secret
from gcwm.policy import parse_policy_file
from gcwm.spec import Itsm, load_spec
from gcwm.store import Store, connect
from tests.conftest import EXAMPLES, gcwm_command
from tests.e2e.conftest import run_gcwm
from tests.e2e.test_notify_durability import notify_env, queue_webhooks
from tests.support.polling import wait_until


def test_list_show_retry_and_run_once_walk_a_notification_from_failure_to_delivery(
    tmp_path: Path,
) -> None:
    """One event delivered, one answered 503 then 410 (dead), retried, delivered: as the CLI shows it."""
    url = f"sqlite:///{tmp_path}/notify.db"
    env = notify_env(url, tmp_path)
    secret = env["GCWM_ITSM_WEBHOOK_SECRET"]
    store = Store(connect(url))
    try:
        with EmbeddedSink(Sink(secret=secret)) as sink:
            (good,) = queue_webhooks(store, f"{sink.url}/webhook/good", 1)
            (bad,) = queue_webhooks(store, f"{sink.url}/webhook/bad", 1)
            sink.sink.add_fault(Fault(status=503, path="/webhook/bad"))
            first = run_gcwm(["notify", "run", "--once", "--output", "json"], env)
            assert first.code == 0, first.stderr
            assert first.json() == {"delivered": 1, "retried": 1, "dead": 0, "pending": 1}

            listed = run_gcwm(["notify", "list", "--status", "pending", "--output", "json"], env).json()
            (row,) = listed["notifications"]
            assert (row["id"], row["status"], row["attempts"]) == (bad, "pending", 1)
            assert "answered 503" in row["lastError"]

            shown = run_gcwm(["notify", "show", bad[:12], "--output", "json"], env).json()
            assert shown["payload"]["type"] == "channel.provisioned"
            assert shown["target"] == {
                "type": "webhook",
                "url": f"{sink.url}/webhook/bad",
                "secretEnv": "GCWM_ITSM_WEBHOOK_SECRET",
            }
            assert secret not in run_gcwm(["notify", "show", bad], env).stdout

            sink.sink.add_fault(Fault(status=410, path="/webhook/bad"))
            assert run_gcwm(["notify", "retry", bad], env).code == 0  # pending, due in 5 s: due now
            dead = run_gcwm(["notify", "run", "--once", "--output", "json"], env).json()
            assert dead == {"delivered": 0, "retried": 0, "dead": 1, "pending": 0}
            table = run_gcwm(["notify", "list"], env).stdout
            assert bad[:16] in table and "dead" in table and good[:16] in table

            revived = run_gcwm(["notify", "retry", "--all", "--output", "json"], env).json()
            assert revived == {"retried": 1}
            last = run_gcwm(["notify", "run", "--once"], env)
            assert last.stdout.startswith("delivered 1, to retry 0, dead-lettered 0; 0 pending")
            delivered = run_gcwm(["notify", "list", "--status", "delivered", "--output", "json"], env).json()
            assert {r["id"] for r in delivered["notifications"]} == {good, bad}
    finally:
        store.engine.dispose()


def test_unknown_ids_and_statuses_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    """A wrong id exits 4 saying so; a wrong --status is a usage error."""
    env = notify_env(f"sqlite:///{tmp_path}/notify.db", tmp_path)
    missing = run_gcwm(["notify", "show", "msg_0123456789"], env)
    assert missing.code == 4 and "no notification with id or id prefix 'msg_0123456789'" in missing.stderr
    assert run_gcwm(["notify", "list", "--status", "lost"], env).code == 2
    assert run_gcwm(["notify", "retry"], env).code == 2


def test_itsm_sink_command_receives_verifies_and_prints_a_webhook(tmp_path: Path) -> None:
    """`gcwm itsm-sink --secret` on a port; examples/channel-itsm.yaml's kind of target reaches it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"sqlite:///{tmp_path}/notify.db"
    env = notify_env(url, tmp_path)
    sink = subprocess.Popen(
        [*gcwm_command(), "itsm-sink", "--port", str(port), "--secret", env["GCWM_ITSM_WEBHOOK_SECRET"]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = Store(connect(url))
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/_sink/received"), timeout_s=30, what="the sink")
        (message_id,) = queue_webhooks(store, f"http://127.0.0.1:{port}/webhook", 1)
        result = run_gcwm(["notify", "run", "--once", "--output", "json"], env)
        assert result.json()["delivered"] == 1, result.stderr
    finally:
        store.engine.dispose()
        sink.terminate()
        out, err = sink.communicate(timeout=30)
    assert f"webhook-id {message_id}  signature verified" in out
    assert '"type": "channel.provisioned"' in out
    assert f"webhooks at http://127.0.0.1:{port}/webhook" in err
    assert "allowPrivateItsmTargets: true" in err


def test_itsm_sink_without_a_secret_prints_a_fresh_key_to_use() -> None:
    """A newcomer starts the sink bare and is told the key to export."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = subprocess.Popen(
        [*gcwm_command(), "itsm-sink", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/_sink/received"), timeout_s=30, what="the sink")
    finally:
        sink.terminate()
        _, err = sink.communicate(timeout=30)
    assert "export GCWM_ITSM_WEBHOOK_SECRET=whsec_" in err
    assert new_secret().startswith("whsec_")


def test_the_itsm_example_subscribes_a_webhook_to_the_local_sink() -> None:
    """examples/channel-itsm.yaml is valid and points at `gcwm itsm-sink --port 8090`."""
    (channel,) = load_spec(EXAMPLES / "channel-itsm.yaml")
    assert channel.itsm is not None
    assert (channel.itsm.type, channel.itsm.url) == ("webhook", "http://127.0.0.1:8090/webhook")
    assert channel.itsm.secret_env == "GCWM_ITSM_WEBHOOK_SECRET"
    text = (EXAMPLES / "channel-itsm.yaml").read_text()
    assert "gcwm itsm-sink --port 8090 --secret" in text
    assert "GCWM_POLICY_FILE=examples/policy-local-sink.yaml" in text
    policy = parse_policy_file(
        (EXAMPLES / "policy-local-sink.yaml").read_text(), source="policy-local-sink.yaml"
    )
    assert policy.allow_private_itsm_targets is True


def _answers(url: str) -> bool:
    try:
        return test_http.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_itsm_secrets_stay_out_of_output_logs_and_the_database(tmp_path: Path) -> None:
    """A debug-level run to a webhook and to ServiceNow (basic auth) writes neither secret anywhere."""
    url = f"sqlite:///{tmp_path}/notify.db"
    password = "sn-Pa55word-that-must-not-leak"
    env = {**notify_env(url, tmp_path), "GCWM_LOG_LEVEL": "debug", "GCWM_ITSM_SN": f"integration:{password}"}
    store = Store(connect(url))
    try:
        with EmbeddedSink(Sink(secret=env["GCWM_ITSM_WEBHOOK_SECRET"])) as sink:
            queue_webhooks(store, f"{sink.url}/webhook", 1)
            with store.unit_of_work() as tx:
                enqueue(
                    tx,
                    org_id="org-1",
                    channel="web",
                    subscription=Itsm.model_validate(
                        {
                            "type": "servicenow",
                            "url": sink.url,
                            "secretEnv": "GCWM_ITSM_SN",
                            "events": ["failed"],
                        }
                    ),
                    event_type="channel.failed",
                    data={"outcome": "failed"},
                    audit_seq=2,
                    audit_hash="ab",
                )
            result = run_gcwm(["notify", "run", "--once", "--output", "json"], env)
            shown = run_gcwm(["notify", "list", "--output", "json"], env)
    finally:
        store.engine.dispose()
    assert result.json()["delivered"] == 2, result.stderr
    seen = result.stdout + result.stderr + shown.stdout
    for secret in (env["GCWM_ITSM_WEBHOOK_SECRET"], password):
        assert secret not in seen
        for stored in tmp_path.rglob("*"):
            if stored.is_file():
                assert secret.encode() not in stored.read_bytes(), stored
