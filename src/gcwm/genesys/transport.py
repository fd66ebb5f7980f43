"""One door to Genesys Cloud: bearer token, pacing, retries, timing, and error translation."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

import httpx
import stamina
import structlog

from gcwm.errors import GenesysAuthError, GenesysBadRequest, GenesysError, GenesysRateLimited
from gcwm.genesys.auth import ClientCredentials, TokenProvider
from gcwm.genesys.errors import error_from_response, error_from_transport
from gcwm.genesys.pacer import Pacer
from gcwm.genesys.regions import Endpoints
from gcwm.genesys.retries import BackoffHook, RetryPolicy
from gcwm.genesys.send_guard import before_send
from gcwm.observability.context import correlation_id
from gcwm.observability.metrics import GENESYS_RETRIES, observe_genesys_call, observe_rate_limit

log = structlog.get_logger(__name__)

DEFAULT_REQUESTS_PER_MINUTE = 300.0  # client.credentials.token.rate.per.minute (shared/genesys)


class GenesysTransport:
    """Sends one Genesys operation: waits its turn, authenticates, retries what is safe to retry."""

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: ClientCredentials,
        *,
        requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        http: httpx.AsyncClient | None = None,
        seed: int | None = None,
    ) -> None:
        self.endpoints = endpoints
        # How long one request may last before gcwm gives up on it (a create it sent and lost sight
        # of has ended by then, carried out or not).
        self.timeout_s = timeout_s
        self._own_http = http is None
        # This client talks to these two origins only: when neither is https (the emulator on
        # loopback) no TLS context is built (loading the CA store costs ~30 ms of every start).
        tls = any(url.startswith("https://") for url in (endpoints.api_url, endpoints.login_url))
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            headers={"User-Agent": "gcwm"},
            verify=tls,
        )
        self.tokens = TokenProvider(endpoints.login_url, credentials, self._http)
        self.pacer = Pacer(requests_per_minute)
        self.retry = retry or RetryPolicy()
        self._rng = random.Random(seed)
        self.calls = 0
        self.http429 = 0

    async def aclose(self) -> None:
        """Close the connection pool (only if this transport created it)."""
        if self._own_http:
            await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        resend_unknown: bool = True,
        names_fresh_objects: bool = False,
    ) -> httpx.Response:
        """Send and retry. `resend_unknown=False` for creates: an answer that may hide a
        committed write is raised to the caller, which looks the object up before sending again.
        `names_fresh_objects`: a 400 may clear by itself, so it is retried for `fresh_object_400_s`
        from the first one (never a broken organisation limit, which does not clear)."""
        op = operation or f"{method} {path}"
        hook = BackoffHook(self.retry, resend_unknown=resend_unknown, rng=self._rng)
        cause = ""
        window_ends: float | None = None
        async for attempt in stamina.retry_context(
            on=hook, attempts=self.retry.attempts, timeout=self.retry.budget_s
        ):
            with attempt:
                if attempt.num > 1:
                    # Counted here, when the call really goes out again, by what failed the last try.
                    GENESYS_RETRIES.labels(operation=op, cause=cause).inc()
                    log.info("genesys.retrying", operation=op, attempt=attempt.num, cause=cause)
                try:
                    return await self._send_authenticated(method, path, op, params, json)
                except GenesysError as exc:
                    cause = _cause(exc)
                    if names_fresh_objects and isinstance(exc, GenesysBadRequest) and not exc.limit_broken:
                        if window_ends is None:
                            window_ends = time.monotonic() + self.retry.fresh_object_400_s
                        exc.retry_until = window_ends
                    raise
        msg = f"{op}: retry loop ended without an answer"  # unreachable: stamina re-raises
        raise GenesysError(msg, operation=op)

    async def _send_authenticated(
        self, method: str, path: str, op: str, params: Mapping[str, Any] | None, body: Any
    ) -> httpx.Response:
        try:
            return await self._send(method, path, op, params, body)
        except GenesysAuthError as exc:
            if exc.status != 401 or exc.operation != op:
                raise
            # An expired or revoked token: log in again once, then try the call again.
            GENESYS_RETRIES.labels(operation=op, cause="token").inc()
            return await self._send(method, path, op, params, body)

    async def _send(
        self, method: str, path: str, op: str, params: Mapping[str, Any] | None, body: Any
    ) -> httpx.Response:
        bearer = await self.tokens.bearer()
        await self.pacer.wait_turn()
        try:
            await before_send()  # the caller's last word, after every wait (gcwm.genesys.send_guard)
        except BaseException:
            self.pacer.answered()  # not sent
            raise
        headers = {"Authorization": f"Bearer {bearer}"}
        if cid := correlation_id():
            headers["ININ-Correlation-Id"] = cid
        url = f"{self.endpoints.api_url}{path}"
        started = time.perf_counter()
        self.calls += 1
        try:
            response = await self._http.request(
                method, url, params=_query(params), json=body, headers=headers
            )
        except httpx.TransportError as exc:
            self.pacer.answered()
            observe_genesys_call(op, "none", time.perf_counter() - started)
            raise error_from_transport(op, exc) from exc
        except BaseException:
            self.pacer.answered()  # cancelled: no longer in flight
            raise
        elapsed = time.perf_counter() - started
        observe_genesys_call(op, str(response.status_code), elapsed)
        observe_rate_limit(response.headers)
        self.pacer.answered(response.headers)
        log.debug("genesys.answered", operation=op, status=response.status_code, ms=elapsed * 1000)
        if response.is_success:
            return response
        error = error_from_response(op, response)
        if response.status_code == 401:
            self.tokens.invalidate(bearer)
        if isinstance(error, GenesysRateLimited):
            self.http429 += 1
            self.pacer.block_for(error.retry_after_s)
        raise error


def _cause(exc: GenesysError) -> str:
    """A retry's cause as a metric label: the status that failed the attempt, or the transport error."""
    if exc.status:
        return str(exc.status)
    cause = exc.__cause__
    return type(cause).__name__ if cause is not None else type(exc).__name__


def _query(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}
