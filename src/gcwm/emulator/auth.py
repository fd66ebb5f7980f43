"""OAuth client credentials: opaque bearer tokens with an expiry, and the check on every API call.

Error codes and messages follow Genesys's common error list (shared/genesys/README.md, [S10]).
Emulator choice: an expired token gets 401 `credentials.expired` (which of that and
`bad.credentials` Genesys answers is unconfirmed)."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Callable

from gcwm.emulator.errors import ApiError

# Genesys's message for `credentials.expired` (shared/genesys/README.md, Corrections [S10]).
EXPIRED_MESSAGE = "The supplied credentials are expired and cannot be used."


class TokenStore:
    """Issued tokens and when each expires (kept in memory only: a restart logs everyone out)."""

    def __init__(self, ttl_s: int, clock: Callable[[], float] = time.time) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, int]:
        """A new token and its lifetime in seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._expiry[token] = self._clock() + self.ttl_s
        return token, self.ttl_s

    def expire_all(self) -> int:
        """Make every issued token expire now (clients must log in again); returns how many."""
        now = self._clock()
        with self._lock:
            for token in self._expiry:
                self._expiry[token] = min(self._expiry[token], now)
            return len(self._expiry)

    def authenticate(self, authorization: str | None) -> str:
        """The bearer token of a valid `Authorization` header, or a 401 ApiError."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            msg = "No authentication bearer token specified in authorization header."
            raise ApiError(401, msg, code="authentication.required")
        with self._lock:
            expires_at = self._expiry.get(token)
        if expires_at is None:
            raise ApiError(401, "Invalid login credentials.", code="bad.credentials")
        if self._clock() >= expires_at:
            raise ApiError(401, EXPIRED_MESSAGE, code="credentials.expired")
        return token


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(client id, secret) from an HTTP Basic header, or None when there is no usable one."""
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None
