"""JobRepository: the queue, leases, recorded steps, cancel and resume, lookups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from gcwm.errors import JobError
from gcwm.store import Job, Store

Enqueue = Callable[..., Job]


def _claim(store: Store, worker_id: str, lease_s: float = 30, **filters: str) -> Job | None:
    with store.unit_of_work() as tx:
        return tx.jobs.claim_next(worker_id, lease_s, **filters)


def _record(store: Store, job_id: str, worker_id: str, step: str, data: dict[str, object]) -> None:
    with store.unit_of_work() as tx:
        tx.jobs.record_step(job_id, worker_id, step, data, 5.0)


def test_enqueue_claim_record_and_finish(store: Store, enqueue: Enqueue) -> None:
    """The happy path: a queued job is leased, records its steps and succeeds."""
    job = enqueue()
    assert (job.status, job.attempts, job.lease_owner, job.started_at) == ("queued", 0, None, None)

    claimed = _claim(store, "worker-a", lease_s=30)
    assert claimed is not None
    assert claimed.id == job.id
    assert (claimed.status, claimed.attempts, claimed.lease_owner) == ("running", 1, "worker-a")
    assert claimed.lease_expires_at is not None
    assert claimed.started_at is not None
    assert 29 < (claimed.lease_expires_at - claimed.started_at).total_seconds() <= 30

    _record(store, job.id, "worker-a", "create_configuration", {"configuration_id": "cfg-1"})
    _record(store, job.id, "worker-a", "publish_configuration", {"version": "1"})
    with store.unit_of_work() as tx:
        tx.jobs.finish(job.id, "worker-a", status="succeeded", result={"deployment_id": "dep-1"})

    done = store.get_job(job.id)
    assert (done.status, done.result, done.error) == ("succeeded", {"deployment_id": "dep-1"}, None)
    assert (done.lease_owner, done.lease_expires_at) == (None, None)
    assert done.finished_at is not None
    assert done.is_finished
    steps = store.job_steps(job.id)
    assert [(s.step, s.seq, s.attempt) for s in steps] == [
        ("create_configuration", 1, 1),
        ("publish_configuration", 2, 1),
    ]
    assert steps[0].data == {"configuration_id": "cfg-1"}
    assert steps[0].duration_ms == 5.0


def test_finish_as_failed_keeps_the_error(store: Store, enqueue: Enqueue) -> None:
    """A failed job carries its error document."""
    job = enqueue()
    _claim(store, "worker-a")
    error = {"type": "GenesysConflict", "message": "deployment already exists", "status": 409}

    with store.unit_of_work() as tx:
        tx.jobs.finish(job.id, "worker-a", status="failed", error=error)

    failed = store.get_job(job.id)
    assert (failed.status, failed.error, failed.result) == ("failed", error, None)


def test_claim_takes_the_oldest_job_first(store: Store, enqueue: Enqueue) -> None:
    """Jobs are claimed in the order they were enqueued."""
    first, second = enqueue(channel_name="one"), enqueue(channel_name="two")

    assert _claim(store, "worker-a") == store.get_job(first.id)
    claimed = _claim(store, "worker-a")
    assert claimed is not None
    assert claimed.id == second.id


def test_claim_skips_jobs_under_a_live_lease(store: Store, enqueue: Enqueue) -> None:
    """A second worker gets the next job, then nothing, while the first lease lasts."""
    first, second = enqueue(), enqueue()

    a = _claim(store, "worker-a")
    b = _claim(store, "worker-b")

    assert a is not None
    assert b is not None
    assert (a.id, b.id) == (first.id, second.id)
    assert _claim(store, "worker-c") is None


def test_claim_takes_over_an_expired_lease(store: Store, enqueue: Enqueue) -> None:
    """A running job whose worker stopped renewing is claimed again, counting a new attempt."""
    job = enqueue()
    first = _claim(store, "worker-a", lease_s=0)
    assert first is not None

    taken = _claim(store, "worker-b", lease_s=30)

    assert taken is not None
    assert taken.id == job.id
    assert (taken.lease_owner, taken.attempts) == ("worker-b", 2)
    assert taken.started_at == first.started_at


def test_claim_filters_by_batch_and_org(store: Store, enqueue: Enqueue) -> None:
    """A worker can drain one batch, or one org, and leave the rest."""
    other_org = enqueue(org_id="org-2", batch_id="batch-1")
    other_batch = enqueue(org_id="org-1", batch_id="batch-2")

    assert _claim(store, "worker-a", org_id="org-1", batch_id="batch-1") is None
    by_org = _claim(store, "worker-a", org_id="org-2")
    by_batch = _claim(store, "worker-a", batch_id="batch-2")

    assert by_org is not None
    assert by_batch is not None
    assert (by_org.id, by_batch.id) == (other_org.id, other_batch.id)


def test_worker_that_lost_its_lease_cannot_renew_record_or_finish(store: Store, enqueue: Enqueue) -> None:
    """After another worker took the job over, the old owner's writes are refused."""
    job = enqueue()
    _claim(store, "worker-a", lease_s=0)
    _claim(store, "worker-b", lease_s=30)

    with store.unit_of_work() as tx:
        assert tx.jobs.renew_lease(job.id, "worker-a", 30) == "lost"
    with pytest.raises(JobError, match=r"lease lost.*worker-a.*leased by worker-b"):
        _record(store, job.id, "worker-a", "create_configuration", {"configuration_id": "stale"})
    with pytest.raises(JobError, match="lease lost"), store.unit_of_work() as tx:
        tx.jobs.finish(job.id, "worker-a", status="succeeded")

    assert store.job_steps(job.id) == []
    assert store.get_job(job.id).lease_owner == "worker-b"


