"""`gcwm itsm-sink`: a local receiver for everything gcwm sends, so a callback can be seen arriving
with no ITSM of one's own, and the ServiceNow and Jira clients are tested against real HTTP.

- `POST /webhook` (any path under it): verifies Standard Webhooks signatures with the
  `standardwebhooks` library, as a receiver would (401 if they do not verify), notes duplicates by
  webhook-id, and prints what arrived.
- ServiceNow-shaped (Table API, /oauth_token.do) and Jira-shaped (customer requests and their
  search) calls, answered from memory like the products answer (sink_apis.py).
- Faults, for tests and demos (`POST /_sink/faults` or `Sink.add_fault`): answer a status (with
  Retry-After, and a body of one's choosing), stall (no answer until released or the client gives
  up), lose the answer (do the work, then stall), do the work and answer a status, or redirect; each
  after N requests pass, for M requests. `POST /_sink/release` sends held answers;
  `GET /_sink/received` lists what arrived.

State is in memory only. sink_server.py serves it, on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gcwm.notify.sink_apis import ItsmApis, Kind, json_body

FaultMode = Literal["status", "stall", "lose_answer", "commit_then_status", "redirect"]
_HOLD_POLL_S = 0.02


def new_secret() -> str:
    """A fresh Standard Webhooks signing key: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass
class Fault:
    """Misbehaviour for requests whose path starts with `path` (and of `method`, if given): skip
    `after` of them, then apply to `times` of them."""

    mode: FaultMode = "status"
    status: int = 503
    times: int = 1
    after: int = 0
    path: str = "/"
    method: str | None = None
    retry_after: str | None = None
    location: str | None = None
    stall_s: float = 300.0
    body: str | None = None  # the answer's body as given (text/plain); default a small JSON error


@dataclass(frozen=True)
class Received:
    """One request that reached the sink (faulted ones included), as it arrived."""

    kind: Kind
    method: str
    path: str
    headers: dict[str, str]
    body: str
    webhook_id: str | None = None
    verified: bool | None = None
    duplicate: bool = False
    note: str = ""
    at: float = field(default_factory=time.time)


