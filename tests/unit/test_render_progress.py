"""Issue 24, item 10: the progress bar counts each job once, by outcome, and ends at its total on the
run's result; log lines go through its console while it is shown, and tables piped are not cut."""

from __future__ import annotations

import pytest
import structlog

from gcwm import render
from gcwm.observability.logging import configure_logging
from gcwm.provisioning import JobEvent


def test_the_bar_counts_each_job_once_and_settles_on_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    """A job reported twice counts once; jobs that ended elsewhere (no event here) are counted from the
    result, so the bar never stops short of its total ("froze at 20/28")."""
    with render.progress(3) as run:
        run(JobEvent("j1", "one", "succeeded", message="created"))
        run(JobEvent("j1", "one", "failed", message="lease lost: another worker took over"))
        document = {
            "channels": [
                {"name": "one", "outcome": "created", "jobId": "j1"},
                {"name": "two", "outcome": "unchanged", "jobId": "j2"},
                {"name": "three", "outcome": "failed", "jobId": "j3", "error": {}},
            ]
        }
        run.settle(document)
        assert run.summary() == "1 created, 1 failed, 1 unchanged"
    assert "3/3" in capsys.readouterr().err


def test_a_refused_run_settles_on_its_channels() -> None:
    """Refused channels have no job: each still ends the bar, as refused."""
    with render.progress(2) as run:
        run.settle({"channels": [{"name": "a", "outcome": "refused"}, {"name": "b", "outcome": "refused"}]})
        assert run.summary() == "2 refused"


def test_log_lines_go_through_the_bars_console_whole_and_the_logger_is_restored_after(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """While the bar is shown structlog writes through its console (above it); each line stays whole,
    however long; afterwards the logger factory is the one gcwm configured."""
    saved = structlog.get_config()
    configure_logging(level="info", json=True)
    try:
        before = structlog.get_config()["logger_factory"]
        with render.progress(1) as run:
            assert structlog.get_config()["logger_factory"] is not before
            structlog.get_logger("t").info("job.claimed", job_id="j1", detail="x" * 300)
            run(JobEvent("j1", "one", "succeeded", message="created"))
        assert structlog.get_config()["logger_factory"] is before
    finally:
        structlog.configure(**saved)
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "job.claimed" in line]
    assert line.startswith("{") and line.endswith("}") and "x" * 300 in line


def test_a_piped_table_keeps_its_ids_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No terminal and no COLUMNS: rich would cut tables at 80 columns; ids must survive a pipe."""
    monkeypatch.delenv("COLUMNS", raising=False)
    deployment = "5b5d4d69-0bdb-454b-8d66-0f20bd3691ee"
    document = {
        "org": {"id": "org-1", "target": "https://api.example"},
        "channels": [
            {
                "name": "a-channel-with-a-rather-long-name",
                "outcome": "unchanged",
                "deployment": {"id": deployment, "status": "Active"},
                "configuration": {"id": "c", "version": "12"},
                "latencyMs": {"total": 1234.5},
                "snippet": None,
                "notes": [],
            }
        ]
        * 2,
    }
    render.provision_result(document)
    out = capsys.readouterr().out
    assert out.count(deployment) == 2 and "…" not in out
    assert "latency" not in out  # the tables only with --timings