def test_renew_lease_extends_a_held_lease(store: Store, enqueue: Enqueue) -> None:
    """The owner renews, and the job is not claimable while the renewed lease lasts."""
    job = enqueue()
    _claim(store, "worker-a", lease_s=0)

    with store.unit_of_work() as tx:
        assert tx.jobs.renew_lease(job.id, "worker-a", 60) == "held"

    renewed = store.get_job(job.id)
    assert renewed.lease_expires_at is not None
    assert (renewed.lease_expires_at - datetime.now(UTC)).total_seconds() > 50
    assert _claim(store, "worker-b") is None


def test_recording_a_step_again_changes_nothing(store: Store, enqueue: Enqueue) -> None:
    """A resumed job that repeats a step keeps the first record."""
    job = enqueue()
    _claim(store, "worker-a")
    _record(store, job.id, "worker-a", "create_configuration", {"configuration_id": "cfg-1"})

    _record(store, job.id, "worker-a", "create_configuration", {"configuration_id": "cfg-2"})

    steps = store.job_steps(job.id)
    assert [(s.step, s.seq, s.data) for s in steps] == [
        ("create_configuration", 1, {"configuration_id": "cfg-1"})
    ]


def test_resumed_job_records_later_steps_with_its_new_attempt(store: Store, enqueue: Enqueue) -> None:
    """Steps keep the order they were recorded in across attempts, each with its attempt number."""
    job = enqueue()
    _claim(store, "worker-a", lease_s=0)
    _record(store, job.id, "worker-a", "create_configuration", {"configuration_id": "cfg-1"})
    _claim(store, "worker-b")

    _record(store, job.id, "worker-b", "create_deployment", {"deployment_id": "dep-1"})

    steps = store.job_steps(job.id)
    assert [(s.step, s.seq, s.attempt) for s in steps] == [
        ("create_configuration", 1, 1),
        ("create_deployment", 2, 2),
    ]


