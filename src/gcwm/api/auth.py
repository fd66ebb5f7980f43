"""Who may call: `Authorization: Bearer <key>`, checked against the stored hashes; roles in order.

No key (or an unknown or revoked one) is 401 with `WWW-Authenticate: Bearer`; a key whose role is
too low is 403. The key's id becomes the actor of everything done for the request: jobs, log lines
and audit entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

from gcwm.api.keys import verify_key
from gcwm.api.problems import TYPE_BASE, Problem
from gcwm.api.roles import Principal
from gcwm.api.runtime import ApiRuntime, runtime_of
from gcwm.observability.context import bind_request
from gcwm.provisioning.roles import Role

__all__ = ["Principal", "Role", "authenticate", "require"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gcwm"'}


async def authenticate(request: Request, runtime: ApiRuntime) -> Principal:
    """The caller of a request, or a 401 problem."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401,
            "Authentication required",
            "send an API key as `Authorization: Bearer <key>` (`gcwm keys create` makes one)",
            type_=TYPE_BASE + "unauthenticated",
            headers=_CHALLENGE,
        )
    principal = await runtime.store.read(verify_key, runtime.store, token.strip())
    if principal is None:
        raise Problem(
            401,
            "Authentication required",
            "the API key is not known or has been revoked",
            type_=TYPE_BASE + "unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="gcwm", error="invalid_token"'},
        )
    return principal


def check_role(principal: Principal, needed: Role) -> None:
    """A 403 problem unless the principal's role allows what `needed` may do."""
    if not principal.role.allows(needed):
        raise Problem(
            403,
            "Forbidden",
            f"this needs the {needed.value} role; key {principal.key_id} is "
            f"{'an' if principal.role.value[0] in 'aeiou' else 'a'} {principal.role.value}",
            type_=TYPE_BASE + "forbidden",
            required=needed.value,
            role=principal.role.value,
        )


def require(role: Role) -> Callable[..., Any]:
    """A dependency giving the caller, who must hold `role` or above; the request runs as the key."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request, runtime_of(request))
        check_role(principal, role)
        request.state.principal = principal
        # Not a generator dependency with a context to undo: FastAPI's exit stack for one costs more
        # than the lookup itself, and the binding ends with the request's task anyway.
        bind_request(actor=principal.key_id, correlation_id=_safe(request.headers.get("x-correlation-id")))
        return principal

    return dependency


def _safe(value: str | None) -> str | None:
    """A caller's correlation id only if it is short and plain (it goes into logs and audit entries)."""
    if value and len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value):
        return value
    return None
