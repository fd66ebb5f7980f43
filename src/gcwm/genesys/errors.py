"""The one border where httpx failures and Genesys error answers become gcwm errors."""

from __future__ import annotations

import json

import httpx
from pydantic import ValidationError

from gcwm.errors import (
    GenesysAuthError,
    GenesysBadAnswer,
    GenesysBadRequest,
    GenesysConflict,
    GenesysError,
    GenesysNotFound,
    GenesysRateLimited,
    GenesysServerError,
    GenesysTransportError,
    GenesysUnavailable,
)
from gcwm.genesys.models import ErrorBody

_DEFAULT_RETRY_AFTER_S = 1.0


def error_from_response(operation: str, response: httpx.Response) -> GenesysError:
    """Turn a non-2xx Genesys answer into the matching typed error, with Genesys's own message."""
    body = _error_body(response)
    status = response.status_code
    code = body.code or ""
    context_id = body.context_id or response.headers.get("ININ-Correlation-Id", "")
    detail = body.message or response.reason_phrase or "no message"
    fields = ", ".join(d.field_name for d in body.details if d.field_name)
    if fields and fields not in detail:
        detail = f"{detail} (fields: {fields})"
    ctx = f" (contextId {context_id})" if context_id else ""
    message = f"{operation} answered {status} {code or 'error'}{ctx}: {detail}"
    if status == 429:
        return GenesysRateLimited(
            message,
            retry_after_s=_retry_after(response),
            operation=operation,
            status=status,
            code=code,
            context_id=context_id,
        )
    cls: type[GenesysError]
    if status in (401, 403):
        cls = GenesysAuthError
    elif status == 404:
        cls = GenesysNotFound
    elif status == 409:
        cls = GenesysConflict
    elif status in (502, 503, 504):
        cls = GenesysUnavailable  # transient on any call
    elif status >= 500:
        cls = GenesysServerError
    elif status == 400:
        cls = GenesysBadRequest
    else:
        cls = GenesysError
    error = cls(message, operation=operation, status=status, code=code, context_id=context_id)
    if isinstance(error, GenesysBadRequest):
        error.limit_broken = body.limit is not None or code == "limit.exceeded"
    return error


def error_from_transport(operation: str, exc: httpx.TransportError) -> GenesysTransportError:
    """A request that got no answer: connect failure, reset, or timeout."""
    kind = type(exc).__name__
    reason = str(exc) or kind
    message = f"{operation} got no answer ({kind}: {reason})"
    err = GenesysTransportError(message, operation=operation, code=kind)
    # A connect failure means the request never left: safe to send again even for a create.
    err.request_sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
    return err


def is_outcome_unknown(exc: GenesysError) -> bool:
    """True when a write may have happened although no readable success answer came back."""
    if isinstance(exc, GenesysTransportError):
        return exc.request_sent
    return isinstance(exc, (GenesysUnavailable, GenesysServerError, GenesysBadAnswer))


def bad_answer(operation: str, response: httpx.Response, problem: str) -> GenesysBadAnswer:
    """A 2xx whose body gcwm cannot use; says what was wrong, never echoing the body (it may hold a token)."""
    context_id = response.headers.get("ININ-Correlation-Id", "")
    ctx = f" (contextId {context_id})" if context_id else ""
    kind = response.headers.get("content-type", "no content type")
    message = (
        f"{operation} answered {response.status_code}{ctx} with a body gcwm cannot read ({kind}): {problem}"
    )
    return GenesysBadAnswer(message, operation=operation, status=response.status_code, context_id=context_id)


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        # Every 429 carries Retry-After since 2021; an old-style one without it backs off briefly.
        return _DEFAULT_RETRY_AFTER_S


def _error_body(response: httpx.Response) -> ErrorBody:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ErrorBody(message=response.text[:300] or None)
    if not isinstance(data, dict):
        return ErrorBody()
    try:
        return ErrorBody.model_validate(data)
    except ValidationError:
        return ErrorBody(message=str(data.get("message") or "")[:300] or None)
