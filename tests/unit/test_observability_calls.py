"""A run's Genesys call samples and the store gauges' collector, without sockets or files."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, generate_latest

from gcwm.observability.calls import current_calls, recording_calls
from gcwm.observability.gauges import StoredCounts, StoredGauges
from gcwm.observability.metrics import observe_genesys_call


def test_calls_are_recorded_only_inside_the_run_that_records() -> None:
    """Before and after the block nothing collects; inside, each attempt lands under its operation."""
    observe_genesys_call("GET /things", "200", 0.5)
    with recording_calls() as calls:
        observe_genesys_call("GET /things", "200", 0.010)
        observe_genesys_call("GET /things", "503", 0.030)
        observe_genesys_call("POST /things", "none", 0.002)
    observe_genesys_call("GET /things", "200", 0.5)
    assert current_calls() is None
    distributions = calls.distributions()
    things, statuses = distributions["GET /things"]
    assert (things.count, things.max) == (2, 30.0)
    assert statuses == {"200": 1, "503": 1}
    assert distributions["POST /things"][1] == {"none": 1}
    assert len(calls) == 3


def test_tasks_started_by_a_run_report_into_it_and_two_runs_stay_apart() -> None:
    """Jobs run as tasks of the run: their calls count for it, never for a run beside it."""

    async def run(operation: str, n: int) -> int:
        with recording_calls() as calls:

            async def job() -> None:
                await asyncio.sleep(0)
                observe_genesys_call(operation, "200", 0.001)

            await asyncio.gather(*(asyncio.create_task(job()) for _ in range(n)))
        return len(calls)

    async def both() -> list[int]:
        return list(await asyncio.gather(run("GET /a", 3), run("GET /b", 5)))

    assert asyncio.run(both()) == [3, 5]


def test_stored_gauges_are_read_at_each_scrape() -> None:
    """The collector asks its callables on every collect, so a scrape shows the store as it is now."""
    jobs = {"queued": 2, "running": 1}
    registry = CollectorRegistry()
    registry.register(
        StoredGauges(
            StoredCounts(
                jobs_by_status=lambda: jobs,
                outbox_by_status=lambda: {"pending": 4, "dead": 1},
                audit_entries=lambda: 17,
            )
        )
    )
    text = generate_latest(registry).decode()
    assert 'gcwm_jobs{status="queued"} 2.0' in text
    assert 'gcwm_outbox_messages{status="pending"} 4.0' in text
    assert "gcwm_audit_chain_length 17.0" in text
    jobs["queued"] = 0
    assert 'gcwm_jobs{status="queued"} 0.0' in generate_latest(registry).decode()
