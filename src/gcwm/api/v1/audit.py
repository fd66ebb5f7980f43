"""/v1/audit: the tamper-evident log, filtered and paged by seq, and its verification."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from gcwm.api import pagination
from gcwm.api.auth import Principal, Role, require
from gcwm.api.problems import TYPE_BASE, Problem
from gcwm.api.runtime import ApiRuntime, runtime_of
from gcwm.api.v1.models import AuditPage, AuditVerification, problems
from gcwm.audit import configured_public_key, head_path, verify_store
from gcwm.store.pages import AuditQuery, audit_page

router = APIRouter(tags=["audit"])

Runtime = Annotated[ApiRuntime, Depends(runtime_of)]
Viewer = Annotated[Principal, Depends(require(Role.viewer))]

LISTING = "audit"


@router.get("/audit", response_model=AuditPage, responses=problems())
def list_entries(
    runtime: Runtime,
    _: Viewer,
    channel: Annotated[str | None, Query(description="only entries about this channel (its name)")] = None,
    action: Annotated[
        str | None, Query(description="only entries of this action, e.g. channel.created")
    ] = None,
    job: Annotated[str | None, Query(description="only entries of this job (its full id)")] = None,
    since: Annotated[
        datetime | None, Query(description="only entries at or after this time (RFC 3339)")
    ] = None,
    limit: pagination.PageSize = 50,
    cursor: pagination.CursorParam = None,
) -> dict[str, Any]:
    """Audit entries in chain order (oldest first); each is its signed body plus seq and hash."""
    if since is not None and since.tzinfo is None:
        raise Problem(
            422,
            "The request is not valid",
            "since: give a time zone (e.g. Z)",
            type_=TYPE_BASE + "invalid-request",
        )
    after = pagination.decode(LISTING, cursor, (int,))[0] if cursor is not None else None
    which = AuditQuery(channel=channel, action=action, job_id=job, since=since)
    rows = audit_page(runtime.store, which, after=after, limit=limit)
    page, more = rows[:limit], len(rows) > limit
    entries = [{**json.loads(e.body), "hash": e.hash} for e in page]
    next_cursor = pagination.encode(LISTING, [page[-1].seq]) if more and page else None
    return {"entries": entries, "nextCursor": next_cursor}


@router.get("/audit/verify", response_model=AuditVerification, responses=problems())
def verify(runtime: Runtime, _: Viewer) -> dict[str, Any]:
    """Walk the chain and the signed heads as `gcwm audit verify` does; `ok` false names the first bad seq."""
    settings = runtime.settings
    trusted = configured_public_key(settings.home, settings.audit_key_file)
    result = verify_store(runtime.store, trusted, head_file=head_path(settings.home))
    return {**result.to_dict(), "message": result.message, "signedHeads": result.signed_heads}
