"""The path of every API request: auth -> rate limit -> fault rules -> random faults -> handler
-> commit-then-fail, commit-then-delay or malformed answer -> latency, with correlation and
rate-limit headers on every answer.

`/emulator/*` (the admin API) skips all of it: no auth, no rate limit, no faults."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gcwm.emulator.errors import CORRELATION_HEADER, ApiError
from gcwm.emulator.faults import Plan, fault_error, too_many_requests
from gcwm.emulator.holds import HeldReleases
from gcwm.emulator.ratelimit import Decision
from gcwm.emulator.runtime import Runtime
from gcwm.emulator.stats import Stats

log = structlog.get_logger(__name__)
LOGIN_PATH = "/oauth/token"
_WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
# What a `malformed_answer` rule sends instead of the handler's 2xx body: a page, as a proxy or
# gateway in front of the API might send, that no JSON parser reads.
MALFORMED_BODY = b"<html><body>502 Bad Gateway (upstream sent a page)</body></html>"
MALFORMED_CONTENT_TYPE = "text/html"


class ConnectionDropped(Exception):
    """Raised after a partial answer so that uvicorn closes the connection (commit-then-reset)."""


@dataclass
class _Answer:
    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    def set_header(self, name: str, value: str) -> None:
        key = name.lower().encode("latin-1")
        self.headers = [(k, v) for k, v in self.headers if k.lower() != key]
        self.headers.append((key, value.encode("latin-1")))


class ApiPipeline:
    """Pure ASGI middleware, so that it can hold back, break or drop the handler's answer."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        is_api = path == "/api/v2" or path.startswith("/api/v2/")
        if scope["type"] != "http" or not (is_api or path == LOGIN_PATH):
            await self.app(scope, receive, send)
            return
        rt = self.runtime
        headers = Headers(scope=scope)
        method = scope["method"]
        context_id = headers.get(CORRELATION_HEADER) or str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = context_id
        if is_api:
            rt.stats.count_request(rt.operations.key(method, path))
        limit: Decision = rt.limiter.idle()  # what answers without a valid token report
        plan = Plan()
        try:
            token = rt.tokens.authenticate(headers.get("authorization")) if is_api else None
            if token is not None:
                limit = rt.limiter.take(token)
                if not limit.allowed:
                    raise too_many_requests(limit.retry_after_s)
            plan = rt.faults.plan(method, path, token, random_faults=is_api)
            if plan.delay_s:
                await _delay(plan.delay_s, rt.stats, rt.releases)
            if plan.error is not None:
                raise plan.error
        except ApiError as error:
            answer = await _capture(error.response(context_id), scope, receive)
        else:
            try:
                answer = await _capture(self.app, scope, receive)
            except Exception as exc:  # an emulator bug: still answer an ErrorBody, and log it
                log.exception("emulator.handler_failed", method=method, path=path, exc_info=exc)
                failure = ApiError(500, f"The emulator failed to handle {method} {path}: {exc!r}")
                answer = await _capture(failure.response(context_id), scope, receive)
            if plan.after is not None and method in _WRITES and 200 <= answer.status < 300:
                rt.stats.count_commit_then_fail()
                if plan.after == "reset":
                    await _drop(answer, send)
                if plan.after == "stall":
                    await asyncio.sleep(rt.faults.settings.stall_s)
                status = 504 if plan.after == "stall" else 500
                answer = await _capture(fault_error(status).response(context_id), scope, receive)
            if plan.hold_s is not None and method in _WRITES and 200 <= answer.status < 300:
                await _hold(plan.hold_s, receive, rt.stats, rt.releases)
            if plan.malformed and 200 <= answer.status < 300:
                _malform(answer)
        if rt.faults.settings.latency_ms:
            await asyncio.sleep(rt.faults.settings.latency_ms / 1000)
        answer.set_header(CORRELATION_HEADER, context_id)
        for name, value in limit.headers().items():
            answer.set_header(name, value)
        if is_api:
            rt.stats.count_status(answer.status)
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send({"type": "http.response.body", "body": bytes(answer.body)})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> _Answer:
    """Run an ASGI app and keep its whole answer instead of sending it."""
    answer = _Answer()

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.body.extend(message.get("body", b""))

    await app(scope, receive, keep)
    return answer


async def _hold(seconds: float, receive: Receive, stats: Stats, releases: HeldReleases) -> None:
    """Hold back a committed write's answer (commit-then-delay) for `seconds`, until released, or
    until the client goes away, since then nobody is left to answer. `heldAnswers` counts it for
    exactly that long, even if the task is cancelled (server shutdown)."""
    stats.hold_started()
    released = releases.waiter()
    waits = [asyncio.ensure_future(_disconnected(receive)), asyncio.ensure_future(released.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        releases.forget(released)
        stats.hold_ended()


async def _delay(seconds: float, stats: Stats, releases: HeldReleases) -> None:
    """A latency rule: the request waits `seconds` (or until released) before it is carried out.
    `delayedRequests` counts it meanwhile, so a test knows a write is in flight and not yet made."""
    stats.delay_started()
    released = releases.waiter()
    try:
        await asyncio.wait_for(released.wait(), seconds)
    except TimeoutError:
        pass
    finally:
        releases.forget(released)
        stats.delay_ended()


async def _disconnected(receive: Receive) -> None:
    """Return once the client has closed the connection (body messages not read yet are skipped)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _malform(answer: _Answer) -> None:
    """Replace a 2xx answer's body (the handler has run: a write is committed) with a non-JSON page.
    A 204 becomes a 200, since a 204 carries no body to be unreadable."""
    answer.status = 200 if answer.status == 204 else answer.status
    answer.body = bytearray(MALFORMED_BODY)
    answer.set_header("content-type", MALFORMED_CONTENT_TYPE)
    answer.set_header("content-length", str(len(MALFORMED_BODY)))


async def _drop(answer: _Answer, send: Send) -> None:
    """Start the answer, send half its body, then break the connection (the write is committed)."""
    if answer.status == 204:
        answer.status = 200  # a 204 has no body to cut short, so it would arrive complete
    answer.set_header("content-length", str(len(answer.body) + 1))
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    half = bytes(answer.body[: len(answer.body) // 2])
    await send({"type": "http.response.body", "body": half, "more_body": True})
    msg = "emulated fault: connection dropped after the write was committed"
    raise ConnectionDropped(msg)
