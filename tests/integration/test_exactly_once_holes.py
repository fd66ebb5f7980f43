"""Regressions for the holes in the exactly-once promise found by review (issue 22), each over real HTTP
against the emulator and a real database. Each test failed on the code before its fix."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gcwm.errors import JobError, LimitExceeded, SpecError
from gcwm.provisioning import Role
from gcwm.settings import Settings
from gcwm.spec import parse_spec
from gcwm.store import Store
from gcwm.store.tables import jobs
from tests.integration.conftest import Provision, channel_yaml, gcwm_app
from tests.support.emulator import RunningEmulator
from tests.support.polling import eventually

DEPLOYMENTS = "/api/v2/webdeployments/deployments"
CONFIGS = "/api/v2/webdeployments/configurations"


def _two_channels() -> str:
    return channel_yaml("web-a") + channel_yaml("web-b").replace("\nchannels:\n", "")


async def _destroy(settings: Settings, name: str) -> dict[str, Any]:
    async with gcwm_app(settings) as app:
        (job,) = await app.service.destroy([name])
        document = await app.service.run_jobs([job.id])
    channel: dict[str, Any] = document["channels"][0]
    return channel


def _set_job(store: Store, job_id: str, **values: Any) -> None:
    """Put a job in a state the test needs, as another process would have left it."""
    with store.unit_of_work() as tx:
        tx.connection.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


async def test_destroy_never_takes_an_object_whose_copied_text_names_another_channel(
    provision: Provision, emulator: RunningEmulator, settings: Settings
) -> None:
    """Item 1: an admin copies web-a's description into web-b's deployment in front of web-b's own
    marker. gcwm's marker is the one it appends (the last): destroying web-a leaves web-b's objects,
    and a plan of web-b says the object carries two channels' markers."""
    a, b = await provision(_two_channels())
    b_id = b.result["deployment"]["id"]
    deployment = emulator.api("GET", f"{DEPLOYMENTS}/{b_id}")
    a_marker = emulator.api("GET", f"{DEPLOYMENTS}/{a.result['deployment']['id']}")["description"]
    deployment["description"] = f"{a_marker} {deployment['description']}"
    emulator.api("PUT", f"{DEPLOYMENTS}/{b_id}", deployment)

    async with gcwm_app(settings) as app:
        report = await app.service.plan(parse_spec(channel_yaml("web-b")))
    (change,) = report.plan.changes
    assert any("markers of two channels" in n and "web-a" in n for n in change.notes), change.notes

    destroyed = await _destroy(settings, "web-a")
    assert destroyed["removed"]["deployments"] == [a.result["deployment"]["id"]]
    assert [d["id"] for d in emulator.deployments()] == [b_id]


def test_a_spec_description_may_not_carry_gcwms_marker() -> None:
    """Item 1: the marker is gcwm's; a description that holds one is a spec error naming the field."""
    text = channel_yaml("web-a") + "    description: copied [gcwm channel=web-b job=1234]\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="a.yaml")
    (problem,) = caught.value.problems
    assert problem.location.endswith("description") and "[gcwm " in problem.problem


async def test_resuming_a_job_of_another_org_is_refused_naming_that_org(
    provision: Provision, settings: Settings
) -> None:
    """Item 6: one database, two sets of credentials: resuming the other org's job hung for ever
    (this process claims only its own org's jobs). It is refused at once, naming the job's org."""
    (done,) = await provision(channel_yaml())
    async with gcwm_app(settings) as app:
        _set_job(app.store, done.id, org_id="another-org", status="failed")
        with pytest.raises(JobError, match="another-org"):
            await asyncio.wait_for(app.service.resume(done.id), timeout=10)
        assert app.store.get_job(done.id).status == "failed"  # not queued for nobody to claim


async def test_a_resumed_job_gets_its_retries_again(
    provision: Provision, emulator: RunningEmulator, settings: Settings, no_backoff: None
) -> None:
    """Item 9: a job that used its three claims, resumed, meets one burst of 503s that outlasts one
    claim's retries: it is queued again and succeeds, not failed at once for its old attempts."""
    emulator.add_fault("POST", DEPLOYMENTS, "http409")  # refused: the job fails and rolls back
    (failed,) = await provision(channel_yaml())
    async with gcwm_app(settings) as app:
        _set_job(app.store, failed.id, attempts=3)
        # One claim's worth of lost deployment creates (8 tries, each looked up first).
        emulator.add_fault("POST", DEPLOYMENTS, "http503", count=8)
        document = await app.service.resume(failed.id)
        job = app.store.get_job(failed.id)
    (channel,) = document["channels"]
    assert channel["outcome"] in ("created", "recreated"), channel
    assert job.attempts == 2  # reset on resume, then two claims
    assert emulator.calls(f"POST {DEPLOYMENTS}") == 1 + 8 + 1
    assert len(emulator.deployments()) == 1


