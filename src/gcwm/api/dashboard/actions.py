"""The dashboard's forms (POST): log in and out, submit channels, cancel and resume jobs, retry a
notification.

Every POST is checked in the same order: the browser's origin, a live session (login excepted), the
form's CSRF token, then the role the action needs, again, even though a viewer's pages never show
the buttons. The action runs as the session's key: that id is the actor of its jobs, log lines and
audit entries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gcwm.api.dashboard.pages import forbidden, login_page
from gcwm.api.dashboard.render import page
from gcwm.api.dashboard.session import (
    COOKIE,
    LIFETIME_S,
    LOGIN_COOKIE,
    PageSession,
    Refused,
    check_origin,
    check_token,
    clear_cookie,
    close_session,
    current_session,
    login,
    read_form,
    set_cookie,
)
from gcwm.api.problems import from_gcwm_error
from gcwm.api.runtime import runtime_of
from gcwm.errors import GcwmError, PolicyViolation
from gcwm.observability.context import request_context
from gcwm.spec import parse_spec
from gcwm.store import Store

__all__ = ["router"]

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)


def _refused(request: Request, session: PageSession | None, refusal: Refused) -> Response:
    context = {"status": refusal.status, "reason": refusal.reason}
    return page(request, "error.html", context, session=session, status=refusal.status)


def _failed(request: Request, session: PageSession, error: GcwmError) -> Response:
    problem = from_gcwm_error(error)
    context = {"status": problem.status, "reason": error.message}
    return page(request, "error.html", context, session=session, status=problem.status)


async def _checked(request: Request, *, operator: bool) -> tuple[PageSession, dict[str, str]] | Response:
    """The session and form of a POST that passed every check, or the page refusing it."""
    session: PageSession | None = None
    try:
        check_origin(request)
        session = await current_session(request)
        if session is None:
            raise Refused(401, "your session has ended; log in again")
        form = await read_form(request)
        check_token(session.csrf, request, form)
    except Refused as refusal:
        return _refused(request, session, refusal)
    if operator and not session.is_operator:
        return forbidden(request, session)
    return session, form


@router.post("/login")
async def login_submit(request: Request) -> Response:
    try:
        check_origin(request)
        form = await read_form(request)
        check_token(request.cookies.get(LOGIN_COOKIE, ""), request, form)
    except Refused as refusal:
        return _refused(request, None, refusal)
    opened = await login(request, form.get("key", ""))
    if opened is None:
        return login_page(request, error="That key is not known or has been revoked.", status=401)
    principal, token = opened
    log.info("dashboard.login", key_id=principal.key_id, role=principal.role.value)
    response = RedirectResponse("/", status_code=303)
    set_cookie(request, response, COOKIE, token, max_age=LIFETIME_S)
    clear_cookie(request, response, LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    checked = await _checked(request, operator=False)
    if isinstance(checked, Response):
        return checked
    await close_session(request)
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(request, response, COOKIE)
    return response


@router.post("/submit")
async def submit(request: Request) -> Response:
    """Check and queue the pasted spec (YAML or JSON) as the API does; show its jobs."""
    checked = await _checked(request, operator=True)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    text = form.get("spec", "")
    service = runtime_of(request).service
    try:
        with request_context(actor=session.key_id):
            specs = parse_spec(text, source="dashboard")
            queued = await service.submit(specs, source="dashboard")
    except PolicyViolation as refused:
        findings = [str(f) for f in refused.findings]
        context = {"spec": text, "problem": "Refused by policy; nothing was queued.", "findings": findings}
        return page(request, "submit.html", context, session=session, status=422)
    except GcwmError as error:
        status = from_gcwm_error(error).status
        context = {"spec": text, "problem": error.message, "findings": []}
        return page(request, "submit.html", context, session=session, status=status)
    batch = queued[0].batch_id if queued else ""
    return RedirectResponse(f"/jobs?batch={batch}" if batch else "/jobs", status_code=303)


@router.post("/jobs/{job_id}/cancel")
async def cancel(request: Request, job_id: str) -> Response:
    """Cancel a job through the service, which checks the session's role against the job's kind."""

    async def work(session: PageSession) -> str:
        job = await runtime_of(request).service.cancel(job_id, role=session.role)
        return f"/jobs/{job.id}"

    return await _job_action(request, work)


@router.post("/jobs/{job_id}/resume")
async def resume(request: Request, job_id: str) -> Response:
    """Put a failed or cancelled job back in the queue; this service's workers pick it up."""

    async def work(session: PageSession) -> str:
        job = await runtime_of(request).service.requeue(job_id, role=session.role)
        return f"/jobs/{job.id}"

    return await _job_action(request, work)


async def _job_action(request: Request, work: Callable[[PageSession], Awaitable[str]]) -> Response:
    """An operator's button on a job: checked as `_operator_action`, then done by the service as the
    session's key (it decides whether the role may act on that kind of job)."""
    checked = await _checked(request, operator=True)
    if isinstance(checked, Response):
        return checked
    session, _ = checked
    try:
        with request_context(actor=session.key_id):
            location = await work(session)
    except GcwmError as error:
        return _failed(request, session, error)
    return RedirectResponse(location, status_code=303)


@router.post("/notifications/{message_id}/retry")
async def retry(request: Request, message_id: str) -> Response:
    """Make a pending or dead-lettered notification due now."""

    def work(store: Store) -> str:
        with store.unit_of_work() as tx:
            tx.outbox.retry(message_id)
        return "/notifications"

    return await _operator_action(request, work)


async def _operator_action(request: Request, work: Callable[[Store], str]) -> Response:
    """An operator's button: origin, session, CSRF token and role checked, then `work` run as the
    session's key (`Store.write`); it names the page to go to. A refusal is shown instead."""
    checked = await _checked(request, operator=True)
    if isinstance(checked, Response):
        return checked
    session, _ = checked
    store = runtime_of(request).store
    try:
        with request_context(actor=session.key_id):
            location = await store.write(work, store)
    except GcwmError as error:
        return _failed(request, session, error)
    return RedirectResponse(location, status_code=303)
