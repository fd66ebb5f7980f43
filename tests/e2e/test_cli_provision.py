"""`gcwm provision` as a user runs it: the command, its stdout contract, its errors."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from tests.conftest import EXAMPLES, ROOT
from tests.e2e.conftest import run_gcwm
from tests.support.emulator import RunningEmulator


def test_json_output_is_the_documented_document(gcwm_env: dict[str, str], emulator: RunningEmulator) -> None:
    """stdout carries exactly the JSON document; the deployment is Active with a snippet and timings."""
    result = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--output", "json"], gcwm_env)
    assert result.code == 0, result.stderr
    (channel,) = result.json()["channels"]
    assert channel["name"] == "support-web"
    assert set(channel["configuration"]) == {"id", "version"} and channel["configuration"]["version"] == "1"
    assert channel["deployment"]["status"] == "Active"
    assert f"deploymentId: '{channel['deployment']['id']}'" in channel["snippet"]
    assert channel["latencyMs"]["total"] >= max(v for k, v in channel["latencyMs"].items() if k != "total")
    assert [d["id"] for d in emulator.deployments()] == [channel["deployment"]["id"]]


def test_embedded_emulator_is_the_default_without_credentials(tmp_path: Path) -> None:
    """No credentials: gcwm starts its own emulator, says so on stderr, and provisions against it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    env["GCWM_HOME"] = str(tmp_path / "home")
    result = run_gcwm(["provision", "examples/channel.yaml"], env, cwd=ROOT)
    assert result.code == 0, result.stderr
    assert "using the embedded emulator at http://127.0.0.1:" in result.stderr
    assert "Active" in result.stdout and "deploymentId" in result.stdout
    # The emulated org lives next to gcwm's database, so a second run sees the same org.
    assert (tmp_path / "home" / "emulator-state.json").exists()
    again = run_gcwm(["provision", "examples/channel.yaml", "--output", "json"], env, cwd=ROOT)
    assert again.json()["channels"][0]["outcome"] == "unchanged"


