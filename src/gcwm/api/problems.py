"""RFC 9457 problem details: every error of the API is `application/problem+json`, made here once.

`Problem` is raised by the API's own code; gcwm's errors are mapped by kind (a spec problem keeps its
file, channel and field; a policy refusal lists its findings); FastAPI's validation errors, unknown
routes and anything unexpected become problems too, the last without its traceback.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gcwm.errors import (
    ConfigError,
    GcwmError,
    GenesysError,
    JobError,
    LimitExceeded,
    NotFound,
    NotPermitted,
    PolicyViolation,
    SpecError,
    StoreError,
)

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://gcwm.dev/problems/"  # identifiers, not links: RFC 9457 allows any URI


class Problem(Exception):
    """An answer that is a problem: status, a title per kind, this occurrence's detail, extra members."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.headers = headers or {}
        self.extra = extra

    def document(self, instance: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        return {**body, **self.extra}

    def response(self, instance: str = "") -> JSONResponse:
        return JSONResponse(
            self.document(instance), status_code=self.status, media_type=MEDIA_TYPE, headers=self.headers
        )


def from_gcwm_error(exc: GcwmError) -> Problem:
    """gcwm's error tree as HTTP: what a caller can fix is 4xx, what failed on our side 5xx."""
    extra: dict[str, Any] = {k: v for k, v in exc.to_dict().items() if k not in ("message", "error")}
    kind = type(exc).__name__
    status, title = _status_by_class(exc)
    problem = Problem(status, title, exc.message, type_=TYPE_BASE + _kebab(kind), error=kind)
    problem.extra.update(extra)
    return problem


def _status_by_class(exc: GcwmError) -> tuple[int, str]:
    for cls, answer in _BY_CLASS:
        if isinstance(exc, cls):
            return answer
    return 400, "The request cannot be carried out"


# Most specific first.
_BY_CLASS: list[tuple[type[GcwmError], tuple[int, str]]] = [
    (NotFound, (404, "Not found")),
    (NotPermitted, (403, "Your role may not do that")),
    (SpecError, (422, "The channel spec is not valid")),
    (LimitExceeded, (409, "A limit would be exceeded")),
    (PolicyViolation, (422, "Refused by policy")),
    (JobError, (409, "The job cannot do that now")),
    (StoreError, (503, "The database is unavailable")),
    (ConfigError, (500, "gcwm is misconfigured")),
    (GenesysError, (502, "Genesys Cloud failed")),
]


def _kebab(name: str) -> str:
    out = "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")
    return out


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return exc.response(request.url.path)


async def _on_gcwm_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GcwmError)
    problem = from_gcwm_error(exc)
    if problem.status >= 500:
        log.warning("api.failed", path=request.url.path, error=type(exc).__name__, message=exc.message)
    return problem.response(request.url.path)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"location": ".".join(str(p) for p in e.get("loc", ())), "problem": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['location']}: {e['problem']}" for e in errors[:5])
    problem = Problem(
        422, "The request is not valid", detail, type_=TYPE_BASE + "invalid-request", errors=errors
    )
    return problem.response(request.url.path)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}.get(
        exc.status_code, "HTTP error"
    )
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else ""
    problem = Problem(exc.status_code, title, detail, headers=dict(exc.headers or {}))
    return problem.response(request.url.path)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("api.crashed", path=request.url.path)
    problem = Problem(500, "Internal error", "gcwm failed unexpectedly; the log has the details")
    return problem.response(request.url.path)


def install(app: FastAPI) -> None:
    """Turn every error the app can meet into a problem document."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(GcwmError, _on_gcwm_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)


def problem_bytes(status: int, title: str, detail: str, instance: str) -> bytes:
    """A problem as bytes, for the ASGI middleware that answers before routing (413)."""
    return json.dumps(Problem(status, title, detail).document(instance)).encode()
