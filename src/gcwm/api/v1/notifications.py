"""/v1/notifications: the ITSM outbox (pending, delivered, dead-lettered), one message, and retrying one.

What a target answered (`lastReply`) is shown to admin keys only: a target may be a service that
never meant to answer the submitter (issue 23, item 4); others get null."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from gcwm.api import pagination
from gcwm.api.auth import Principal, Role, require
from gcwm.api.idempotency import IdempotencyKey, idempotent
from gcwm.api.problems import TYPE_BASE, Problem
from gcwm.api.runtime import ApiRuntime, runtime_of
from gcwm.api.v1.models import NotificationDocument, NotificationPage, problems
from gcwm.notify.documents import notification_document
from gcwm.store import OutboxError, OutboxMessage
from gcwm.store.pages import notifications_page

router = APIRouter(tags=["notifications"])

Runtime = Annotated[ApiRuntime, Depends(runtime_of)]
Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Operator = Annotated[Principal, Depends(require(Role.operator))]

LISTING = "notifications"


def _document(message: OutboxMessage, principal: Principal) -> dict[str, Any]:
    return notification_document(message, replies=principal.role.allows(Role.admin))


def _not_found(exc: OutboxError) -> Problem:
    return Problem(404, "Not found", exc.message, type_=TYPE_BASE + "outbox-error")


@router.get("/notifications", response_model=NotificationPage, responses=problems())
def list_notifications(
    runtime: Runtime,
    principal: Viewer,
    status: Literal["pending", "delivered", "dead"] | None = None,
    limit: pagination.PageSize = 50,
    cursor: pagination.CursorParam = None,
) -> dict[str, Any]:
    """Notifications, newest first, optionally of one status (dead = gave up; retry them)."""
    after = pagination.time_and_id(LISTING, cursor)
    rows = notifications_page(runtime.store, status=status, after=after, limit=limit)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    next_cursor = (
        pagination.encode(LISTING, [last.created_at.isoformat(), last.id]) if more and last else None
    )
    return {"notifications": [_document(m, principal) for m in page], "nextCursor": next_cursor}


@router.get("/notifications/{message_id}", response_model=NotificationDocument, responses=problems(404))
def show_notification(message_id: str, runtime: Runtime, principal: Viewer) -> dict[str, Any]:
    """One notification (by id, or a unique prefix of 8 characters or more)."""
    with runtime.store.reading() as tx:
        try:
            message = tx.outbox.get(message_id)
        except OutboxError as exc:
            raise _not_found(exc) from None
    return _document(message, principal)


@router.post(
    "/notifications/{message_id}/retry", response_model=NotificationDocument, responses=problems(404, 409)
)
async def retry(
    message_id: str, request: Request, runtime: Runtime, principal: Operator, key: IdempotencyKey = None
) -> Response:
    """Make a dead (or pending) notification due now; the service's dispatcher sends it."""

    def due_now() -> OutboxMessage:
        with runtime.store.unit_of_work() as tx:
            try:
                message = tx.outbox.get(message_id)
            except OutboxError as exc:
                raise _not_found(exc) from None
            try:
                return tx.outbox.retry(message.id)
            except OutboxError as exc:
                raise Problem(
                    409, "Already delivered", exc.message, type_=TYPE_BASE + "outbox-error"
                ) from None

    async def work() -> Response:
        return JSONResponse(_document(await runtime.store.write(due_now), principal))

    return await idempotent(request, runtime, principal, key, work)
