"""/v1/channels: submit a spec document (jobs queued, worked by the service), list, show, destroy."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from gcwm.api import pagination
from gcwm.api.auth import Principal, Role, require
from gcwm.api.idempotency import IdempotencyKey, idempotent
from gcwm.api.problems import TYPE_BASE, Problem
from gcwm.api.runtime import ApiRuntime, runtime_of
from gcwm.api.v1.models import (
    ChannelDetails,
    ChannelPage,
    QueuedJobs,
    SpecDocument,
    problems,
)
from gcwm.provisioning import channel_views
from gcwm.spec import parse_spec_document
from gcwm.store import Job
from gcwm.store.pages import channels_page

router = APIRouter(tags=["channels"])

Runtime = Annotated[ApiRuntime, Depends(runtime_of)]
Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Operator = Annotated[Principal, Depends(require(Role.operator))]
Admin = Annotated[Principal, Depends(require(Role.admin))]

LISTING = "channels"
SOURCE = "request body"


def _queued(jobs: list[Job]) -> JSONResponse:
    """202 with the queued jobs; Location is the one job, or the listing of the batch's channel jobs."""
    body = {"jobs": [{"id": j.id, "channel": j.channel_name, "status": j.status} for j in jobs]}
    location = f"/v1/jobs/{jobs[0].id}" if jobs else "/v1/jobs"
    return JSONResponse(body, status_code=202, headers={"Location": location})


def _refuse_oversized(document: SpecDocument, limit: int) -> None:
    """A 413 problem for a batch over `limit` channels: its review would hold a worker thread, and
    its refusal the audit log, for long (issue 23, item 6)."""
    count = len(document.channels)
    if count > limit:
        raise Problem(
            413,
            "Too many channels",
            f"a request may hold at most {limit} channels (GCWM_MAX_CHANNELS_PER_REQUEST), this one holds"
            f" {count}; send them in batches",
            type_=TYPE_BASE + "too-many-channels",
            limit=limit,
            channels=count,
        )


@router.post("/channels", status_code=202, response_model=QueuedJobs, responses=problems(409, 413))
async def submit(
    document: SpecDocument,
    request: Request,
    runtime: Runtime,
    principal: Operator,
    key: IdempotencyKey = None,
) -> Response:
    """Check a spec document against the policy and queue a job per channel (worked by this service).

    Location points at the first job. A spec problem or a policy refusal is a 422 problem naming the
    channel and field (refusals list their findings); a limit that would be exceeded is a 409; more
    channels than GCWM_MAX_CHANNELS_PER_REQUEST (1000) is a 413, before any check."""
    _refuse_oversized(document, runtime.settings.max_channels_per_request)

    async def work() -> Response:
        # The same validation as spec files, so a problem names the channel and field as on the CLI;
        # off the event loop, which also answers /healthz and works the jobs.
        specs = await asyncio.to_thread(parse_spec_document, document.model_dump(mode="json"), source=SOURCE)
        return _queued(await runtime.service.submit(specs, source=SOURCE))

    return await idempotent(request, runtime, principal, key, work)


@router.get("/channels", response_model=ChannelPage, responses=problems())
def list_channels(
    runtime: Runtime,
    _: Viewer,
    limit: pagination.PageSize = 50,
    cursor: pagination.CursorParam = None,
) -> dict[str, Any]:
    """The org's channels (not destroyed ones), by name: the ids, status, snippet and proposed CSP of
    each, its last job and its newest audit entries."""
    after = pagination.decode(LISTING, cursor, (str,))[0] if cursor is not None else None
    rows = channels_page(runtime.store, runtime.org.id, after=after, limit=limit)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = pagination.encode(LISTING, [page[-1].name_key]) if more and page else None
    return {"channels": channel_views.channel_documents(runtime.store, page), "nextCursor": next_cursor}


@router.get("/channels/{name}", response_model=ChannelDetails, responses=problems(404))
def show_channel(name: str, runtime: Runtime, _: Viewer) -> dict[str, Any]:
    """One channel: its spec, what Genesys holds for it (as its last job recorded), its snippet and
    proposed CSP, its last job and its newest audit entries."""
    return channel_views.show_channel(runtime.store, name, runtime.org.id)


@router.delete("/channels/{name}", status_code=202, response_model=QueuedJobs, responses=problems(404))
async def destroy(name: str, runtime: Runtime, _: Admin) -> Response:
    """Queue a destroy job: the deployment is deleted and gone before its configuration is."""
    return _queued(await runtime.service.destroy([name]))