async def test_outcome_is_created_not_recreated_when_nothing_recorded_was_gone(
    provision: Provision, emulator: RunningEmulator, settings: Settings
) -> None:
    """Item 10: a job cancelled after its configuration was published, then the spec provisioned
    again: nothing recorded is missing from the org, so the outcome is not "recreated"."""
    async with gcwm_app(settings) as app:
        (job,) = await app.service.submit(parse_spec(channel_yaml()))
        emulator.add_fault("POST", f"{CONFIGS}/[^/]+/versions/draft/publish", "latency", latency_ms=60_000)
        work = asyncio.create_task(app.service.run_jobs([job.id]))
        await eventually(
            lambda: emulator.delayed_requests() == 1, timeout_s=10, what="the request to be held"
        )
        await app.service.cancel(job.id, role=Role.operator)  # asked while the publish is in flight
        emulator.release_held()
        await work
        assert app.store.get_job(job.id).status == "cancelled"
    (again,) = await provision(channel_yaml())
    assert again.status == "succeeded", again.error
    assert again.result["outcome"] != "recreated", again.result["notes"]


async def test_after_destroy_a_new_provision_of_the_name_is_created(
    provision: Provision, emulator: RunningEmulator, settings: Settings
) -> None:
    """Item 10: a destroyed channel's record keeps its last ids; provisioning the name again (as the
    service does: queued first, planned by a worker from a read after that) must not take them for
    objects gone from the org ("recreated")."""
    await provision(channel_yaml())
    assert (await _destroy(settings, "support-web"))["outcome"] == "destroyed"
    async with gcwm_app(settings) as app:
        (job,) = await app.service.submit(parse_spec(channel_yaml()))
        document = await app.service.run_jobs([job.id])
    (again,) = document["channels"]
    assert again["outcome"] == "created", again