def test_bulk_file_provisions_every_channel_with_progress(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """The 20-channel example: all Active, a progress bar on stderr, one deployment each."""
    result = run_gcwm(["provision", str(EXAMPLES / "bulk.yaml"), "--output", "json"], gcwm_env)
    assert result.code == 0, result.stderr
    channels = result.json()["channels"]
    assert len(channels) == 20 and {c["deployment"]["status"] for c in channels} == {"Active"}
    assert "20/20" in result.stderr
    assert len({d["name"] for d in emulator.deployments()}) == 20


def test_invalid_spec_fails_before_anything_is_written(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """A bad spec names file, channel and field; no job, no Genesys object."""
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "channels:\n  - name: web\n    routingQueue: Support\n"
        "    inboundMessageFlow: Support Messaging Flow\n"
        "    allowedDomains: [example.com]\n    messenger: {primaryColor: blue}\n"
    )
    result = run_gcwm(["provision", str(spec), "--output", "json"], gcwm_env)
    assert result.code == 2
    assert f"{spec}:6: channel 'web': messenger.primaryColor: 'blue' is not a hex colour" in result.stderr
    assert result.json()["error"] == "SpecError"
    assert emulator.configurations() == []
    db = Path(gcwm_env["GCWM_HOME"]) / "gcwm.db"
    assert not db.exists() or sqlite3.connect(db).execute("select count(*) from jobs").fetchone() == (0,)


def test_missing_queue_exits_non_zero_with_the_reason(gcwm_env: dict[str, str], tmp_path: Path) -> None:
    """A queue the org lacks: exit 3, the field and a message saying what to create."""
    spec = tmp_path / "q.yaml"
    spec.write_text(
        "channels:\n  - name: web\n    routingQueue: Nowhere\n"
        "    inboundMessageFlow: Support Messaging Flow\n"
        "    allowedDomains: [example.com]\n"
    )
    result = run_gcwm(["provision", str(spec)], gcwm_env)
    assert result.code == 3
    assert f"{spec}: channel 'web': routingQueue: [high] routing queue 'Nowhere' not found" in result.stderr
    assert "create the queue" in result.stderr


def test_jobs_list_and_show_read_back_the_run(gcwm_env: dict[str, str]) -> None:
    """Jobs and their checkpointed steps can be inspected after the run."""
    run = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--output", "json"], gcwm_env)
    job_id = run.json()["channels"][0]["jobId"]
    listed = run_gcwm(["jobs", "list", "--output", "json"], gcwm_env).json()["jobs"]
    assert [(j["id"], j["status"]) for j in listed] == [(job_id, "succeeded")]
    shown = run_gcwm(["jobs", "show", job_id[:8], "--output", "json"], gcwm_env).json()
    steps = [s["step"] for s in shown["steps"]]
    assert steps[0] == "planned" and steps[-1] == "deployment_active"
    assert "configuration_published" in steps


def test_bad_credentials_are_a_clear_error(gcwm_env: dict[str, str]) -> None:
    """A wrong secret says the login was refused, and never prints the secret."""
    env = {**gcwm_env, "GENESYSCLOUD_OAUTHCLIENT_SECRET": "not-the-secret-123"}
    result = run_gcwm(["provision", str(EXAMPLES / "channel.yaml")], env)
    assert result.code != 0
    assert "POST /oauth/token answered 401" in result.stderr
    assert "not-the-secret-123" not in result.stderr + result.stdout


def test_help_lists_the_commands() -> None:
    """`gcwm --help` works without any configuration."""
    result = run_gcwm(["--help"], dict(os.environ))
    assert result.code == 0
    for command in ("provision", "jobs", "emulator"):
        assert command in result.stdout


def test_version_prints_the_installed_version() -> None:
    """`gcwm --version` answers without configuration or network."""
    from gcwm import __version__

    result = run_gcwm(["--version"], dict(os.environ))
    assert result.code == 0
    assert result.stdout.strip() == f"gcwm {__version__}"


def test_concurrency_outside_1_to_256_is_refused_before_anything_is_queued(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """`--concurrency -1` used to leave a job queued forever; it is refused like GCWM_CONCURRENCY."""
    env = {**gcwm_env, "COLUMNS": "200"}  # the usage error is boxed to the terminal's width
    for bad in ("-1", "0", "257"):
        result = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--concurrency", bad], env)
        assert result.code == 2
        assert "Invalid value for '--concurrency'" in result.stderr
    assert emulator.stats()["requests"] == 0
    assert not (Path(gcwm_env["GCWM_HOME"]) / "gcwm.db").exists()


def test_a_failed_channel_has_outcome_failed_and_the_progress_bar_counts_it(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The JSON document gives every channel an outcome; stderr's last progress line counts them by
    outcome, and the bar ends at its total."""
    spec = tmp_path / "two.yaml"
    spec.write_text(
        "channels:\n"
        "  - {name: one, routingQueue: Support, inboundMessageFlow: Support Messaging Flow,"
        " allowedDomains: [example.com]}\n"
        "  - {name: two, routingQueue: Support, inboundMessageFlow: Support Messaging Flow,"
        " allowedDomains: [example.com]}\n"
    )
    emulator.add_fault("POST", "/api/v2/webdeployments/deployments", "http400")
    env = {**gcwm_env, "GCWM_TRANSIENT_400_SECONDS": "0"}  # the injected 400 is a refusal
    result = run_gcwm(["provision", str(spec), "--output", "json"], env)
    assert result.code == 3
    outcomes = sorted(c["outcome"] for c in result.json()["channels"])
    assert outcomes == ["created", "failed"]
    assert "1 created, 1 failed" in result.stderr and "2/2" in result.stderr


def test_each_job_calls_genesys_under_its_own_actor_and_correlation_id(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """A job resumed by another person's process still speaks as the one who asked for it."""
    # The injected 400 is a refusal (not retried as one naming a fresh object would be).
    env = {**gcwm_env, "GCWM_ACTOR": "alice", "GCWM_LOG_LEVEL": "debug", "GCWM_TRANSIENT_400_SECONDS": "0"}
    emulator.add_fault("POST", r"/api/v2/webdeployments/deployments", "http400")
    first = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--output", "json"], env)
    assert first.code == 3

    resumed = run_gcwm(
        ["jobs", "resume", first.json()["channels"][0]["jobId"], "-o", "json"], {**env, "GCWM_ACTOR": "bob"}
    )
    assert resumed.code == 0, resumed.stderr
    job_calls = [
        e
        for e in _log(resumed.stderr)
        if e.get("event") == "genesys.answered" and str(e["operation"]).startswith("POST /api")
    ]
    first_run_correlation = {e["correlation_id"] for e in _log(first.stderr) if e.get("job_id")}
    assert job_calls and {(e["actor"], e["correlation_id"]) for e in job_calls} == {
        ("alice", first_run_correlation.pop())
    }


def _log(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
