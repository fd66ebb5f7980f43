"""What a provisioning run leaves behind, as users run it: an audit trail that verifies, a key that
rotates without breaking it, and ITSM notifications delivered within the grace period or left pending."""

from __future__ import annotations

import json
from pathlib import Path

from standardwebhooks import Webhook

from gcwm.notify import EmbeddedSink, Fault, Sink, new_secret
from tests.conftest import EXAMPLES, RunningEmulator
from tests.e2e.conftest import run_gcwm

#: The sink listens on 127.0.0.1: a target gcwm refuses unless the policy file allows it.
LOCAL_SINK = str(EXAMPLES / "policy-local-sink.yaml")

SPEC = (
    "channels:\n"
    "  - name: web\n"
    "    routingQueue: Support\n"
    "    inboundMessageFlow: Support Messaging Flow\n"
    "    allowedDomains: [shop.example.com]\n"
)


def _spec(tmp_path: Path, itsm_url: str | None = None) -> Path:
    text = SPEC
    if itsm_url is not None:
        text += (
            f"    itsm: {{type: webhook, url: '{itsm_url}', secretEnv: GCWM_ITSM_WEBHOOK_SECRET,"
            " events: [provisioned, failed]}\n"
        )
    path = tmp_path / "channel.yaml"
    path.write_text(text)
    return path


def _entries(env: dict[str, str]) -> list[dict[str, object]]:
    shown = run_gcwm(["audit", "show", "--output", "json"], env)
    assert shown.code == 0, shown.stderr
    entries: list[dict[str, object]] = shown.json()["entries"]
    return entries