def test_cancel_ends_a_queued_job_at_once_and_asks_a_running_one_to_stop(
    store: Store, enqueue: Enqueue
) -> None:
    """A running job may have a create in flight: its worker is told at its next step and ends it."""
    queued, running = enqueue(), enqueue()
    _claim(store, "worker-a")  # takes `queued`, the older one
    _claim(store, "worker-b")  # takes `running`
    with store.unit_of_work() as tx:
        tx.jobs.release(queued.id, "worker-a", error={"message": "try later"})

    with store.unit_of_work() as tx:
        cancelled_queued = tx.jobs.cancel(queued.id)
        asked = tx.jobs.cancel(running.id)

    assert cancelled_queued.status == "cancelled" and cancelled_queued.finished_at is not None
    assert (asked.status, asked.cancel_requested, asked.lease_owner) == ("running", True, "worker-b")
    with store.unit_of_work() as tx:
        assert tx.jobs.renew_lease(running.id, "worker-b", 30) == "cancel_requested"
        # The step in hand is still recorded (its create happened); the answer says stop now.
        assert tx.jobs.record_step(running.id, "worker-b", "deployment_created", {"id": "d"}, 1.0) is True
        tx.jobs.finish(running.id, "worker-b", status="cancelled")
    done = store.get_job(running.id)
    assert (done.status, done.lease_owner) == ("cancelled", None)
    assert [s.step for s in store.job_steps(running.id)] == ["deployment_created"]


def test_cancel_of_a_job_whose_worker_is_gone_takes_effect_at_once(store: Store, enqueue: Enqueue) -> None:
    """Nobody would honour the request: the job ends cancelled now, and a later claim skips it."""
    job = enqueue()
    _claim(store, "worker-a", lease_s=0)
    with store.unit_of_work() as tx:
        assert tx.jobs.cancel(job.id).status == "cancelled"
    assert _claim(store, "worker-b") is None


def test_requested_cancel_of_a_worker_that_then_died_is_ended_by_the_next_claim(
    store: Store, enqueue: Enqueue
) -> None:
    """The lease runs out with the cancel pending: the next claimer ends the job instead of running it."""
    job = enqueue()
    _claim(store, "worker-a", lease_s=0.5)
    with store.unit_of_work() as tx:
        assert tx.jobs.cancel(job.id).cancel_requested
    with store.unit_of_work() as tx:
        tx.jobs.expire_leases(["worker-a"])  # as the reaper does for a dead process

    assert _claim(store, "worker-b") is None
    assert store.get_job(job.id).status == "cancelled"


def test_jobs_of_one_channel_run_one_at_a_time_oldest_first(store: Store, enqueue: Enqueue) -> None:
    """A second job of the channel waits while the first runs, even for another worker."""
    first = enqueue(channel_name="Web One")
    second = enqueue(channel_name="web one", channel_key="web one")
    other = enqueue(channel_name="web_one")

    a = _claim(store, "worker-a")
    b = _claim(store, "worker-b")
    assert (a and a.id, b and b.id) == (first.id, other.id)
    assert _claim(store, "worker-c") is None

    with store.unit_of_work() as tx:
        tx.jobs.finish(first.id, "worker-a", status="succeeded")
    c = _claim(store, "worker-c")
    assert c is not None and c.id == second.id


def test_a_job_taken_over_is_not_held_back_by_a_newer_one(store: Store, enqueue: Enqueue) -> None:
    """The running job of a dead worker finishes before the channel's queued replacement starts."""
    running = enqueue(channel_name="web")
    _claim(store, "worker-a", lease_s=0)
    waiting = enqueue(channel_name="web")

    taken = _claim(store, "worker-b")
    assert taken is not None and taken.id == running.id
    assert _claim(store, "worker-c") is None
    assert store.get_job(waiting.id).status == "queued"


def test_finished_since_reports_another_job_of_the_channel_ending_later(
    store: Store, enqueue: Enqueue
) -> None:
    """What a job of the channel did after an observation makes that observation stale."""
    done, mine = enqueue(channel_name="web"), enqueue(channel_name="web")
    with store.unit_of_work() as tx:
        before = tx.jobs.now()
    _claim(store, "worker-a")
    with store.unit_of_work() as tx:
        tx.jobs.finish(done.id, "worker-a", status="succeeded")
    finished_at = store.get_job(done.id).finished_at
    assert finished_at is not None
    with store.unit_of_work() as tx:
        assert tx.jobs.finished_since("org-1", "web", before, other_than=mine.id)
        assert tx.jobs.finished_since("org-1", "web", finished_at, other_than=mine.id)
        later = finished_at + timedelta(milliseconds=1)
        assert not tx.jobs.finished_since("org-1", "web", later, other_than=mine.id)
        assert not tx.jobs.finished_since("org-1", "web", before, other_than=done.id)


