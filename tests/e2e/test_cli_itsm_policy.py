"""Issue 23, items 1 and 4, as users run gcwm: `provision` and `plan` refuse a secretEnv that is not an
ITSM secret (exit 2) and a loopback target the policy file does not allow (exit 3) before any write;
`notify show` shows a target's answer cut and cleaned."""

from __future__ import annotations

import re
from pathlib import Path

from gcwm.notify import EmbeddedSink, Fault, Sink
from gcwm.store import Store, connect
from tests.conftest import EXAMPLES
from tests.e2e.conftest import run_gcwm
from tests.e2e.test_notify_durability import SECRET, notify_env, queue_webhooks

SPEC = (
    "channels:\n"
    "  - name: itsm-web\n"
    "    routingQueue: Support\n"
    "    inboundMessageFlow: Support Messaging Flow\n"
    "    allowedDomains: [shop.example.com]\n"
    "    itsm: {{type: servicenow, auth: bearer, url: '{url}', secretEnv: {name}, events: [provisioned]}}\n"
)


def _spec(tmp_path: Path, *, url: str = "https://itsm.example.com", name: str = "GCWM_ITSM_SNOW") -> Path:
    path = tmp_path / "itsm.yaml"
    path.write_text(SPEC.format(url=url, name=name))
    return path


def _nothing_written(env: dict[str, str]) -> None:
    jobs = run_gcwm(["jobs", "list", "--output", "json"], env)
    assert jobs.code == 0 and jobs.json()["jobs"] == [], jobs.stdout + jobs.stderr


def test_provision_and_plan_refuse_the_genesys_client_secret_as_secret_env(
    gcwm_env: dict[str, str], tmp_path: Path
) -> None:
    """Exit 2 naming the file, the channel and itsm.secretEnv; nothing queued."""
    spec = _spec(tmp_path, name="GENESYSCLOUD_OAUTHCLIENT_SECRET")
    provisioned = run_gcwm(["provision", str(spec)], gcwm_env)
    assert provisioned.code == 2, provisioned.stderr
    assert (
        f"{spec}:6: channel 'itsm-web': itsm.secretEnv: GENESYSCLOUD_OAUTHCLIENT_SECRET" in provisioned.stderr
    )
    planned = run_gcwm(["plan", str(spec), "--output", "json"], gcwm_env)
    assert planned.code == 1, planned.stderr  # terraform's code for whatever stops a plan
    (problem,) = planned.json()["problems"]
    assert problem["location"] == "channel 'itsm-web': itsm.secretEnv"
    _nothing_written(gcwm_env)


def test_a_name_is_accepted_once_the_policy_file_lists_it_and_gcwm_names_cannot_be_listed(
    gcwm_env: dict[str, str], tmp_path: Path
) -> None:
    """itsmSecretEnv: [SNOW_TOKEN] admits SNOW_TOKEN; listing GCWM_AUDIT_KEY_FILE is a policy file error."""
    spec = _spec(tmp_path, name="SNOW_TOKEN")
    gcwm_env = {**gcwm_env, "SNOW_TOKEN": "a-bearer-token"}
    unlisted = run_gcwm(["plan", str(spec)], gcwm_env)
    assert unlisted.code == 1 and "itsm.secretEnv: SNOW_TOKEN may not hold an ITSM secret" in unlisted.stderr
    policy = tmp_path / "policy.yaml"
    policy.write_text("itsmSecretEnv: [SNOW_TOKEN]\n")
    listed = run_gcwm(["plan", str(spec)], {**gcwm_env, "GCWM_POLICY_FILE": str(policy)})
    assert listed.code == 2 and "create" in listed.stdout, listed.stderr  # 2: changes to make
    policy.write_text("itsmSecretEnv: [SNOW_TOKEN, GCWM_AUDIT_KEY_FILE]\n")
    refused = run_gcwm(["provision", str(spec)], {**gcwm_env, "GCWM_POLICY_FILE": str(policy)})
    assert refused.code == 2 and "itsmSecretEnv.1: GCWM_AUDIT_KEY_FILE" in refused.stderr, refused.stderr
    _nothing_written(gcwm_env)


def test_a_loopback_target_is_refused_before_any_write_unless_the_policy_file_allows_it(
    gcwm_env: dict[str, str], tmp_path: Path
) -> None:
    """Exit 3 naming itsm.url; examples/policy-local-sink.yaml lets the example provision."""
    example = EXAMPLES / "channel-itsm.yaml"
    env = {**gcwm_env, "GCWM_NOTIFY_GRACE_SECONDS": "0", "GCWM_ITSM_WEBHOOK_SECRET": SECRET}
    refused = run_gcwm(["provision", str(example)], env)
    assert refused.code == 3, refused.stderr
    assert (
        f"{example}: channel 'support-web-itsm': itsm.url: [high] http://127.0.0.1:8090/webhook is a"
        " loopback address (127.0.0.0/8)"
    ) in refused.stderr
    _nothing_written(env)
    allowed = {**env, "GCWM_POLICY_FILE": str(EXAMPLES / "policy-local-sink.yaml")}
    done = run_gcwm(["provision", str(example), "--output", "json"], allowed)
    assert done.code == 0, done.stderr
    assert done.json()["channels"][0]["outcome"] == "created"


def test_notify_show_gives_at_most_200_bytes_of_the_answer_without_control_characters(tmp_path: Path) -> None:
    """The admin's view on the command line: the message apart, then the cleaned start of the reply."""
    url = f"sqlite:///{tmp_path}/notify.db"
    env = notify_env(url, tmp_path)  # with examples/policy-local-sink.yaml
    reply = "NOPE \x1b[2J\x1b[31mcleared\r\nsecond line\x00" + "y" * 500
    store = Store(connect(url))
    try:
        with EmbeddedSink(Sink(secret=SECRET)) as sink:
            sink.sink.add_fault(Fault(status=502, body=reply, path="/webhook"))
            (message_id,) = queue_webhooks(store, f"{sink.url}/webhook", 1)
            assert run_gcwm(["notify", "run", "--once"], env).code == 0
    finally:
        store.engine.dispose()
    shown = run_gcwm(["notify", "show", message_id, "--output", "json"], env).json()
    assert shown["lastError"] == f"POST {sink.url}/webhook answered 502"
    assert shown["lastReply"].startswith("NOPE [2J[31mcleared second line")
    assert len(shown["lastReply"].encode()) <= 200
    text = run_gcwm(["notify", "show", message_id], env).stdout
    assert "lastReply: NOPE" in text and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)
