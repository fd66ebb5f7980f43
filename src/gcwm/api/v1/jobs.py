"""/v1/jobs: list, show (steps, timings and the channel's result), cancel, resume."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from gcwm.api import pagination
from gcwm.api.auth import Principal, Role, require
from gcwm.api.idempotency import IdempotencyKey, idempotent
from gcwm.api.runtime import ApiRuntime, runtime_of
from gcwm.api.v1.models import JobDetails, JobPage, JobStatus, JobSummary, problems
from gcwm.provisioning import job_steps_document, job_summary
from gcwm.provisioning.results import job_document
from gcwm.spec import channel_key
from gcwm.store import Job, Store
from gcwm.store.pages import jobs_page

router = APIRouter(tags=["jobs"])

Runtime = Annotated[ApiRuntime, Depends(runtime_of)]
Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Operator = Annotated[Principal, Depends(require(Role.operator))]

LISTING = "jobs"


def summary(job: Job) -> dict[str, Any]:
    """A job as the API lists it: `gcwm jobs list`'s row and its kind."""
    return {**job_summary(job), "kind": job.kind}


def details(store: Store, job_id: str) -> dict[str, Any]:
    """A job with its steps and, once finished, its channel's result document."""
    job, steps = store.job_with_steps(job_id)
    document = job_steps_document(job, steps)
    document["kind"] = job.kind
    document["result"] = job_document(job) if job.is_finished else None
    return document


@router.get("/jobs", response_model=JobPage, responses=problems())
def list_jobs(
    runtime: Runtime,
    _: Viewer,
    status: JobStatus | None = None,
    channel: str | None = None,
    limit: pagination.PageSize = 50,
    cursor: pagination.CursorParam = None,
) -> dict[str, Any]:
    """The org's jobs, newest first, optionally of one status or one channel (by name)."""
    after = pagination.time_and_id(LISTING, cursor)
    key = channel_key(channel) if channel is not None else None
    rows = jobs_page(runtime.store, runtime.org.id, status=status, channel_key=key, after=after, limit=limit)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    next_cursor = (
        pagination.encode(LISTING, [last.created_at.isoformat(), last.id]) if more and last else None
    )
    return {"jobs": [summary(j) for j in page], "nextCursor": next_cursor}


@router.get("/jobs/{job_id}", response_model=JobDetails, responses=problems(404))
async def show_job(job_id: str, runtime: Runtime, _: Viewer) -> Response:
    """One job: status, steps with their durations, and the channel's result once it has finished."""
    # The document is JobDetails already (schemathesis checks it): answered as built, not validated
    # again, since clients poll this route.
    return JSONResponse(await runtime.store.read(details, runtime.store, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobSummary, responses=problems(403, 404, 409))
async def cancel(
    job_id: str, request: Request, runtime: Runtime, principal: Operator, key: IdempotencyKey = None
) -> Response:
    """Cancel a job: a queued one at once, a running one after the step in hand (a 409 if it ended).
    A destroy job needs an admin key (403 otherwise)."""

    async def work() -> Response:
        job = await runtime.service.cancel(job_id, role=principal.role)
        return JSONResponse(summary(job))

    return await idempotent(request, runtime, principal, key, work)


@router.post(
    "/jobs/{job_id}/resume", response_model=JobSummary, status_code=202, responses=problems(403, 404, 409)
)
async def resume(
    job_id: str, request: Request, runtime: Runtime, principal: Operator, key: IdempotencyKey = None
) -> Response:
    """Queue a failed or cancelled job again; a worker resumes it from its recorded steps. A destroy
    job needs an admin key (403); a job of another org, or superseded by a newer job of its channel,
    is a 409."""

    async def work() -> Response:
        job = await runtime.service.requeue(job_id, role=principal.role)
        return JSONResponse(summary(job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})

    return await idempotent(request, runtime, principal, key, work)