def test_discarding_steps_forgets_what_was_undone(store: Store, enqueue: Enqueue) -> None:
    """A rolled-back job keeps no checkpoint naming an object that no longer exists."""
    job = enqueue()
    _claim(store, "worker-a")
    _record(store, job.id, "worker-a", "configuration_created", {"id": "cfg-1"})
    with store.unit_of_work() as tx:
        assert tx.jobs.discard_steps(job.id, "worker-a") == ["configuration_created"]
        tx.jobs.record_step(job.id, "worker-a", "rolled_back", {"removed": ["cfg-1"]}, 0.0)
    assert [s.step for s in store.job_steps(job.id)] == ["rolled_back"]


def test_cancelling_twice_is_harmless(store: Store, enqueue: Enqueue) -> None:
    """A second cancel returns the cancelled job unchanged."""
    job = enqueue()
    with store.unit_of_work() as tx:
        first = tx.jobs.cancel(job.id)
    with store.unit_of_work() as tx:
        assert tx.jobs.cancel(job.id) == first


def test_cancelling_a_finished_job_is_refused(store: Store, enqueue: Enqueue) -> None:
    """A succeeded job cannot be cancelled, and the error says it already finished."""
    job = enqueue()
    _claim(store, "worker-a")
    with store.unit_of_work() as tx:
        tx.jobs.finish(job.id, "worker-a", status="succeeded")

    with pytest.raises(JobError, match=r"already succeeded"), store.unit_of_work() as tx:
        tx.jobs.cancel(job.id)


def test_requeue_puts_a_failed_job_back_with_its_steps(store: Store, enqueue: Enqueue) -> None:
    """Resume clears the error and lease, keeps the recorded steps, and counts the job's claims afresh
    (a job that used them up would fail at once at its next passing failure: issue 22, item 9)."""
    job = enqueue()
    _claim(store, "worker-a")
    _record(store, job.id, "worker-a", "create_configuration", {"configuration_id": "cfg-1"})
    with store.unit_of_work() as tx:
        tx.jobs.finish(job.id, "worker-a", status="failed", error={"type": "X", "message": "m"})

    with store.unit_of_work() as tx:
        requeued = tx.jobs.requeue(job.id)

    assert (requeued.status, requeued.error, requeued.finished_at) == ("queued", None, None)
    assert (requeued.lease_owner, requeued.attempts) == (None, 0)
    assert [s.step for s in store.job_steps(job.id)] == ["create_configuration"]
    again = _claim(store, "worker-b")
    assert again is not None
    assert (again.id, again.attempts) == (job.id, 1)


def test_requeue_takes_a_cancelled_job(store: Store, enqueue: Enqueue) -> None:
    """A cancelled job can be resumed too."""
    job = enqueue()
    with store.unit_of_work() as tx:
        tx.jobs.cancel(job.id)
        assert tx.jobs.requeue(job.id).status == "queued"


@pytest.mark.parametrize("finish_as", [None, "running", "succeeded"])
def test_requeue_refuses_jobs_that_did_not_fail(
    store: Store, enqueue: Enqueue, finish_as: str | None
) -> None:
    """Queued, running and succeeded jobs are not resumable."""
    job = enqueue()
    if finish_as is not None:
        _claim(store, "worker-a")
    if finish_as == "succeeded":
        with store.unit_of_work() as tx:
            tx.jobs.finish(job.id, "worker-a", status="succeeded")

    expected = finish_as or "queued"
    with (
        pytest.raises(JobError, match=f"is {expected}; only failed or cancelled"),
        store.unit_of_work() as tx,
    ):
        tx.jobs.requeue(job.id)


def test_get_accepts_a_unique_id_prefix(store: Store, enqueue: Enqueue) -> None:
    """Like git, six or more leading characters of an id find the job."""
    job = enqueue()

    assert store.get_job(job.id[:6]) == job
    assert store.get_job(job.id[:13]) == job


