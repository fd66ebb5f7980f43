"""API errors and the one place that turns them into Genesys `ErrorBody` answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gcwm.emulator.validation import Problem

# Codes of Genesys's common error list (shared/genesys/README.md, Corrections [S10]).
_CODES = {
    400: "bad.request",
    401: "bad.credentials",
    404: "not.found",
    405: "method.not.allowed",
    409: "conflict",
    429: "too.many.requests.retry.after",
    500: "internal.server.error",
    502: "bad.gateway",
    503: "service.unavailable",
    504: "request.timeout",
}
CORRELATION_HEADER = "ININ-Correlation-Id"


class ApiError(Exception):
    """An answer other than success; `ErrorBody` fields are carried as attributes."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Iterable[Mapping[str, str]] = (),
        limit: Mapping[str, Any] | None = None,
        entity_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "error")
        self.details = [dict(d) for d in details]
        self.limit = dict(limit) if limit is not None else None
        self.entity_id = entity_id
        self.headers = dict(headers or {})

    def body(self, context_id: str) -> dict[str, Any]:
        """The `ErrorBody` model, with `contextId` set to the request's correlation id."""
        body: dict[str, Any] = {
            "message": self.message,
            "code": self.code,
            "status": self.status,
            "contextId": context_id,
            "details": self.details,
            "errors": [],
        }
        if self.entity_id is not None:
            body["entityId"] = self.entity_id
        if self.limit is not None:
            body["limit"] = self.limit
        return body

    def response(self, context_id: str) -> JSONResponse:
        headers = {**self.headers, CORRELATION_HEADER: context_id}
        return JSONResponse(self.body(context_id), status_code=self.status, headers=headers)


def bad_request(problems: list[Problem]) -> ApiError:
    """A 400 naming every field that is wrong, as message and as `details`."""
    message = "; ".join(p.message for p in problems)
    details = [{"errorCode": p.code, "fieldName": p.field} for p in problems]
    return ApiError(400, message, details=details)


def invalid(field: str, message: str, code: str = "invalid.value") -> ApiError:
    """A 400 about one field; the message is prefixed with the field path."""
    return bad_request([Problem(field, code, f"{field}: {message}")])


def not_found(message: str, entity_id: str | None = None) -> ApiError:
    return ApiError(404, message, entity_id=entity_id)


def context_id(request: Request) -> str:
    """The correlation id the pipeline chose for this request (a fresh one when there is none)."""
    value = getattr(request.state, "correlation_id", None)
    return value if isinstance(value, str) else str(uuid.uuid4())


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error under /api/v2 with an ErrorBody; routes never build error bodies."""

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return exc.response(context_id(request))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            message = f"No resource at {request.method} {request.url.path}"
        else:
            message = str(exc.detail)
        return ApiError(exc.status_code, message).response(context_id(request))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        # Query and path parameters of the wrong type (e.g. pageNumber=abc).
        assert isinstance(exc, RequestValidationError)
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
            problems.append(Problem(where, "invalid.value", f"{where}: {error.get('msg', 'invalid')}"))
        return bad_request(problems).response(context_id(request))

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
