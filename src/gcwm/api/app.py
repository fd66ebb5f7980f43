"""The HTTP app of `gcwm serve`: the v1 API, operations endpoints, the dashboard, and job workers.

Requests are timed and their bodies capped by two small ASGI middlewares; every error is a problem
document (`problems.install`). The lifespan runs the org's job workers in the same event loop, so a
job submitted over HTTP is worked by this process (or by any replica on the same database).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gcwm import __version__
from gcwm.api import problems
from gcwm.api.runtime import ApiRuntime
from gcwm.observability import metrics

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
BLOCKING_THREADS = 32


def create_app(
    runtime: ApiRuntime | None = None,
    *,
    opener: Callable[[], AbstractAsyncContextManager[ApiRuntime]] | None = None,
    docs: bool = False,
) -> FastAPI:
    """The app for one runtime, or for the one `opener` opens when the app starts (a worker process of
    `gcwm serve --workers N` builds its own); routers are included here and nowhere else. `docs`
    serves the API's reference page at /v1/docs (`gcwm serve --docs`); /openapi.json is always served."""
    from gcwm.api import dashboard, ops, v1

    if (runtime is None) == (opener is None):
        msg = "give create_app a runtime or an opener of one"
        raise TypeError(msg)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            serving = await stack.enter_async_context(opener()) if opener is not None else runtime
            assert serving is not None
            app.state.runtime = serving
            # What start-up built (modules, the app, its routes and models) lives as long as the
            # process: moved out of the collector's sight, a full collection scans only what requests
            # made since, not everything (pauses of 70-90 ms under load otherwise).
            gc.collect()
            gc.freeze()
            # asyncio.to_thread's pool (cpu count + 4 threads by default) runs every request's key
            # lookup and every submission's transaction: a few submissions waiting for the database's
            # writer must not hold up the reads behind them.
            asyncio.get_running_loop().set_default_executor(
                ThreadPoolExecutor(max_workers=BLOCKING_THREADS, thread_name_prefix="gcwm-io")
            )
            stop = asyncio.Event()
            workers = asyncio.create_task(serving.service.run_workers(stop)) if serving.run_workers else None
            try:
                yield
            finally:
                stop.set()
                if workers is not None:
                    with contextlib.suppress(asyncio.CancelledError):
                        await workers

    app = FastAPI(
        title="gcwm",
        version=__version__,
        description="Provision Genesys Cloud web messaging channels; watch jobs; read the audit trail.",
        lifespan=lifespan,
        # FastAPI's docs pages load their script from a CDN: never served (see api/docs.py).
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.runtime = runtime  # None until the lifespan opens it
    problems.install(app)
    app.include_router(v1.router)
    app.include_router(ops.router)
    app.include_router(dashboard.router)
    if docs:
        from gcwm.api.docs import install_docs

        install_docs(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(RequestTiming)
    return app


class BodyLimit:
    """Refuse a request body over `limit` bytes with 413, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(scope, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # An HTTPException, so FastAPI's body parsing passes it on to the problem handler.
                    raise _TooLarge(413, f"a request body may be at most {self.limit} bytes")
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._too_large(scope, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        body = problems.problem_bytes(
            413, "Request body too large", f"a request body may be at most {self.limit} bytes", scope["path"]
        )
        headers = [
            (b"content-type", problems.MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(StarletteHTTPException):
    pass


class RequestTiming:
    """Observe each request's latency by method, route template (not the raw path) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            metrics.API_REQUEST_SECONDS.labels(scope["method"], route_template(scope), str(status)).observe(
                time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    """The request's path with its path parameters named (`/v1/jobs/{job_id}`), so the metric's labels
    stay few; "unmatched" for a path no route took (any string could be sent)."""
    if scope.get("route") is None:
        return "unmatched"
    by_value = {str(v): k for k, v in scope.get("path_params", {}).items()}
    path: str = scope["path"]
    return "/".join(f"{{{by_value[part]}}}" if part in by_value else part for part in path.split("/"))