def test_get_refuses_short_unknown_and_ambiguous_ids(store: Store, enqueue: Enqueue) -> None:
    """Too short, unknown and ambiguous ids are JobErrors saying which."""
    job = enqueue()
    twin = enqueue()
    with store.unit_of_work() as tx:
        # Ids are random; give two jobs a shared prefix to make one ambiguous.
        tx.connection.exec_driver_sql(f"UPDATE jobs SET id = 'abcdef-1' WHERE id = '{job.id}'")
        tx.connection.exec_driver_sql(f"UPDATE jobs SET id = 'abcdef-2' WHERE id = '{twin.id}'")

    with pytest.raises(JobError, match="at least 6 characters"):
        store.get_job("abcde")
    with pytest.raises(JobError, match="no job with id or id prefix 'ffffff'"):
        store.get_job("ffffff")
    with pytest.raises(JobError, match="matches more than one job"):
        store.get_job("abcdef")
    with pytest.raises(JobError, match="matches more than one job"):
        store.get_job("abcdef-")
    assert store.get_job("abcdef-2").channel_name == twin.channel_name
    with pytest.raises(JobError, match="no job with id or id prefix"):
        store.get_job("abcde_")  # LIKE wildcards in a prefix are literal


def test_unknown_job_ids_are_job_errors(store: Store) -> None:
    """Every operation on an unknown job says there is no such job."""
    with store.unit_of_work() as tx:
        for operation in (
            lambda: tx.jobs.cancel("0123456789"),
            lambda: tx.jobs.requeue("0123456789"),
            lambda: tx.jobs.record_step("0123456789", "worker-a", "step", {}, 1.0),
            lambda: tx.jobs.finish("0123456789", "worker-a", status="failed"),
        ):
            with pytest.raises(JobError, match="no job with id"):
                operation()
        assert tx.jobs.renew_lease("0123456789", "worker-a", 30) == "lost"


def test_list_is_newest_first_and_filters(store: Store, enqueue: Enqueue) -> None:
    """list() filters by status and batch and honours the limit."""
    first = enqueue(batch_id="batch-1")
    second = enqueue(batch_id="batch-1")
    third = enqueue(batch_id="batch-2")
    _claim(store, "worker-a")  # first becomes running

    assert [j.id for j in store.list_jobs()] == [third.id, second.id, first.id]
    assert [j.id for j in store.list_jobs(limit=2)] == [third.id, second.id]
    assert [j.id for j in store.list_jobs(batch_id="batch-1")] == [second.id, first.id]
    assert [j.id for j in store.list_jobs(status="running")] == [first.id]


def test_counts_give_every_status_of_a_batch(store: Store, enqueue: Enqueue) -> None:
    """counts() maps each status to how many of the batch's jobs have it, zeros included."""
    enqueue(batch_id="batch-1")
    enqueue(batch_id="batch-1")
    enqueue(batch_id="batch-2")
    _claim(store, "worker-a")

    assert store.job_counts("batch-1") == {
        "queued": 1,
        "running": 1,
        "succeeded": 0,
        "failed": 0,
        "cancelled": 0,
    }


def test_unfinished_lists_queued_and_running_jobs_oldest_first(store: Store, enqueue: Enqueue) -> None:
    """Finished and cancelled jobs are left out; org_id narrows to one org."""
    running = enqueue(org_id="org-1")
    queued = enqueue(org_id="org-2")
    cancelled = enqueue(org_id="org-1")
    _claim(store, "worker-a")
    with store.unit_of_work() as tx:
        tx.jobs.cancel(cancelled.id)

    assert [j.id for j in store.unfinished_jobs()] == [running.id, queued.id]
    assert [j.id for j in store.unfinished_jobs("org-2")] == [queued.id]


def test_lease_owners_are_the_workers_of_the_orgs_running_jobs(store: Store, enqueue: Enqueue) -> None:
    """What the reaper checks: the owners of running jobs only, not the queue behind them."""
    enqueue(org_id="org-1")
    enqueue(org_id="org-1")
    enqueue(org_id="org-1")
    enqueue(org_id="org-2")
    _claim(store, "worker-a", org_id="org-1")
    _claim(store, "worker-b", org_id="org-1")
    assert store.lease_owners("org-1") == {"worker-a", "worker-b"}
    assert store.lease_owners("org-2") == set()
