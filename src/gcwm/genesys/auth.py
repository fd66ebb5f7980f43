"""OAuth client credentials: one cached bearer token per client, refreshed before it expires."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import structlog
from pydantic import SecretStr

from gcwm.errors import GenesysAuthError, GenesysError
from gcwm.genesys.errors import bad_answer, error_from_response, error_from_transport

log = structlog.get_logger(__name__)

LOGIN_OPERATION = "POST /oauth/token"


@dataclass(frozen=True)
class ClientCredentials:
    """An OAuth client's id and secret; the secret never leaves SecretStr except into Basic auth."""

    client_id: str
    client_secret: SecretStr


@dataclass
class _Token:
    value: SecretStr
    expires_at: float  # time.monotonic()


class TokenProvider:
    """Logs in with client credentials and hands out a bearer token that is still valid."""

    def __init__(
        self,
        login_url: str,
        credentials: ClientCredentials,
        http: httpx.AsyncClient,
        *,
        refresh_margin_s: float = 60.0,
    ) -> None:
        self._url = f"{login_url.rstrip('/')}/oauth/token"
        self._credentials = credentials
        self._http = http
        self._margin = refresh_margin_s
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        self.logins = 0

    async def bearer(self) -> str:
        """A valid access token, logging in first when there is none or it is about to expire."""
        token = self._token
        if token is not None and time.monotonic() < token.expires_at:
            return token.value.get_secret_value()
        async with self._lock:
            token = self._token
            if token is None or time.monotonic() >= token.expires_at:
                token = self._token = await self._login()
            return token.value.get_secret_value()

    def invalidate(self, rejected: str) -> None:
        """Forget a token the API refused (expired or revoked), so the next call logs in again."""
        if self._token is not None and self._token.value.get_secret_value() == rejected:
            self._token = None

    async def _login(self) -> _Token:
        started = time.monotonic()
        auth = httpx.BasicAuth(
            self._credentials.client_id, self._credentials.client_secret.get_secret_value()
        )
        try:
            response = await self._http.post(self._url, data={"grant_type": "client_credentials"}, auth=auth)
        except httpx.TransportError as exc:
            raise error_from_transport(LOGIN_OPERATION, exc) from exc
        if response.status_code != 200:
            raise _login_error(response)
        try:
            body = response.json()
            value = str(body["access_token"])
            lifetime = float(body.get("expires_in", 86400))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Never echo the body: it may be a token in a shape we did not expect.
            raise bad_answer(LOGIN_OPERATION, response, "expected JSON with an access_token") from exc
        self.logins += 1
        # Refresh early: a margin, but never more than half the lifetime for short-lived tokens.
        margin = min(self._margin, lifetime / 2)
        log.info("oauth.logged_in", client_id=self._credentials.client_id, expires_in=lifetime)
        return _Token(value=SecretStr(value), expires_at=started + lifetime - margin)


def _login_error(response: httpx.Response) -> GenesysError:
    """/oauth/token answers OAuth-style errors (`error`, `description`), not ErrorBody."""
    if response.status_code in (429, 502, 503, 504) or response.status_code >= 500:
        return error_from_response(LOGIN_OPERATION, response)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    reason = body.get("error") or body.get("code") or "refused"
    detail = body.get("description") or body.get("error_description") or body.get("message") or ""
    msg = f"{LOGIN_OPERATION} answered {response.status_code} {reason}: {detail}".rstrip(": ")
    msg += " (check the OAuth client id and secret, and the region)"
    return GenesysAuthError(msg, operation=LOGIN_OPERATION, status=response.status_code, code=str(reason))