async def test_a_rollback_whose_delete_answer_is_lost_sends_it_again_and_removes_the_rest(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """Item 7: the deployment went to status Error, so the job rolls back; the DELETE of the deployment
    is carried out but answered 500. The rollback sends it again (404: done), then removes the
    configuration too, instead of stopping at "could not remove the deployment"."""
    emulator.add_fault("POST", DEPLOYMENTS, "commit_then_delay", latency_ms=60_000)
    emulator.add_fault("DELETE", f"{DEPLOYMENTS}/[^/]+", "commit_then_fail")
    async with gcwm_app(settings) as app:
        (job,) = await app.service.submit(parse_spec(channel_yaml()))
        work = asyncio.create_task(app.service.run_jobs([job.id]))
        await eventually(lambda: emulator.held_answers() == 1, timeout_s=10, what="the answer to be held")
        (made,) = emulator.deployments()
        emulator.break_deployment(made["id"])
        emulator.release_held()
        await work
        failed = app.store.get_job(job.id)
    assert failed.status == "failed" and failed.error is not None
    message = failed.error["message"]
    assert "rollback incomplete" not in message, message
    assert "rolled back: removed deployment" in message and "configuration" in message, message
    assert emulator.stats()["commitThenFail"] == 1
    assert emulator.deployments() == [] and emulator.configurations() == []


async def test_a_job_superseded_by_a_newer_one_of_its_channel_is_not_resumed(
    provision: Provision, emulator: RunningEmulator, settings: Settings
) -> None:
    """Item 2: job A is cancelled after its publish, before its deployment create; job B of the same
    channel then makes the deployment. Resuming A carried on from A's plan ("create deployment") and
    made a second one; it is refused now, naming B, and nothing is written."""
    async with gcwm_app(settings) as app:
        (a,) = await app.service.submit(parse_spec(channel_yaml()))
        emulator.add_fault("POST", f"{CONFIGS}/[^/]+/versions/draft/publish", "latency", latency_ms=60_000)
        work = asyncio.create_task(app.service.run_jobs([a.id]))
        await eventually(
            lambda: emulator.delayed_requests() == 1, timeout_s=10, what="the request to be held"
        )
        await app.service.cancel(a.id, role=Role.operator)
        emulator.release_held()
        await work
    (b,) = await provision(channel_yaml())
    assert b.status == "succeeded", b.error
    posts = emulator.calls(f"POST {DEPLOYMENTS}")
    async with gcwm_app(settings) as app:
        with pytest.raises(JobError, match=f"superseded by job {b.id}"):
            await app.service.resume(a.id)
        assert app.store.get_job(a.id).status == "cancelled"
    assert emulator.calls(f"POST {DEPLOYMENTS}") == posts
    assert len(emulator.deployments()) == 1


async def test_a_job_cancelled_because_a_newer_spec_superseded_it_names_that_job(
    emulator: RunningEmulator, settings: Settings
) -> None:
    """Item 2: the cancel message of a superseded job names the newer job instead of advising
    `gcwm jobs resume` (which would lead into the second deployment above)."""
    async with gcwm_app(settings) as app:
        (old,) = await app.service.submit(parse_spec(channel_yaml()))
        emulator.add_fault("POST", f"{CONFIGS}$", "latency", latency_ms=60_000)
        work = asyncio.create_task(app.service.run_jobs([old.id]))
        await eventually(
            lambda: emulator.delayed_requests() == 1, timeout_s=10, what="the request to be held"
        )
        newer_spec = channel_yaml().replace("[example.com]", "[example.com, shop.example.com]")
        (new,) = await app.service.submit(parse_spec(newer_spec))
        emulator.release_held()
        await work
        document = await app.service.run_jobs([new.id])
        ended = app.store.get_job(old.id)
    assert ended.status == "cancelled" and ended.error is not None
    assert ended.error["error"] == "JobSuperseded" and new.id in ended.error["message"], ended.error
    assert "jobs resume" not in ended.error["message"]
    assert document["channels"][0]["outcome"] in ("created", "updated"), document
    assert len(emulator.deployments()) == 1


ATTACHMENTS = "    messenger: {fileUpload: {enabled: true, fileTypes: [image/png]}}\n"
LIMITS_OF_ONE = {"web.deployments.deployments.max": 1, "web.deployments.configuration.max": 1}


async def test_a_destroy_that_ends_after_a_provision_was_queued_leaves_that_provisions_slots(
    provision: Provision, emulator: RunningEmulator, settings: Settings
) -> None:
    """Item 4: at limits of 1, a destroy of web-a is in its last step when web-a is provisioned again.
    The destroy then ends: it freed every slot of the channel's jobs (the queued provision's too) and
    marked the channel removed under it, so another channel was admitted into the provision's room.
    Now the provision keeps its slots and its channel stays desired: the other channel is refused."""
    emulator._admin("PUT", "limits", LIMITS_OF_ONE)
    spec = channel_yaml("web-a") + ATTACHMENTS
    await provision(spec)
    async with gcwm_app(settings) as app:
        (destroy,) = await app.service.destroy(["web-a"])
        profile = "/api/v2/conversations/messaging/supportedcontent/[^/]+"
        emulator.add_fault("DELETE", profile, "latency", latency_ms=60_000)
        work = asyncio.create_task(app.service.run_jobs([destroy.id]))
        await eventually(
            lambda: emulator.delayed_requests() == 1,
            timeout_s=10,
            what="the profile's DELETE (its last step)",
        )
        (again,) = await app.service.submit(parse_spec(spec))
        emulator.release_held()
        await work
        assert app.store.get_job(destroy.id).status == "succeeded"
        record = app.store.get_channel(app.org_id, "web-a")
        assert record is not None and record.status != "removed"
        with pytest.raises(LimitExceeded):
            await app.service.submit(parse_spec(channel_yaml("web-b")))
        document = await app.service.run_jobs([again.id])
    assert document["channels"][0]["outcome"] == "created", document
    assert len(emulator.deployments()) == 1


async def test_at_the_limit_a_corrected_spec_supersedes_its_channels_queued_job(
    emulator: RunningEmulator, settings: Settings
) -> None:
    """Item 5: at limits of 1, web-a is queued (its job holds both slots) and then corrected before it
    ran: admission counted the old job's slots against the new one and refused it. The replaced
    job's slots are left out now: the correction is queued, and it alone runs."""
    emulator._admin("PUT", "limits", LIMITS_OF_ONE)
    async with gcwm_app(settings) as app:
        (first,) = await app.service.submit(parse_spec(channel_yaml("web-a")))
        corrected = channel_yaml("web-a").replace("[example.com]", "[example.org]")
        (second,) = await app.service.submit(parse_spec(corrected))
        document = await app.service.run_jobs([second.id])
        assert app.store.get_job(first.id).status == "cancelled"
    assert document["channels"][0]["outcome"] == "created", document
    (deployment,) = emulator.deployments()
    assert deployment["allowedDomains"] == ["example.org"]


async def test_a_queued_job_cancelled_then_resumed_takes_no_slot_without_room(
    emulator: RunningEmulator, settings: Settings
) -> None:
    """Suspected in issue 22, settled: a queued job cancelled at once parks its slots; another channel
    then takes the org's only room; resuming the first turned its parked slots back to held without a
    check, and its create met Genesys's own limit.exceeded. Now the resumed job reserves under the
    limits when it plans, and is refused by gcwm before any write."""
    emulator._admin("PUT", "limits", LIMITS_OF_ONE)
    async with gcwm_app(settings) as app:
        (first,) = await app.service.submit(parse_spec(channel_yaml("web-a")))
        await app.service.cancel(first.id, role=Role.operator)  # queued: cancelled at once
        (other,) = await app.service.submit(parse_spec(channel_yaml("web-b")))
        assert (await app.service.run_jobs([other.id]))["channels"][0]["outcome"] == "created"
        document = await app.service.resume(first.id)
    (refused,) = document["channels"]
    assert refused["outcome"] == "failed" and refused["error"]["error"] == "LimitExceeded", refused
    assert emulator.calls("POST /api/v2/webdeployments/configurations") == 1  # web-b's only
