"""The dashboard's pages (GET): channels and each channel's page, jobs with live progress (of every
channel or one), a job's steps, the audit trail with the chain's verify state, notifications, latency
charts, the submit form, and the login form. Actors that are API keys are shown by the key's name.

Every page needs a session: without one a page redirects to /login, and an htmx poll is told to go
there (`HX-Redirect`). Reads run off the event loop, which also works the jobs.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gcwm.api.dashboard.charts import step_charts
from gcwm.api.dashboard.render import page, static_file
from gcwm.api.dashboard.session import LOGIN_COOKIE, PageSession, current_session, set_cookie
from gcwm.api.runtime import ApiRuntime, runtime_of
from gcwm.audit import VerifyResult, configured_public_key, head_path, verify_store
from gcwm.errors import ChannelNotFound, ConfigError
from gcwm.notify.replies import split_error
from gcwm.provisioning.channel_views import SHOWN_AUDIT_ENTRIES, show_channel
from gcwm.provisioning.progress import Progress, job_progress
from gcwm.provisioning.roles import Role
from gcwm.spec import channel_key
from gcwm.store import Job, Store
from gcwm.store.dashboard_reads import call_timings, recent_audit, step_timings
from gcwm.store.pages import jobs_page

__all__ = ["WINDOWS", "router"]

router = APIRouter(include_in_schema=False)
T = TypeVar("T")

#: The latency page's time windows, by the name its links use.
WINDOWS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "all": None,
}


async def _read(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(function, *args, **kwargs)


def _to_login(request: Request) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": "/login", "Cache-Control": "no-store"})
    return RedirectResponse("/login", status_code=303, headers={"Cache-Control": "no-store"})


@router.get("/static/{name}")
async def static(name: str) -> Response:
    return static_file(name)


@router.get("/login")
async def login_form(request: Request) -> Response:
    if await current_session(request) is not None:
        return RedirectResponse("/", status_code=303)
    return login_page(request)


def login_page(request: Request, *, error: str = "", status: int = 200) -> Response:
    """The login form with a fresh double-submit token (also set as a short-lived cookie)."""
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", {"login_csrf": token, "error": error}, session=None, status=status)
    set_cookie(request, response, LOGIN_COOKIE, token, max_age=1800)
    return response


@router.get("/")
async def channels(request: Request) -> Response:
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    runtime = runtime_of(request)
    rows = await _read(runtime.store.list_channels, runtime.org.id)
    rows.sort(key=lambda c: c.updated_at, reverse=True)
    return page(request, "channels.html", {"channels": rows, "org": runtime.org.id}, session=session)


@router.get("/channels/{name}")
async def channel(request: Request, name: str) -> Response:
    """One channel: ids, status, snippet, proposed CSP, last job and newest audit entries, as
    `gcwm channels show` prints them."""
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    runtime = runtime_of(request)

    def read() -> dict[str, Any]:
        document = show_channel(runtime.store, name, runtime.org.id)
        return {"channel": document, "keys": _key_names(runtime.store), "shown": SHOWN_AUDIT_ENTRIES}

    try:
        context = await _read(read)
    except ChannelNotFound as missing:
        return page(
            request, "error.html", {"status": 404, "reason": missing.message}, session=session, status=404
        )
    return page(request, "channel.html", context, session=session)


@router.get("/jobs")
async def jobs(request: Request, batch: str | None = None, channel: str | None = None) -> Response:
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    context = await _read(_jobs_context, runtime_of(request), batch, channel or None)
    return page(request, "jobs.html", context, session=session)


@router.get("/jobs/rows")
async def job_rows(request: Request, batch: str | None = None, channel: str | None = None) -> Response:
    """The jobs table's body, which htmx polls while a job in it is unfinished."""
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    context = await _read(_jobs_context, runtime_of(request), batch, channel or None)
    return page(request, "_job_rows.html", context, session=session)


#: Jobs a jobs page lists, newest first.
LISTED_JOBS = 100


def _jobs_context(runtime: ApiRuntime, batch: str | None, channel: str | None) -> dict[str, Any]:
    if channel is not None:
        # One channel's jobs (of this service's org), names compared as gcwm compares them.
        listed = jobs_page(runtime.store, runtime.org.id, channel_key=channel_key(channel), limit=LISTED_JOBS)
        listed = [j for j in listed[:LISTED_JOBS] if batch is None or j.batch_id == batch]
    else:
        listed = runtime.store.list_jobs(batch_id=batch, limit=LISTED_JOBS)
    progress = {j.id: _progress(runtime, j) for j in listed if not j.is_finished}
    live = bool(progress)
    filters = {k: v for k, v in (("batch", batch), ("channel", channel)) if v}
    query = "?" + urlencode(filters) if filters else ""
    return {
        "jobs": listed,
        "progress": progress,
        "live": live,
        "batch": batch,
        "channel": channel or "",
        "query": query,
        "keys": _key_names(runtime.store),
    }