class Sink:
    """The sink's state and its Starlette app; thread-safe, as tests read it from their own thread."""

    def __init__(self, *, secret: str | None = None, echo: Callable[[str], None] | None = None) -> None:
        self._webhook = Webhook(secret) if secret else None
        self._echo = echo
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._faults: list[Fault] = []
        self.apis = ItsmApis(self._record_call)
        self._release_generation = 0
        self._holding = 0
        self.app = Starlette(routes=self._routes())

    # -- what tests and the admin API use --------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def release(self) -> int:
        """Send every held answer now; how many were held."""
        with self._lock:
            self._release_generation += 1
            return self._holding

    @property
    def holding(self) -> int:
        """Requests whose answer is being held right now."""
        with self._lock:
            return self._holding

    def received(self, kind: Kind | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._received if kind is None or r.kind == kind]

    def records(self, table: str) -> list[dict[str, Any]]:
        """ServiceNow records of a table, in creation order."""
        return self.apis.records(table)

    def jira_requests(self) -> list[dict[str, Any]]:
        """Jira customer requests, in creation order."""
        return self.apis.jira_requests()

    # -- the app ------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        def wrap(
            handler: Callable[[Request], Awaitable[Response]],
        ) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                return await self._serve(request, handler)

            return endpoint

        apis = self.apis
        return [
            Route("/webhook", wrap(self._webhook_in), methods=["POST"]),
            Route("/webhook/{rest:path}", wrap(self._webhook_in), methods=["POST"]),
            Route("/oauth_token.do", wrap(apis.oauth_token), methods=["POST"]),
            Route("/api/now/table/{table}", wrap(apis.sn_list), methods=["GET"]),
            Route("/api/now/table/{table}", wrap(apis.sn_create), methods=["POST"]),
            Route("/api/now/table/{table}/{sys_id}", wrap(apis.sn_get), methods=["GET"]),
            Route("/api/now/table/{table}/{sys_id}", wrap(apis.sn_update), methods=["PATCH", "PUT"]),
            Route("/rest/servicedeskapi/request", wrap(apis.jira_search), methods=["GET"]),
            Route("/rest/servicedeskapi/request", wrap(apis.jira_create), methods=["POST"]),
            Route("/_sink/received", self._admin_received, methods=["GET"]),
            Route("/_sink/faults", self._admin_fault, methods=["POST"]),
            Route("/_sink/faults", self._admin_clear, methods=["DELETE"]),
            Route("/_sink/release", self._admin_release, methods=["POST"]),
        ]

    async def _serve(self, request: Request, handler: Callable[[Request], Awaitable[Response]]) -> Response:
        fault = self._take_fault(request.method, request.url.path)
        if fault is None:
            return await handler(request)
        if fault.mode == "status":
            await self._note(request, f"fault: answered {fault.status}")
            return _status_answer(fault)
        if fault.mode == "redirect":
            await self._note(request, f"fault: redirected to {fault.location}")
            return Response(status_code=fault.status, headers={"location": fault.location or "/"})
        if fault.mode == "stall":
            await self._note(request, "fault: answer stalled")
            if await self._hold(request, fault.stall_s):
                return await handler(request)  # released while the client still waits
            return _status_answer(Fault(status=504))  # nobody is listening any more
        answer = await handler(request)  # lose_answer and commit_then_status: the work is done
        if fault.mode == "lose_answer":
            await self._hold(request, fault.stall_s)
            return answer
        return _status_answer(fault)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not path.startswith(fault.path) or fault.method not in (None, method):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _hold(self, request: Request, limit_s: float) -> bool:
        """Hold the answer until released (True), or the client left or the limit passed (False)."""
        with self._lock:
            generation = self._release_generation
            self._holding += 1
        try:
            deadline = time.monotonic() + limit_s
            while time.monotonic() < deadline:
                with self._lock:
                    if self._release_generation != generation:
                        return True
                if await request.is_disconnected():
                    return False
                await asyncio.sleep(_HOLD_POLL_S)
            return False
        finally:
            with self._lock:
                self._holding -= 1

    async def _note(self, request: Request, note: str) -> None:
        kind: Kind = "webhook"
        path = request.url.path
        if path.startswith("/api/now/"):
            kind = "servicenow"
        elif path.startswith("/rest/"):
            kind = "jira"
        elif path == "/oauth_token.do":
            kind = "oauth"
        body = await request.body()
        self._keep(
            Received(
                kind,
                request.method,
                path,
                dict(request.headers),
                body.decode("utf-8", "replace"),
                webhook_id=request.headers.get("webhook-id"),
                note=note,
            )
        )

    def _keep(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)
        if self._echo is not None:
            self._echo(_describe(received))

    # -- webhooks -----------------------------------------------------------------------------

    async def _webhook_in(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        headers = dict(request.headers)
        webhook_id = headers.get("webhook-id")
        with self._lock:
            duplicate = webhook_id is not None and any(
                r.webhook_id == webhook_id and r.verified is not False and not r.note for r in self._received
            )
        verified: bool | None = None
        note = ""
        if self._webhook is not None:
            try:
                self._webhook.verify(body, headers, json_parse=False)
                verified = True
            except WebhookVerificationError as exc:
                verified, note = False, f"signature refused: {exc}"
        self._keep(
            Received(
                "webhook",
                request.method,
                request.url.path,
                headers,
                body,
                webhook_id=webhook_id,
                verified=verified,
                duplicate=duplicate,
            )
        )
        if verified is False:
            return JSONResponse({"error": note}, status_code=401)
        return JSONResponse({"received": webhook_id, "duplicate": duplicate})

    async def _record_call(self, kind: Kind, request: Request, note: str) -> None:
        body = await request.body()
        if kind == "oauth":
            body = b"(form with client credentials, not kept)"
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        query = f"?{request.url.query}" if request.url.query else ""
        self._keep(
            Received(
                kind,
                request.method,
                request.url.path + query,
                headers,
                body.decode("utf-8", "replace"),
                note=note,
            )
        )

    # -- admin --------------------------------------------------------------------------------

    async def _admin_received(self, request: Request) -> Response:
        return JSONResponse({"received": [asdict(r) for r in self.received()]})

    async def _admin_fault(self, request: Request) -> Response:
        document = await json_body(request)
        try:
            fault = Fault(**(document or {}))
        except TypeError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        self.add_fault(fault)
        return JSONResponse(asdict(fault), status_code=201)

    async def _admin_clear(self, request: Request) -> Response:
        self.clear_faults()
        return Response(status_code=204)

    async def _admin_release(self, request: Request) -> Response:
        return JSONResponse({"released": self.release()})


def _status_answer(fault: Fault) -> Response:
    headers = {"retry-after": fault.retry_after} if fault.retry_after else None
    if fault.body is not None:
        return Response(fault.body, status_code=fault.status, headers=headers, media_type="text/plain")
    return JSONResponse(
        {"error": f"itsm-sink fault: {fault.status}"}, status_code=fault.status, headers=headers
    )


def _describe(received: Received) -> str:
    """One printed block per arrival: what, and for a webhook its verified payload."""
    head = f"{time.strftime('%H:%M:%S', time.localtime(received.at))} {received.method} {received.path}"
    if received.kind == "webhook" and not received.note:
        state = {True: "signature verified", False: "signature REFUSED", None: "not verified (no --secret)"}
        head += f"  webhook-id {received.webhook_id}  {state[received.verified]}"
        if received.duplicate:
            head += "  (duplicate: already received)"
        try:
            body = json.dumps(json.loads(received.body), indent=2, ensure_ascii=False)
        except ValueError:
            body = received.body
        return f"{head}\n{body}"
    return f"{head}  {received.note}".rstrip()
