"""What a job does when Genesys refuses or fails: one judge of passing failures, rollbacks that keep the
first error, one job per channel at a time (real HTTP against the emulator, both databases)."""

from __future__ import annotations

import asyncio

import pytest

from gcwm.settings import Settings
from gcwm.spec import parse_spec
from tests.integration.conftest import FAST_TIMEOUTS, Provision, channel_yaml, gcwm_app
from tests.support.emulator import RunningEmulator
from tests.support.polling import eventually

DEPLOYMENTS = "/api/v2/webdeployments/deployments"
CONFIGURATIONS = "/api/v2/webdeployments/configurations"


@pytest.mark.usefixtures("no_backoff")
async def test_429_past_the_retries_keeps_the_work_and_the_job_resumes_to_success(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """A 429 is a passing failure for the worker as for the transport: nothing is rolled back, the job
    fails resumable after its claims, and `resume` finishes it with the configuration it made."""
    emulator.add_fault("POST", DEPLOYMENTS, "http429", count=10_000, retry_after_s=0)
    async with gcwm_app(settings) as app:
        first = await app.service.provision(parse_spec(channel_yaml()))
        (channel,) = first["channels"]
        assert channel["outcome"] == "failed"
        assert channel["error"]["error"] == "GenesysRateLimited"
        assert "what was done is kept" in channel["error"]["message"]
        (kept,) = emulator.configurations()
        assert [s.step for s in app.store.job_steps(channel["jobId"])].count("rolled_back") == 0

        emulator.clear_rules()  # Genesys is well again
        again = await app.service.resume(channel["jobId"])

    (done,) = again["channels"]
    assert done["deployment"]["status"] == "Active", done
    assert done["configuration"]["id"] == kept["id"]
    assert len(emulator.configurations()) == 1 and len(emulator.deployments()) == 1


@pytest.mark.usefixtures("no_backoff")
async def test_job_outlasting_its_retries_is_queued_again_and_resumes_from_its_checkpoints(
    provision: Provision, emulator: RunningEmulator, settings: Settings
) -> None:
    """Genesys unavailable for all of one claim's create attempts: the job goes back in the queue and
    its next claim carries on from its checkpoints; the configuration it made is not made twice."""
    emulator.add_fault("POST", DEPLOYMENTS, "http503", count=FAST_TIMEOUTS.create_attempts)
    (job,) = await provision(channel_yaml())
    assert job.status == "succeeded", job.error
    async with gcwm_app(settings) as app:
        attempts = {s.step: s.attempt for s in app.store.job_steps(job.id)}
    assert job.attempts == 2
    assert (attempts["configuration_created"], attempts["deployment_created"]) == (1, 2)
    assert len(emulator.configurations()) == 1 and len(emulator.deployments()) == 1


async def test_an_error_in_the_rollback_is_added_to_the_first_error_not_put_in_its_place(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """The refusal is the error; what the rollback could not remove is said after it."""
    emulator.add_fault("POST", DEPLOYMENTS, "http400")
    emulator.add_fault("DELETE", f"{CONFIGURATIONS}/[^/]+", "http500", count=10_000)
    (job,) = await provision(channel_yaml())
    assert job.status == "failed" and job.error is not None
    assert job.error["error"] == "GenesysBadRequest"
    assert job.error["operation"] == f"POST {DEPLOYMENTS}"
    assert "(rollback incomplete: could not remove configuration" in job.error["message"]
    assert len(emulator.configurations()) == 1  # left, and said so


async def test_a_rollback_that_cannot_finish_gives_up_within_its_budget(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """A delete that never answers does not hold the job for minutes of nested retries."""
    emulator.add_fault("POST", DEPLOYMENTS, "http400")
    emulator.add_fault("DELETE", f"{CONFIGURATIONS}/[^/]+", "latency", latency_ms=600_000)
    (job,) = await provision(channel_yaml())
    assert job.status == "failed" and job.error is not None
    assert job.error["error"] == "GenesysBadRequest"
    assert "rollback incomplete" in job.error["message"] and "gave up after 2 s" in job.error["message"]
    emulator.release_held()


async def test_a_rolled_back_job_keeps_no_step_naming_what_was_removed(
    provision: Provision, emulator: RunningEmulator, settings: Settings
) -> None:
    """The rollback discards the job's steps in the transaction that records it."""
    emulator.add_fault("POST", DEPLOYMENTS, "http400")
    (job,) = await provision(channel_yaml())
    async with gcwm_app(settings) as app:
        steps = app.store.job_steps(job.id)
        record = app.store.get_channel(app.org_id, "support-web")
    assert [s.step for s in steps] == ["rolled_back"]
    assert steps[0].data["removed"] and steps[0].data["discarded"]
    assert record is not None and record.configuration_id is None and record.status == "failed"


async def test_a_second_submission_in_one_process_waits_for_the_first_ones_create(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """One long-lived process (as the service will be): a newer spec of a channel whose deployment
    create is in flight waits for that job, then updates what it made. One of each, one POST."""
    emulator.add_fault("POST", DEPLOYMENTS, "latency", latency_ms=120_000)
    newer = parse_spec(channel_yaml().replace("[example.com]", "[shop.example.com]"))
    async with gcwm_app(settings) as app:
        first = asyncio.create_task(app.service.provision(parse_spec(channel_yaml())))
        await eventually(lambda: emulator.delayed_requests() == 1, what="the first deployment create")
        second = asyncio.create_task(app.service.provision(newer))
        await eventually(lambda: len(app.store.list_jobs()) == 2, what="the second job to be queued")
        emulator.release_held()
        older_run, newer_run = await asyncio.gather(first, second)
    assert older_run["channels"][0]["outcome"] == "cancelled"
    (channel,) = newer_run["channels"]
    assert channel["outcome"] == "updated", channel
    (deployment,) = emulator.deployments()
    assert deployment["allowedDomains"] == ["shop.example.com"]
    assert len(emulator.configurations()) == 1
    assert emulator.calls(f"POST {DEPLOYMENTS}") == 1
