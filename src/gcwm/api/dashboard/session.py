"""Who is looking at the dashboard: a session opened by logging in with an API key, and the checks
every state-changing form passes.

The browser holds a random session token in the `gcwm_session` cookie (HttpOnly, SameSite=Strict,
Secure unless the page is served on loopback); the database holds only its SHA-256, so a copy of the
database opens no session. The CSRF token of a session is an HMAC keyed by the session token: every
replica can recompute it from the cookie, and the stored hash does not give it away. A POST must
carry it (form field or `X-CSRF-Token` header) and, when the browser says where it comes from, come
from this origin. The login form, before any session, uses a double-submitted random cookie instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from fastapi import Request, Response

from gcwm.api.dashboard.security import is_loopback
from gcwm.api.keys import key_hash, verify_key
from gcwm.api.roles import Principal
from gcwm.api.runtime import runtime_of
from gcwm.provisioning.roles import Role
from gcwm.store import Store

__all__ = [
    "COOKIE",
    "LIFETIME_S",
    "LOGIN_COOKIE",
    "PageSession",
    "Refused",
    "check_origin",
    "check_token",
    "clear_cookie",
    "close_session",
    "current_session",
    "login",
    "read_form",
    "set_cookie",
]

COOKIE = "gcwm_session"
LOGIN_COOKIE = "gcwm_login"
LIFETIME_S = 8 * 3600  # a working day; logging out or revoking the key ends it sooner
CSRF_HEADER = "x-csrf-token"
_CSRF_CONTEXT = b"gcwm dashboard csrf v1"


class Refused(Exception):
    """A request the dashboard will not carry out: its status and why (shown on the error page)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class PageSession:
    """The logged-in key behind a request, and the CSRF token its forms carry."""

    key_id: str
    key_name: str
    role: Role
    csrf: str

    @property
    def is_operator(self) -> bool:
        return self.role.allows(Role.operator)


def csrf_for(token: str) -> str:
    """The CSRF token of the session whose cookie holds `token`."""
    return hmac.new(token.encode("utf-8"), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


async def current_session(request: Request) -> PageSession | None:
    """The live session of the request's cookie, or None (no cookie, unknown, expired, revoked)."""
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 128:
        return None
    store = runtime_of(request).store
    found = await asyncio.to_thread(_live, store, key_hash(token))
    if found is None:
        return None
    key_id, key_name, role = found
    return PageSession(key_id, key_name, Role(role), csrf_for(token))


def _live(store: Store, token_hash: str) -> tuple[str, str, str] | None:
    with store.reading() as tx:
        session = tx.dashboard_sessions.live(token_hash)
    return None if session is None else (session.key_id, session.key_name, session.role)


async def login(request: Request, api_key: str) -> tuple[Principal, str] | None:
    """Check an API key and open a session for it: (the key's principal, the new session token)."""
    store = runtime_of(request).store
    principal = await asyncio.to_thread(verify_key, store, api_key.strip())
    if principal is None:
        return None
    token = secrets.token_urlsafe(32)
    await asyncio.to_thread(_open, store, key_hash(token), principal)
    return principal, token


def _open(store: Store, token_hash: str, principal: Principal) -> None:
    with store.unit_of_work() as tx:
        tx.dashboard_sessions.open(
            token_hash,
            key_id=principal.key_id,
            key_name=principal.name,
            role=principal.role.value,
            lifetime_s=LIFETIME_S,
        )


async def close_session(request: Request) -> None:
    """End the request's session (logout), if it has one."""
    token = request.cookies.get(COOKIE, "")
    if token:
        await asyncio.to_thread(_close, runtime_of(request).store, key_hash(token))


def _close(store: Store, token_hash: str) -> None:
    with store.unit_of_work() as tx:
        tx.dashboard_sessions.close(token_hash)


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """Set one of the dashboard's cookies: HttpOnly, SameSite=Strict, Secure off loopback only."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=not is_loopback(request.url.hostname),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    """Remove one of the dashboard's cookies (set again empty, expired, with the same flags)."""
    set_cookie(request, response, name, "", max_age=0)


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST, one value per field (the first)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise Refused(415, "the dashboard's forms are sent as application/x-www-form-urlencoded")
    body = await request.body()
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, "the form could not be read") from exc
    return {name: values[0] for name, values in fields.items()}


def check_origin(request: Request) -> None:
    """Refuse a POST that a browser says comes from another site.

    Hosts are compared, not schemes: behind a TLS proxy the app sees http while the page is https."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is not None:
        if origin == "null" or urlsplit(origin).netloc != request.headers.get("host", ""):
            raise Refused(403, "this form was sent from another site")
    elif request.headers.get("sec-fetch-site") not in (None, "same-origin"):
        raise Refused(403, "this form was sent from another site")


def check_token(expected: str, request: Request, form: dict[str, str]) -> None:
    """Refuse a POST without this session's (or login form's) CSRF token."""
    sent = form.get("csrf") or request.headers.get(CSRF_HEADER, "")
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Refused(403, "the form's security token is missing or stale; reload the page and try again")
