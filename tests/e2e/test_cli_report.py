"""`gcwm provision`'s latency summary and `gcwm report latency`, run as users run them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.conftest import EXAMPLES
from tests.e2e.conftest import run_gcwm
from tests.support.emulator import RunningEmulator


def _ordered(summary: dict[str, Any]) -> bool:
    return summary["count"] >= 1 and summary["p50"] <= summary["p95"] <= summary["p99"] <= summary["max"]


def test_provision_summary_counts_exactly_the_calls_the_emulator_answered(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """Per Genesys operation, as many samples (and answers by status) as the emulator served."""
    result = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--output", "json"], gcwm_env)
    assert result.code == 0, result.stderr
    latency = result.json()["latency"]
    answered = emulator.stats()["byOperation"]
    assert {op: s["count"] for op, s in latency["operations"].items()} == answered
    assert all(sum(s["statuses"].values()) == s["count"] for s in latency["operations"].values())
    assert "POST /api/v2/webdeployments/deployments" in latency["operations"]
    assert all(_ordered(s) for s in [*latency["steps"].values(), *latency["operations"].values()])
    assert latency["jobs"]["provision"]["count"] == 1


def test_text_output_ends_with_the_latency_tables_when_asked(gcwm_env: dict[str, str]) -> None:
    """With --timings people see the step, job and Genesys operation tables under the results; without
    it, none of them (issue 24, item 10)."""
    result = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--timings"], gcwm_env)
    assert result.code == 0, result.stderr
    for title in ("step latency", "job latency", "Genesys operation latency"):
        assert title in result.stdout
    quiet = run_gcwm(["provision", str(EXAMPLES / "channel.yaml")], gcwm_env)
    assert quiet.code == 0 and "latency" not in quiet.stdout


def test_report_gives_the_stored_steps_of_past_runs(gcwm_env: dict[str, str]) -> None:
    """Two runs later, the report holds both runs' steps and jobs."""
    first = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--output", "json"], gcwm_env)
    again = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--output", "json"], gcwm_env)
    assert first.code == 0 and again.code == 0, first.stderr + again.stderr
    runs = [first.json()["latency"], again.json()["latency"]]
    report = run_gcwm(["report", "latency", "--output", "json"], gcwm_env)
    assert report.code == 0, report.stderr
    document = report.json()
    steps = {name for run in runs for name in run["steps"]}
    assert set(document["steps"]) == steps
    for name in steps:
        assert document["steps"][name]["count"] == sum(
            run["steps"].get(name, {}).get("count", 0) for run in runs
        )
        assert _ordered(document["steps"][name])
    assert document["jobs"]["provision"]["count"] == 2
    recent = run_gcwm(["report", "latency", "--since", "1h", "--output", "json"], gcwm_env)
    assert recent.json()["steps"] == document["steps"]


def test_report_since_a_future_time_is_empty(gcwm_env: dict[str, str]) -> None:
    """Nothing finished after a time to come: empty steps and jobs, exit 0."""
    run_gcwm(["provision", str(EXAMPLES / "channel.yaml")], gcwm_env)
    result = run_gcwm(["report", "latency", "--since", "2999-01-01T00:00:00Z", "--output", "json"], gcwm_env)
    assert result.code == 0, result.stderr
    document = result.json()
    assert (document["steps"], document["jobs"], document["operations"]) == ({}, {}, {})


def test_report_refuses_a_since_it_cannot_read(gcwm_env: dict[str, str]) -> None:
    """A bad --since is a usage error that names the option and what it accepts."""
    result = run_gcwm(["report", "latency", "--since", "last tuesday"], gcwm_env)
    assert result.code == 2
    assert "--since 'last tuesday'" in result.stderr and "24h" in result.stderr


def test_report_counts_the_calls_the_jobs_made(gcwm_env: dict[str, str], emulator: RunningEmulator) -> None:
    """The stored operations are exactly the calls the emulator answered during `gcwm provision` less
    those it makes outside any job: the login check and the read of the org, which `gcwm plan` of the
    same spec makes alike (and nothing else: it writes nothing)."""
    spec = str(EXAMPLES / "channel.yaml")
    planned = run_gcwm(["plan", spec, "--output", "json"], gcwm_env)
    assert planned.code == 2, planned.stderr  # changes to make
    outside_jobs = Counter(emulator.stats()["byOperation"])
    assert all(op.startswith("GET ") for op in outside_jobs)
    run = run_gcwm(["provision", spec, "--output", "json"], gcwm_env)
    assert run.code == 0, run.stderr
    during_run = Counter(emulator.stats()["byOperation"]) - outside_jobs
    report = run_gcwm(["report", "latency", "--output", "json"], gcwm_env)
    assert report.code == 0, report.stderr
    operations = report.json()["operations"]
    assert {op: s["count"] for op, s in operations.items()} == dict(during_run - outside_jobs)
    assert "POST /api/v2/webdeployments/deployments" in operations
    assert all(sum(s["statuses"].values()) == s["count"] and _ordered(s) for s in operations.values())