def test_provision_leaves_an_audit_trail_that_verifies(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Queued, each step, created; a second run unchanged; the whole log verifies with `audit key`."""
    spec = _spec(tmp_path)
    first = run_gcwm(["provision", str(spec), "--output", "json"], gcwm_env)
    assert first.code == 0, first.stderr
    deployment = first.json()["channels"][0]["deployment"]["id"]
    assert run_gcwm(["provision", str(spec), "--output", "json"], gcwm_env).code == 0

    entries = _entries(gcwm_env)
    actions = [e["action"] for e in entries]
    assert actions[0] == "job.queued" and "step.done" in actions
    assert actions.count("channel.created") == 1 and actions[-1] == "channel.unchanged"
    (created,) = [e for e in entries if e["action"] == "channel.created"]
    assert created["targets"] == {
        "channel": "web",
        "job": first.json()["channels"][0]["jobId"],
        "configuration": first.json()["channels"][0]["configuration"]["id"],
        "deployment": deployment,
    }
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    key = tmp_path / "key.pem"
    key.write_text(run_gcwm(["audit", "key"], gcwm_env).stdout)
    verified = run_gcwm(["audit", "verify", "--public-key", str(key), "--output", "json"], gcwm_env)
    assert verified.json() == {"ok": True, "entries": len(entries), "firstBad": None, "reason": None}


def test_after_rotate_key_runs_sign_with_the_successor_and_the_retired_key_is_refused_before_any_write(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """rotate-key under GCWM_HOME; the next run verifies with the new public key alone. Pointing
    GCWM_AUDIT_KEY_FILE at the retired key stops provision before it creates anything."""
    home = Path(gcwm_env["GCWM_HOME"])
    assert run_gcwm(["provision", str(_spec(tmp_path)), "--output", "json"], gcwm_env).code == 0
    retired = tmp_path / "retired.pem"
    retired.write_bytes((home / "audit-key.pem").read_bytes())

    rotated = run_gcwm(["audit", "rotate-key", "--output", "json"], gcwm_env)
    assert rotated.code == 0, rotated.stderr
    assert rotated.json()["retired"] != rotated.json()["successor"]
    other = tmp_path / "other.yaml"
    other.write_text(SPEC.replace("name: web", "name: web-2"))
    assert run_gcwm(["provision", str(other), "--output", "json"], gcwm_env).code == 0
    public = tmp_path / "new.pub"
    public.write_text(run_gcwm(["audit", "key"], gcwm_env).stdout)
    verified = run_gcwm(["audit", "verify", "--public-key", str(public), "--output", "json"], gcwm_env)
    assert verified.json()["ok"] is True, verified.stdout
    assert "audit.key_rotated" in [e["action"] for e in _entries(gcwm_env)]

    before = len(emulator.deployments())
    third = tmp_path / "third.yaml"
    third.write_text(SPEC.replace("name: web", "name: web-3"))
    stale = run_gcwm(["provision", str(third)], {**gcwm_env, "GCWM_AUDIT_KEY_FILE": str(retired)})
    assert stale.code != 0 and "gcwm audit rotate-key" in stale.stderr, stale.stderr
    assert len(emulator.deployments()) == before


def test_provision_delivers_its_notifications_within_the_grace_period(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The webhook arrives signed, carrying the audit entry's seq and hash; the document counts it."""
    secret = new_secret()
    env = {**gcwm_env, "GCWM_ITSM_WEBHOOK_SECRET": secret, "GCWM_POLICY_FILE": LOCAL_SINK}
    with EmbeddedSink(Sink(secret=secret)) as sink:
        done = run_gcwm(["provision", str(_spec(tmp_path, f"{sink.url}/webhook")), "--output", "json"], env)
        received = sink.sink.received()
    assert done.code == 0, done.stderr
    assert done.json()["notifications"] == {"delivered": 1, "retried": 0, "dead": 0, "pending": 0}
    (call,) = received
    payload = Webhook(secret).verify(call.body, call.headers)
    assert payload["type"] == "channel.provisioned"
    data = payload["data"]
    (entry,) = [e for e in _entries(env) if e["seq"] == data["audit"]["seq"]]
    assert (entry["action"], entry["hash"]) == ("channel.created", data["audit"]["hash"])
    assert data["deployment"]["id"] == done.json()["channels"][0]["deployment"]["id"]


def test_an_itsm_outage_neither_holds_nor_fails_provision_and_notify_run_delivers_later(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The receiver answers 503: provision still succeeds after the grace period, says what is pending
    on stderr (stdout stays one JSON document), and `notify run` delivers once the receiver is back."""
    secret = new_secret()
    env = {**gcwm_env, "GCWM_ITSM_WEBHOOK_SECRET": secret, "GCWM_NOTIFY_GRACE_SECONDS": "1"}
    env["GCWM_POLICY_FILE"] = LOCAL_SINK
    with EmbeddedSink(Sink(secret=secret)) as sink:
        sink.sink.add_fault(Fault(status=503, times=1000, path="/webhook"))
        done = run_gcwm(["provision", str(_spec(tmp_path, f"{sink.url}/webhook")), "--output", "json"], env)

        assert done.code == 0, done.stderr
        document = json.loads(done.stdout)
        assert document["channels"][0]["outcome"] == "created"
        assert document["notifications"] == {"delivered": 0, "retried": 1, "dead": 0, "pending": 1}
        assert "1 ITSM notification(s) still pending; `gcwm notify run` delivers them" in done.stderr
        (pending,) = run_gcwm(["notify", "list", "--output", "json"], env).json()["notifications"]
        sink.sink.clear_faults()
        assert run_gcwm(["notify", "retry", pending["id"]], env).code == 0
        later = run_gcwm(["notify", "run", "--once", "--output", "json"], env)
        assert later.json()["delivered"] == 1, later.stderr
        calls = sink.sink.received()
    assert len(calls) == 2 and calls[0].webhook_id == calls[1].webhook_id == pending["id"]
    assert Webhook(secret).verify(calls[1].body, calls[1].headers)["type"] == "channel.provisioned"
    # The delivery is audited, and `notify run` signs the head it leaves, as a provisioning run does.
    last = _entries(env)[-1]
    assert (last["action"], last["summary"]["messageId"]) == ("notification.delivered", pending["id"])
    (head,) = json.loads((Path(env["GCWM_HOME"]) / "audit-head.json").read_text())["heads"].values()
    assert head["seq"] == last["seq"]
    assert run_gcwm(["audit", "verify", "--output", "json"], env).json()["ok"] is True


def test_a_secret_not_set_is_refused_before_any_write_and_one_gone_later_dead_letters_at_once(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Issue 24, item 6: provision (and plan) refuse a target whose secret is not set where gcwm runs,
    naming itsm.secretEnv, before any write (exit 2; plan 1). A message whose secret is gone by the
    time `notify run` sends it is dead-lettered at its first attempt, not retried for 27 hours."""
    env = {k: v for k, v in gcwm_env.items() if k != "GCWM_ITSM_WEBHOOK_SECRET"}
    env["GCWM_POLICY_FILE"] = LOCAL_SINK
    with EmbeddedSink(Sink()) as sink:
        spec = _spec(tmp_path, f"{sink.url}/webhook")
        refused = run_gcwm(["provision", str(spec), "--output", "json"], env)
        planned = run_gcwm(["plan", str(spec)], env)
        assert (refused.code, planned.code) == (2, 1), refused.stderr
        said = f"{spec}:6: channel 'web': itsm.secretEnv: the variable GCWM_ITSM_WEBHOOK_SECRET named by "
        said += "secretEnv is not set"
        assert said in refused.stderr and said in planned.stderr
        (problem,) = refused.json()["problems"]
        assert problem["location"] == "channel 'web': itsm.secretEnv"
        assert run_gcwm(["jobs", "list", "--output", "json"], env).json()["jobs"] == []
        assert emulator.deployments() == []

        # Set, the run goes ahead; the target is down, so the notification waits for `notify run`.
        secret = new_secret()
        sink.sink.add_fault(Fault(status=503, times=1000, path="/webhook"))
        with_secret = {**env, "GCWM_ITSM_WEBHOOK_SECRET": secret, "GCWM_NOTIFY_GRACE_SECONDS": "0"}
        done = run_gcwm(["provision", str(spec), "--output", "json"], with_secret)
        assert done.code == 0, done.stderr
        # The variable is gone where `notify run` runs: dead at once, saying why.
        retried = {k: v for k, v in env.items() if k != "GCWM_NOTIFY_GRACE_SECONDS"}
        for message in run_gcwm(["notify", "list", "--output", "json"], retried).json()["notifications"]:
            assert run_gcwm(["notify", "retry", message["id"]], retried).code == 0
        sent = len(sink.sink.received())
        later = run_gcwm(["notify", "run", "--once", "--output", "json"], retried)
        assert later.json()["dead"] == 1, later.stdout + later.stderr
        (dead,) = run_gcwm(["notify", "list", "--status", "dead", "--output", "json"], retried).json()[
            "notifications"
        ]
        assert "GCWM_ITSM_WEBHOOK_SECRET named by secretEnv is not set" in dead["lastError"]
        assert len(sink.sink.received()) == sent  # nothing was sent without its key
