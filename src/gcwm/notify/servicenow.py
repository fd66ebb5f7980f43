"""ServiceNow: one record per event through the Table API, found again by its correlation_id.

ServiceNow has no idempotency header and does not enforce unique correlation_ids (research §2.1),
so every attempt first asks `GET /api/now/table/{table}?sysparm_query=correlation_id=<id>&
sysparm_limit=1`; a record found (a create whose answer was lost) is updated with PATCH, otherwise
one is created with POST. The id is the message id, so a retry finds what an earlier attempt made.
Two workers never deliver one message at once (each holds the message's lease), which is what makes
search-then-create safe here.

The table is configurable (`itsm.table`, default change_request; incident works the same): the
fields written (short_description, description, correlation_id, correlation_display) are all
columns of `task`, which both extend. Auth: basic, or OAuth client credentials at the instance's
/oauth_token.do, the token kept in memory until it expires and fetched again after a 401.
verify: the client-credentials grant at /oauth_token.do must be enabled on the instance (a system
property since Washington DC); research §2.1 read only the password-grant page (`t_EnableOAuthWithREST.md`).
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from gcwm.notify.delivery import Answer, Delivered, DeliveryError
from gcwm.notify.ssrf import GuardedClient
from gcwm.notify.targets import Target, basic_header, describe_event, user_and_password
from gcwm.store.outbox import OutboxMessage

CORRELATION_DISPLAY = "gcwm"
_JSON = {"accept": "application/json", "content-type": "application/json"}
_TOKEN_MARGIN_S = 60.0


class OAuthTokens:
    """Bearer tokens from client-credentials grants, per instance and client, kept until near expiry."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def get(self, http: GuardedClient, origin: str, client_id: str, client_secret: str) -> str:
        key = (origin, client_id)
        # One grant at a time per client: concurrent deliveries wait for it instead of each asking.
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._tokens.get(key)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            return await self._grant(http, key, client_secret)

    async def _grant(self, http: GuardedClient, key: tuple[str, str], client_secret: str) -> str:
        origin, client_id = key
        url = f"{origin}/oauth_token.do"
        form = httpx.QueryParams(
            {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        )
        headers = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
        answer = await http.request("POST", url, headers=headers, content=str(form).encode())
        if not answer.is_success:
            raise answer.failure(f"POST {url} (OAuth token)")
        document = answer.json_object(f"POST {url}")
        token = document.get("access_token")
        if not isinstance(token, str) or not token:
            msg = f"POST {url} answered {answer.status} without an access_token"
            raise DeliveryError(msg)
        lifetime = float(document.get("expires_in") or 1800)
        self._tokens[key] = (token, time.monotonic() + max(lifetime - _TOKEN_MARGIN_S, 0.0))
        return token

    def forget(self, origin: str, client_id: str) -> None:
        self._tokens.pop((origin, client_id), None)


def record_body(message: OutboxMessage) -> dict[str, str]:
    """The record's fields: what happened, and the correlation id that finds it again."""
    summary, description = describe_event(message)
    return {
        "short_description": summary,
        "description": description,
        "correlation_id": message.id,
        "correlation_display": CORRELATION_DISPLAY,
    }


async def send_servicenow(
    http: GuardedClient, message: OutboxMessage, target: Target, secret: str, tokens: OAuthTokens
) -> Delivered:
    """Find the record by correlation_id and PATCH it, or POST a new one; Delivered with its sys_id."""
    origin = str(httpx.URL(target.url).copy_with(path="/", query=None, fragment=None)).rstrip("/")
    table_url = f"{target.url.rstrip('/')}/api/now/table/{target.table}"
    auth = _Auth(http, target, secret, tokens, origin)
    params = {
        "sysparm_query": f"correlation_id={message.id}",
        "sysparm_limit": "1",
        "sysparm_fields": "sys_id,number",
    }
    found = await auth.request("GET", table_url, params=params)
    if not found.is_success:
        raise found.failure(f"GET {table_url}")
    records = found.json_object(f"GET {table_url}").get("result")
    if not isinstance(records, list):
        msg = f"GET {table_url} answered {found.status} without a result list"
        raise DeliveryError(msg)
    body = json.dumps(record_body(message)).encode()
    if records:
        sys_id = str(records[0].get("sys_id") or "")
        if not sys_id:
            msg = f"GET {table_url} found a record with correlation_id {message.id} but no sys_id"
            raise DeliveryError(msg)
        answer = await auth.request("PATCH", f"{table_url}/{sys_id}", content=body)
        if not answer.is_success:
            raise answer.failure(f"PATCH {table_url}/{sys_id}")
        return Delivered(external_ref=sys_id, status=answer.status)
    answer = await auth.request("POST", table_url, content=body)
    if not answer.is_success:
        raise answer.failure(f"POST {table_url}")
    result = answer.json_object(f"POST {table_url}").get("result")
    made = result.get("sys_id") if isinstance(result, dict) else None
    return Delivered(external_ref=str(made) if made else None, status=answer.status)


class _Auth:
    """Sends Table API requests with the target's credentials; a 401 under OAuth refreshes once."""

    def __init__(
        self, http: GuardedClient, target: Target, secret: str, tokens: OAuthTokens, origin: str
    ) -> None:
        self._http, self._target, self._secret, self._tokens, self._origin = (
            http,
            target,
            secret,
            tokens,
            origin,
        )
        name = target.secret_env or "secretEnv"
        if target.auth == "basic":
            user, password = user_and_password(secret, name, "user:password")
            self._basic: str | None = basic_header(user, password)
        else:
            self._basic = None
        self._client = (
            user_and_password(secret, name, "client_id:client_secret") if target.auth == "oauth" else None
        )

    async def request(
        self, method: str, url: str, *, params: dict[str, str] | None = None, content: bytes | None = None
    ) -> Answer:
        answer = await self._http.request(
            method,
            url,
            headers={**_JSON, "authorization": await self._header()},
            params=params,
            content=content,
        )
        if answer.status == 401 and self._client is not None:
            self._tokens.forget(self._origin, self._client[0])
            answer = await self._http.request(
                method,
                url,
                headers={**_JSON, "authorization": await self._header()},
                params=params,
                content=content,
            )
        return answer

    async def _header(self) -> str:
        if self._basic is not None:
            return self._basic
        if self._client is not None:
            token = await self._tokens.get(self._http, self._origin, *self._client)
            return f"Bearer {token}"
        return f"Bearer {self._secret}"