def _progress(runtime: ApiRuntime, job: Job) -> Progress:
    """How far an unfinished job has got: visible steps done of those its plan takes, and the newest."""
    return job_progress(job, runtime.store.job_steps(job.id))


def _key_names(store: Store) -> dict[str, str]:
    """API key id -> name: an actor that is a key is shown by its name (the id on hover)."""
    with store.reading() as tx:
        return {key.id: key.name for key in tx.api_keys.list()}


@router.get("/jobs/{job_id}")
async def job(request: Request, job_id: str) -> Response:
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    context = await _read(_job_context, runtime_of(request), job_id)
    return page(request, "job.html", context, session=session)


@router.get("/jobs/{job_id}/live")
async def job_live(request: Request, job_id: str) -> Response:
    """A job's status and steps, which htmx polls until the job has finished."""
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    context = await _read(_job_context, runtime_of(request), job_id)
    return page(request, "_job_detail.html", context, session=session)


def _job_context(runtime: ApiRuntime, job_id: str) -> dict[str, Any]:
    found, steps = runtime.store.job_with_steps(job_id)
    total = sum(s.duration_ms for s in steps)
    return {
        "job": found,
        "steps": steps,
        "total_ms": total,
        "error": (found.error or {}).get("message"),
        "progress": job_progress(found, steps),
        "keys": _key_names(runtime.store),
    }


@router.get("/audit")
async def audit(request: Request, channel: str | None = None) -> Response:
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    runtime = runtime_of(request)
    verified, rows, keys = await asyncio.gather(
        _read(_verify, runtime),
        _read(recent_audit, runtime.store, channel=channel or None),
        _read(_key_names, runtime.store),
    )
    entries = [_entry(r.seq, r.body, r.hash) for r in rows]
    context = {"verify": verified, "entries": entries, "channel": channel or "", "keys": keys}
    return page(request, "audit.html", context, session=session)


def _verify(runtime: ApiRuntime) -> VerifyResult:
    """The chain checked as `gcwm audit verify` checks it: the configured key, the recorded head.
    A key that cannot be read is shown as a failed check, not as a broken page."""
    home = runtime.settings.home
    try:
        trusted = configured_public_key(home, runtime.settings.audit_key_file)
        return verify_store(runtime.store, trusted, head_file=head_path(home))
    except ConfigError as error:
        return VerifyResult(False, 0, None, "not checked", error.message)


def _entry(seq: int, body: str, hash_: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body)
    targets = document.get("targets") or {}
    return {
        "seq": seq,
        "at": document.get("at", ""),
        "action": document.get("action", ""),
        "actor": document.get("actor", ""),
        "outcome": document.get("outcome", ""),
        "channel": targets.get("channel") or "",
        "job": targets.get("job") or "",
        "summary": json.dumps(document.get("summary") or {}, sort_keys=True),
        "hash": hash_,
    }


@router.get("/notifications")
async def notifications(request: Request) -> Response:
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    store = runtime_of(request).store
    admin = session.role.allows(Role.admin)  # what a target answered is for admins only (replies.py)

    def read() -> dict[str, Any]:
        with store.reading() as tx:
            pending = tx.outbox.list(status="pending", limit=100)
            dead = tx.outbox.list(status="dead", limit=100)
            counts = tx.outbox.counts()
        errors = {}
        for message in [*pending, *dead]:
            error, reply = split_error(message.last_error)
            errors[message.id] = (error or "", reply if admin else None)
        return {"pending": pending, "dead": dead, "counts": counts, "errors": errors}

    return page(request, "notifications.html", await _read(read), session=session)


@router.get("/latency")
async def latency(request: Request, window: str = "24h") -> Response:
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    runtime = runtime_of(request)
    if window not in WINDOWS:
        window = "24h"
    span = WINDOWS[window]
    since: datetime | None = None
    if span is not None:
        since = await _read(runtime.store.database_now) - span
    timings = await _read(step_timings, runtime.store, since=since)
    calls = await _read(call_timings, runtime.store, since=since)
    # Drawn together so steps and operations share one time axis; operation names ("GET /api/...")
    # never look like step names.
    charts = step_charts([*timings, *calls])
    operations = {c.step for c in calls}
    context = {
        "charts": [c for c in charts if c.name not in operations],
        "operation_charts": [c for c in charts if c.name in operations],
        "window": window,
        "windows": list(WINDOWS),
        "samples": len(timings),
        "call_samples": len(calls),
    }
    return page(request, "latency.html", context, session=session)


@router.get("/submit")
async def submit_form(request: Request) -> Response:
    session = await current_session(request)
    if session is None:
        return _to_login(request)
    if not session.is_operator:
        return forbidden(request, session)
    return page(request, "submit.html", {"spec": "", "problem": None}, session=session)


def forbidden(request: Request, session: PageSession | None, reason: str = "") -> Response:
    """The page a viewer (or a forged form) gets instead of an operator's action."""
    why = reason or "this needs the operator role; you are logged in as a viewer"
    return page(request, "error.html", {"status": 403, "reason": why}, session=session, status=403)
