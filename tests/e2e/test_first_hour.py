"""Issue 24 ("a platform engineer's first hour"), items 1, 2, 5, 6, 7 and the CLI's part of 10, as that
engineer runs gcwm: every problem of a file in one run, each said once; plan as Terraform's; what
changed in the audit log; output that fits a pipe and a terminal."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from gcwm.notify import new_secret
from tests.conftest import EXAMPLES, gcwm_command
from tests.e2e.conftest import Result, run_gcwm
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until

BAD_DOMAINS = ("https://shop7.example.com/cart", "co.uk")
DEPLOYMENTS = "/api/v2/webdeployments/deployments"


def _brands(tmp_path: Path, count: int = 30, *, sessions: int = 50) -> Path:
    """`count` channels, the 8th and 13th with a bad domain, the 21st routed to a queue the org lacks."""
    lines = ["channels:"]
    for n in range(count):
        domain = {7: BAD_DOMAINS[0], 12: BAD_DOMAINS[1]}.get(n, f"brand{n}.example.com")
        queue = "Nowhere" if n == 20 else "Support"
        lines += [
            f"  - name: brand-{n:02}",
            f"    routingQueue: {queue}",
            "    inboundMessageFlow: Support Messaging Flow",
            f"    allowedDomains: ['{domain}']",
            f"    maxConcurrentSessions: {sessions}",
        ]
    path = tmp_path / "brands.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _writes(emulator: RunningEmulator) -> dict[str, int]:
    return {op: n for op, n in emulator.stats()["byOperation"].items() if not op.startswith("GET")}


def _jobs(env: dict[str, str]) -> list[dict[str, Any]]:
    listed = run_gcwm(["jobs", "list", "--output", "json"], env)
    assert listed.code == 0, listed.stderr
    jobs: list[dict[str, Any]] = listed.json()["jobs"]
    return jobs


def _all(result: Result) -> str:
    return result.stdout + result.stderr


def test_thirty_channels_with_two_bad_domains_and_a_missing_queue_name_each_once_and_write_nothing(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Item 1's acceptance: the verdict first, each bad domain once or twice in all of the output, the
    missing queue too, exit 3, nothing written; the JSON gives each channel its own findings only."""
    spec = _brands(tmp_path)
    text = run_gcwm(["provision", str(spec)], gcwm_env)

    assert text.code == 3, _all(text)
    for named in (*BAD_DOMAINS, "'Nowhere'"):
        assert 1 <= _all(text).count(named) <= 2, (named, _all(text))
    errors = [line for line in text.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: provision refused: 3 blocking findings (3 channels); nothing was written"]
    assert f"  {spec}: channel 'brand-07': allowedDomains[0]: [high] " in text.stderr
    assert (
        f"  {spec}: channel 'brand-20': routingQueue: [high] routing queue 'Nowhere' not found" in text.stderr
    )
    assert len(_all(text).splitlines()) < 20
    assert _writes(emulator) == {} and emulator.deployments() == [] and _jobs(gcwm_env) == []

    document = run_gcwm(["provision", str(spec), "--output", "json"], gcwm_env).json()
    by_name = {c["name"]: c for c in document["channels"]}
    assert {c["outcome"] for c in by_name.values()} == {"refused"}
    assert [f["location"] for f in by_name["brand-12"]["findings"] if f["blocking"]] == ["allowedDomains[0]"]
    assert [f for f in by_name["brand-00"]["findings"] if f["blocking"]] == []
    assert document["refusal"]["blocking"] == 3


def test_a_cap_on_sessions_names_each_channel_once_and_never_says_how_many_would_fit(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The 535-line refusal: a policy capping sessions at 10 for thirty channels asking 50. Each channel
    once; the ceiling counted once; no "would fit" for a limit creates cannot pass."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("limits: {maxConcurrentSessionsPerChannel: 10}\n")
    env = {**gcwm_env, "GCWM_POLICY_FILE": str(policy)}
    spec = tmp_path / "capped.yaml"
    text = _brands(tmp_path).read_text().replace("Nowhere", "Support")
    spec.write_text(text.replace(BAD_DOMAINS[0], "a.example").replace(BAD_DOMAINS[1], "b.example.org"))

    text = run_gcwm(["provision", str(spec)], env)

    assert text.code == 3, _all(text)
    for n in range(30):
        assert _all(text).count(f"channel 'brand-{n:02}'") == 1
    assert "would fit" not in _all(text) and len(_all(text).splitlines()) < 40
    assert _writes(emulator) == {}


def test_every_spec_mistake_is_reported_in_one_run_with_file_line_channel_and_field(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Item 2: a misspelt key, a defaultLanguage outside languages and a duplicated name: one run,
    exit 2, `FILE:LINE: channel 'x': field: message` each; the JSON keeps its keys and adds `line`."""
    spec = tmp_path / "three.yaml"
    spec.write_text(
        "channels:\n"
        "  - name: web\n"
        "    routingQueue: Support\n"
        "    inboundMessageFlow: Support Messaging Flow\n"
        "    allowedDomain: [example.com]\n"
        "    messenger: {languages: [en-us], defaultLanguage: fr}\n"
        "  - name: WEB\n"
        "    routingQueue: Support\n"
        "    inboundMessageFlow: Support Messaging Flow\n"
        "    allowedDomains: [example.org]\n"
    )
    text = run_gcwm(["provision", str(spec)], gcwm_env)
    result = run_gcwm(["provision", str(spec), "--output", "json"], gcwm_env)

    assert (text.code, result.code) == (2, 2)
    assert (
        f"{spec}:5: channel 'web': allowedDomain: unknown key; did you mean 'allowedDomains'?" in text.stderr
    )
    assert (
        f"{spec}:6: channel 'web': messenger.defaultLanguage: defaultLanguage 'fr' is not one of"
        in text.stderr
    )
    assert (
        f"{spec}:7: channel 'WEB': name: the name 'WEB' is given twice: also at line 2 (as 'web'); channel "
        "names compare case-insensitively"
    ) in text.stderr
    problems = result.json()["problems"]
    assert [(set(p), p["line"]) for p in problems] == [
        ({"source", "location", "problem", "line"}, n) for n in (5, 6, 7)
    ]
    assert emulator.stats()["requests"] == 0


def test_plan_exit_codes_are_terraforms_and_no_ops_are_counted_not_listed(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Item 5: 0 no changes (the unchanged channel listed only with --verbose), 2 changes, 1 for what
    stops a plan: a blocking finding (its `findings` say so), a spec error (its `error`)."""
    channel = str(EXAMPLES / "channel.yaml")
    assert run_gcwm(["provision", channel], gcwm_env).code == 0

    same = run_gcwm(["plan", channel], gcwm_env)
    assert same.code == 0 and same.stdout.startswith("Plan: no changes: 1 channel as specified.")
    assert "support-web" not in same.stdout
    verbose = run_gcwm(["plan", channel, "--verbose"], gcwm_env)
    assert verbose.code == 0 and "= no-op support-web" in verbose.stdout
    assert run_gcwm(["plan", channel, "-o", "json"], gcwm_env).json()["changes"][0]["action"] == "no-op"

    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(channel).read_text().replace("- www.example.com", "- '*.co.uk'"))
    refused = run_gcwm(["plan", str(bad), "--output", "json"], gcwm_env)
    assert refused.code == 1, refused.stderr
    document = refused.json()
    assert document["verdict"].startswith("provision would refuse: 1 blocking finding")
    assert [f["location"] for f in document["findings"] if f["blocking"]] == ["allowedDomains[1]"]
    text = run_gcwm(["plan", str(bad)], gcwm_env)
    assert text.stdout.splitlines()[0].startswith("Plan: provision would refuse: 1 blocking finding")

    broken = tmp_path / "broken.yaml"
    broken.write_text(Path(channel).read_text().replace("primaryColor:", "primaryColour:"))
    failed = run_gcwm(["plan", str(broken), "--output", "json"], gcwm_env)
    assert failed.code == 1 and failed.json()["error"] == "SpecError"


def test_a_changed_spec_plans_by_spec_path_item_by_item_and_the_audit_entry_says_what_changed(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Items 5 and 7: colour and a domain changed. The plan names spec paths, lists the domains one by
    one and marks the version move as following from the republish; provision's channel.updated
    entry carries the same fields (spec paths, old -> new)."""
    channel = EXAMPLES / "channel.yaml"
    assert run_gcwm(["provision", str(channel)], gcwm_env).code == 0
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        channel.read_text().replace("#FF4F1F", "#00AA00").replace("- www.example.com", "- shop.example.com")
    )

    planned = run_gcwm(["plan", str(changed)], gcwm_env)
    assert planned.code == 2, planned.stderr
    assert planned.stdout.startswith("Plan: 0 to create, 1 to update, 0 to replace, 0 unchanged.")
    assert '    ~ messenger.primaryColor: "#FF4F1F" -> "#00AA00"\n' in planned.stdout
    assert "    ~ allowedDomains:\n        + shop.example.com\n        - www.example.com\n" in planned.stdout
    assert (
        '    ~ deployment.configuration.version: "1" -> "2"  (follows from publishing the configuration as '
        "version 2)"
    ) in planned.stdout

    assert run_gcwm(["provision", str(changed)], gcwm_env).code == 0
    entries = run_gcwm(["audit", "show", "--output", "json"], gcwm_env).json()["entries"]
    (updated,) = [e for e in entries if e["action"] == "channel.updated"]
    fields = {f["path"]: f for f in updated["summary"]["fields"]}
    assert (fields["messenger.primaryColor"]["old"], fields["messenger.primaryColor"]["new"]) == (
        "#FF4F1F",
        "#00AA00",
    )
    assert fields["allowedDomains"]["new"] == ["example.com", "shop.example.com"]
    assert fields["deployment.configuration.version"]["consequence"] is True
    (created,) = [e for e in entries if e["action"] == "channel.created"]
    assert all(f["old"] is None for f in created["summary"]["fields"])
    assert run_gcwm(["audit", "verify", "--output", "json"], gcwm_env).json()["ok"] is True


def test_itsm_settings_that_would_fail_hours_later_are_refused_before_any_write(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Item 6: a ServiceNow target without auth and a webhook whose secret is not a whsec_ key, in one
    file: both named in one run, exit 2 (plan: 1), nothing written."""
    spec = tmp_path / "itsm.yaml"
    spec.write_text(
        "channels:\n"
        "  - name: snow\n    routingQueue: Support\n    inboundMessageFlow: Support Messaging Flow\n"
        "    allowedDomains: [a.example.com]\n"
        "    itsm: {type: servicenow, url: 'https://acme.service-now.com', secretEnv: GCWM_ITSM_SNOW}\n"
        "  - name: hook\n    routingQueue: Support\n    inboundMessageFlow: Support Messaging Flow\n"
        "    allowedDomains: [b.example.com]\n"
        "    itsm: {type: webhook, url: 'https://itsm.example.com/hook', secretEnv: GCWM_ITSM_HOOK}\n"
    )
    env = {**gcwm_env, "GCWM_ITSM_SNOW": "svc:password", "GCWM_ITSM_HOOK": "plain-text-not-a-key"}
    provisioned = run_gcwm(["provision", str(spec)], env)
    planned = run_gcwm(["plan", str(spec), "--output", "json"], env)

    assert (provisioned.code, planned.code) == (2, 1), provisioned.stderr
    assert (
        f"{spec}:6: channel 'snow': itsm.auth: a servicenow target must say how gcwm signs in"
        in provisioned.stderr
    )
    assert (
        f"{spec}:11: channel 'hook': itsm.secretEnv: the secret in GCWM_ITSM_HOOK is not a Standard Webhooks"
        in (provisioned.stderr)
    )
    assert "plain-text-not-a-key" not in _all(provisioned) + _all(planned)
    assert [p["location"] for p in planned.json()["problems"]] == [
        "channel 'snow': itsm.auth",
        "channel 'hook': itsm.secretEnv",
    ]
    assert emulator.stats()["requests"] == 0 and _jobs(env) == []

    fixed = spec.read_text().replace("type: servicenow,", "type: servicenow, auth: basic,")
    spec.write_text(fixed)
    assert run_gcwm(["plan", str(spec)], {**env, "GCWM_ITSM_HOOK": new_secret()}).code == 2


def test_provision_prints_its_timings_only_when_asked_and_keeps_ids_whole_in_a_pipe(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """Item 10: no latency tables after every run (`--timings` shows them; the JSON has them always);
    piped, the table is not cut at 80 columns."""
    env = {k: v for k, v in gcwm_env.items() if k != "COLUMNS"}
    bulk = str(EXAMPLES / "bulk.yaml")
    plain = run_gcwm(["provision", bulk], env)
    assert plain.code == 0, plain.stderr
    assert "latency" not in plain.stdout
    for deployment in emulator.deployments():
        assert deployment["id"] in plain.stdout
    assert "…" not in plain.stdout
    timed = run_gcwm(["provision", bulk, "--timings"], env)
    assert timed.code == 0 and "step latency" in timed.stdout and "Genesys operation latency" in timed.stdout
    assert "latency" in run_gcwm(["provision", bulk, "--output", "json"], env).json()


def test_help_shows_metavars_people_write_not_typers() -> None:
    """Item 10: `gcwm provision FILE`, not `{spec_file}`; flags without `<bool>`."""
    env = {**os.environ, "COLUMNS": "200"}
    for command in (["provision"], ["plan"], ["jobs", "resume"], []):
        shown = run_gcwm([*command, "--help"], env)
        assert shown.code == 0
        assert "<bool>" not in shown.stdout and "{" not in shown.stdout.split("\n\n")[0], shown.stdout
    assert "Usage: gcwm provision [OPTIONS] FILE" in run_gcwm(["provision", "--help"], env).stdout
    assert "--timings" in run_gcwm(["provision", "--help"], env).stdout
    assert "--verbose" in run_gcwm(["plan", "--help"], env).stdout


def test_ctrl_c_hands_the_running_jobs_back_to_the_queue_as_it_says(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Item 10: interrupted with a deployment create in flight, `gcwm provision` exits 130 saying the
    jobs are queued again, and `jobs list` agrees (not `running` until a lease runs out); resume ends
    them with one deployment each."""
    # The cut-off create may still be carried out: the resume waits that request's timeout out first.
    # Long enough that the held create is still in flight when Ctrl-C comes on a busy machine.
    gcwm_env = {**gcwm_env, "GCWM_GENESYS_TIMEOUT_SECONDS": "8"}
    emulator.add_fault("POST", DEPLOYMENTS, "latency", latency_ms=120_000)
    process = subprocess.Popen(
        [*gcwm_command(), "provision", str(EXAMPLES / "channel.yaml")],
        env=gcwm_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: emulator.delayed_requests() == 1, what="the deployment create to be in flight")
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=60)
        emulator.release_held()

    assert process.returncode == 130, stderr
    assert "the unfinished jobs are queued again" in stderr
    assert [j["status"] for j in _jobs(gcwm_env)] == ["queued"]
    resumed = run_gcwm(["jobs", "resume", "--output", "json"], gcwm_env)
    assert resumed.code == 0, resumed.stderr
    assert len(emulator.deployments()) == 1
