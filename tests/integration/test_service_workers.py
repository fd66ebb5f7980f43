"""The service's queue for `gcwm serve`: submit without working, workers that run until stopped, destroy."""

from __future__ import annotations

import asyncio

import pytest

from gcwm.errors import ChannelNotFound, PolicyViolation
from gcwm.provisioning.batch import Batch
from gcwm.provisioning.tools import Timeouts
from gcwm.provisioning.worker import JobEvent
from gcwm.settings import Settings
from gcwm.spec import parse_spec
from tests.integration.conftest import Provision, channel_yaml, gcwm_app
from tests.support.emulator import RunningEmulator
from tests.support.polling import eventually

TWO = channel_yaml("web-one") + channel_yaml("web-two").replace("channels:\n", "")


async def test_submit_queues_a_job_per_channel_and_runs_none(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """The jobs come back queued, in spec order, and the org is untouched until a worker takes them."""
    async with gcwm_app(settings) as app:
        jobs = await app.service.submit(parse_spec(TWO))
        assert [(j.channel_name, j.status, j.kind) for j in jobs] == [
            ("web-one", "queued", "provision"),
            ("web-two", "queued", "provision"),
        ]
        assert {j.id for j in app.store.unfinished_jobs(app.org_id)} == {j.id for j in jobs}
    assert emulator.deployments() == [] and emulator.configurations() == []


async def test_submit_refused_by_policy_raises_naming_channel_and_field_and_queues_nothing(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """A refusal is raised (not a document), recorded, and leaves no job."""
    bad = channel_yaml("web-bad").replace("[example.com]", "['https://example.com/shop']")
    async with gcwm_app(settings) as app:
        with pytest.raises(PolicyViolation) as refused:
            await app.service.submit(parse_spec(bad))
        assert any(
            f.channel == "web-bad" and f.location == "allowedDomains[0]" for f in refused.value.findings
        )
        assert app.store.unfinished_jobs(app.org_id) == []
        assert app.store.get_channel(app.org_id, "web-bad") is None


async def test_run_workers_works_the_queue_until_stopped_with_a_heartbeat(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """Jobs submitted while the loop runs succeed; the loop is alive meanwhile, and ends when asked."""
    async with gcwm_app(settings) as app:
        stop = asyncio.Event()
        assert not app.service.worker_alive()
        loop = asyncio.create_task(app.service.run_workers(stop))
        await eventually(app.service.worker_alive, what="the worker loop's first beat")
        jobs = await app.service.submit(parse_spec(TWO))

        def all_succeeded() -> bool:
            return all(app.store.get_job(j.id).status == "succeeded" for j in jobs)

        await eventually(all_succeeded, what="both jobs to succeed")
        assert app.service.worker_alive()
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
        assert not app.service.worker_alive()
    assert sorted(d["name"] for d in emulator.deployments()) == ["web-one", "web-two"]


async def test_stopping_the_workers_hands_a_job_in_hand_back_to_the_queue(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """A job cut off by stop is queued again at once, not left to its lease; the next start finishes it
    (once the cut-off create must have ended: GCWM_GENESYS_TIMEOUT_SECONDS, short here)."""
    emulator.add_fault("POST", r"/api/v2/webdeployments/deployments", "latency", latency_ms=30_000)
    quick = settings.model_copy(update={"genesys_timeout_seconds": 1.0})
    async with gcwm_app(quick) as app:
        stop = asyncio.Event()
        loop = asyncio.create_task(app.service.run_workers(stop))
        (job,) = await app.service.submit(parse_spec(channel_yaml()))
        await eventually(
            lambda: emulator.delayed_requests() == 1, what="the deployment create to be in flight"
        )
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
        assert app.store.get_job(job.id).status == "queued"
        emulator.release_held()

        again = asyncio.Event()
        loop = asyncio.create_task(app.service.run_workers(again))
        await eventually(lambda: app.store.get_job(job.id).status == "succeeded", what="the job to finish")
        again.set()
        await loop
        notes = app.store.get_job(job.id).result["notes"]
    # The cut-off create was abandoned with its job, not carried out behind the next worker's back.
    assert len(emulator.deployments()) == 1 and not [n for n in notes if "was lost" in n], notes


async def test_destroy_with_lost_delete_answers_still_removes_both_objects(
    settings: Settings, emulator: RunningEmulator, provision: Provision
) -> None:
    """Each DELETE is carried out but answered 500: sent again (idempotent), and the job still ends clean."""
    (made,) = await provision(channel_yaml())
    emulator.add_fault("DELETE", r"/api/v2/webdeployments/deployments/[^/]+", "commit_then_fail")
    emulator.add_fault("DELETE", r"/api/v2/webdeployments/configurations/[^/]+", "commit_then_fail")
    async with gcwm_app(settings) as app:
        (job,) = await app.service.destroy(["support-web"])
        assert job.kind == "destroy"
        document = await app.service.run_jobs([job.id])
        (channel,) = document["channels"]
        assert channel["outcome"] == "destroyed", channel
        assert channel["removed"] == {
            "deployments": [made.result["deployment"]["id"]],
            "configurations": [made.result["configuration"]["id"]],
            "supportedContent": [],  # the channel takes no attachments
        }
        # Its own DELETEs, sent again after their answers were lost, are not "already gone" (issue 22).
        assert not [n for n in channel["notes"] if "already gone" in n], channel["notes"]
        record = app.store.get_channel(app.org_id, "support-web")
        assert record is not None and record.status == "removed"
    assert emulator.stats()["commitThenFail"] == 2
    assert emulator.deployments() == [] and emulator.configurations() == []


async def test_destroy_of_an_unknown_name_raises_and_queues_nothing(
    settings: Settings, emulator: RunningEmulator, provision: Provision
) -> None:
    """One unknown name among known ones: ChannelNotFound names it, and no job is queued for any."""
    await provision(channel_yaml())
    async with gcwm_app(settings) as app:
        with pytest.raises(ChannelNotFound, match="'nope'"):
            await app.service.destroy(["support-web", "nope"])
        assert app.store.unfinished_jobs(app.org_id) == []
    assert len(emulator.deployments()) == 1


async def test_destroy_supersedes_a_queued_provision_of_the_channel(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """The newer intent wins: the queued provision is cancelled and the destroy leaves nothing behind."""
    async with gcwm_app(settings) as app:
        (queued,) = await app.service.submit(parse_spec(channel_yaml()))
        (job,) = await app.service.destroy(["support-web"])
        assert app.store.get_job(queued.id).status == "cancelled"
        document = await app.service.run_jobs([job.id])
        assert document["channels"][0]["outcome"] == "destroyed"
        with pytest.raises(ChannelNotFound, match="destroyed already"):
            await app.service.destroy(["support-web"])
    assert emulator.deployments() == [] and emulator.configurations() == []


async def test_submissions_within_a_serving_batch_read_the_org_once(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """A service admits each submission against the serving batch's recent snapshot: three submissions
    in a row list the org's deployments once, and a queue first named by the third is looked up then."""
    listing = "GET /api/v2/webdeployments/deployments"
    async with gcwm_app(settings) as app:
        before = emulator.calls(listing)
        await app.service.submit(parse_spec(channel_yaml("web-a")))
        await app.service.submit(parse_spec(channel_yaml("web-b")))
        queues_before = emulator.calls("GET /api/v2/routing/queues")
        sales = channel_yaml("web-c", queue="Sales", flow="Sales Messaging Flow")
        jobs = await app.service.submit(parse_spec(sales))
        assert emulator.calls(listing) - before == 1
        assert emulator.calls("GET /api/v2/routing/queues") - queues_before == 1
        assert [j.status for j in jobs] == ["queued"]


async def test_a_submission_never_waits_behind_a_read_of_the_org(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """Once the serving batch has a snapshot, an aged one is read again in the background: the
    submission is admitted against the one in hand while the new read is still held by Genesys."""
    specs = parse_spec(channel_yaml("web-quick"))
    async with gcwm_app(settings) as app:
        batch = Batch(app.client, app.store, app.org_id, Timeouts(), max_age_s=0.0)
        try:
            first = await batch.recent(specs)
            emulator.add_fault("GET", r"/api/v2/webdeployments/deployments$", "latency", latency_ms=60_000)
            again = await asyncio.wait_for(batch.recent(specs), timeout=5)
            assert again is first
            await eventually(lambda: emulator.delayed_requests() == 1, what="the background read to be held")
            assert emulator.release_held() == 1
            await eventually(lambda: batch.observations == 2, what="the background read to finish")
            newer = await batch.recent(specs)
            assert newer.observed_at > first.observed_at
        finally:
            await batch.aclose()  # the last call began another read (its snapshot is at once too old)


async def test_a_submission_never_waits_behind_a_workers_read_of_the_org(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """A worker that finds the serving batch's snapshot aged reads the org again before planning; the
    submissions meanwhile are admitted against the snapshot in hand, not queued behind that read."""
    specs = parse_spec(channel_yaml("web-planned"))
    async with gcwm_app(settings) as app:
        batch = Batch(app.client, app.store, app.org_id, Timeouts(), max_age_s=0.0)
        (job,) = await app.service.submit(specs)
        try:
            first = await batch.recent(specs)  # aged at once: it starts a read in the background
            await eventually(lambda: batch.observations == 2, what="the background read to finish")
            emulator.add_fault("GET", r"/api/v2/webdeployments/deployments$", "latency", latency_ms=60_000)
            planning = asyncio.create_task(batch.plan(job, specs[0]))
            await eventually(lambda: emulator.delayed_requests() == 1, what="the worker's read to be held")
            in_hand = await asyncio.wait_for(batch.recent(specs), timeout=5)
            assert in_hand.observed_at > first.observed_at  # the background read's, not a new one
            assert not planning.done()
            assert emulator.release_held() == 1
            change, _ = await planning
            assert change.channel == "web-planned"
            assert batch.observations == 3
        finally:
            await batch.aclose()


async def test_a_cancel_that_comes_as_a_job_ends_stops_the_run(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """Ctrl-C cancels the run's task; coming in the same turn of the loop as a job's end (which wakes the
    waiting claimer), it stops the run there: the next job stays queued, never started. Python 3.11's
    `asyncio.wait_for` returned normally instead, and the run went on to the end as if not interrupted."""
    run: asyncio.Task[object] | None = None
    loop = asyncio.get_running_loop()

    def on_event(event: JobEvent) -> None:
        # The first job's end: the cancel is queued before the claimer is woken, as a signal can be.
        if event.kind == "succeeded" and run is not None:
            loop.call_soon(run.cancel)

    async with gcwm_app(settings) as app:
        run = asyncio.create_task(app.service.provision(parse_spec(TWO), concurrency=1, on_event=on_event))
        with pytest.raises(asyncio.CancelledError):
            await run
        statuses = {j.channel_name: j.status for j in app.store.unfinished_jobs(app.org_id)}
    made = [d["name"] for d in emulator.deployments()]
    assert len(made) == 1
    assert statuses == {({"web-one", "web-two"} - set(made)).pop(): "queued"}
