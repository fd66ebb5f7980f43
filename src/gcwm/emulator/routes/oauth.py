"""`POST /oauth/token` (client credentials grant), on the API's origin.

Genesys serves it at `login.{region host}`; the emulator serves both on one origin. Its errors are
OAuth-style `{"error", "description"}`, not ErrorBody (README). Emulator choices, as the exact codes
are unconfirmed: wrong client credentials -> 401 `invalid_client`; a grant other than
client_credentials -> 400 `unsupported_grant_type`. The client may also send its id and secret as
form fields instead of HTTP Basic (RFC 6749 allows both)."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gcwm.emulator.auth import basic_credentials
from gcwm.emulator.runtime import runtime_of

router = APIRouter()


@router.post("/oauth/token")
async def issue_token(request: Request) -> JSONResponse:
    rt = runtime_of(request)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    credentials = basic_credentials(request.headers.get("authorization"))
    if credentials is None and "client_id" in form:
        credentials = (form["client_id"], form.get("client_secret", ""))
    if credentials is None or not _is_client(credentials, rt.config.client_id, rt.config.client_secret):
        return _oauth_error(
            401, "invalid_client", "Bad client credentials: unknown client id or wrong secret"
        )
    grant = form.get("grant_type")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type {grant!r}")
    token, lifetime = rt.tokens.issue()
    rt.stats.count_login()
    return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": lifetime})


def _is_client(credentials: tuple[str, str], client_id: str, client_secret: str) -> bool:
    given_id, given_secret = credentials
    same_id = secrets.compare_digest(given_id.encode(), client_id.encode())
    return same_id and secrets.compare_digest(given_secret.encode(), client_secret.encode())


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "description": description}, status_code=status)
