"""Resume and cancel a job: the one place that decides who may, refuses what cannot work, and writes the
audit entry naming who did it (the CLI, the API and the dashboard all come here).

- Only a job of this service's org: another org's job would be queued for nobody to claim.
- Only with the role that may submit the job's kind (gcwm.provisioning.roles).
- Never a job a newer job of its channel has superseded: it would carry on from a plan made before
  that job ran (and make a second deployment, or undo the newer spec).
"""

from __future__ import annotations

from gcwm.errors import JobError
from gcwm.observability.context import actor
from gcwm.provisioning.evidence import Evidence
from gcwm.provisioning.queue import QueueOwner
from gcwm.provisioning.roles import Role, require_role_for
from gcwm.store import Job, Store, UnitOfWork


def resume_job(
    store: Store, evidence: Evidence, org_id: str, job_id: str, role: Role, by: QueueOwner | None = None
) -> Job:
    """Queue a failed or cancelled job again, as whoever is acting (`actor()`), for the process `by`
    to work while it lives; the job as queued."""
    who = actor() or "unknown"
    with store.unit_of_work() as tx:
        job = tx.jobs.get(job_id)
        _of_org(job, org_id, "resumed")
        require_role_for(job, role, "resuming")
        newer = tx.jobs.newer_of_channel(job)
        if newer is not None:
            msg = (
                f"job {job.id} was superseded by job {newer.id} ({newer.kind}, {newer.status}) of channel "
                f"{job.channel_name!r}; it would carry on from a plan made before that job: provision "
                "the channel's spec again instead"
            )
            raise JobError(msg)
        queued = tx.jobs.requeue(
            job.id, by=who, owner=by.owner if by else None, lease_s=by.lease_s if by else 0.0
        )
        summary = {"resumedBy": who, "previousStatus": job.status, "kind": job.kind}
        evidence.for_job(tx, queued, "job.resumed", "queued", summary, actor=who)
        return queued


def cancel_job(store: Store, evidence: Evidence, org_id: str | None, job_id: str, role: Role) -> Job:
    """Cancel a job: a queued one at once, a running one after the step in hand; as `actor()`.
    `org_id` None: of any org (the CLI, which holds the database, needs no org's credentials)."""
    who = actor() or "unknown"
    with store.unit_of_work() as tx:
        job = tx.jobs.get(job_id)
        _of_org(job, org_id, "cancelled")
        require_role_for(job, role, "cancelling")
        cancelled = tx.jobs.cancel(job.id)
        _record_cancel(tx, evidence, cancelled, who)
        return cancelled


def _record_cancel(tx: UnitOfWork, evidence: Evidence, job: Job, who: str) -> None:
    outcome = "cancelled" if job.status == "cancelled" else "cancel_requested"
    evidence.for_job(tx, job, f"job.{outcome}", outcome, {"cancelledBy": who, "kind": job.kind}, actor=who)


def _of_org(job: Job, org_id: str | None, what: str) -> None:
    if org_id is not None and job.org_id != org_id:
        msg = (
            f"job {job.id} belongs to org {job.org_id}, not to org {org_id} of these credentials: it can "
            f"only be {what} with that org's credentials"
        )
        raise JobError(msg)
