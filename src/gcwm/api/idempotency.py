"""`Idempotency-Key` on every POST: a retried request gets the first answer again, never a second job.

The key is claimed (per API key) with a hash of the method, path and body before the work starts;
the answer is stored once it is known. The same key again with the same request replays that answer
(`Idempotent-Replayed: true`); with another request it is a 422 problem; while the first is still
being carried out, a 409. An answer of 5xx is not stored (the claim is dropped) so the client may
retry; 4xx answers are stored like successes, since sending the same request again changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header, Request, Response

from gcwm.api.problems import TYPE_BASE, Problem, from_gcwm_error
from gcwm.api.roles import Principal
from gcwm.api.runtime import ApiRuntime
from gcwm.errors import GcwmError
from gcwm.store import IdempotencyRecord

REPLAYED = "Idempotent-Replayed"
# Headers of the first answer a replay repeats (the body says the rest).
_KEPT_HEADERS = ("content-type", "location", "retry-after")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="send the same key with a retried request to get the first answer, not a second effect",
    ),
]


def request_hash(method: str, path: str, body: bytes) -> str:
    """What identifies a request for its idempotency key: method, path and body."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def idempotent(
    request: Request,
    runtime: ApiRuntime,
    principal: Principal,
    key: str | None,
    work: Callable[[], Awaitable[Response]],
) -> Response:
    """Carry out `work` at most once per (API key, idempotency key); replay its answer afterwards."""
    if key is None:
        return await work()
    path = request.url.path
    fingerprint = request_hash(request.method, path, await request.body())
    store = runtime.store

    def claim() -> IdempotencyRecord | None:
        with store.unit_of_work() as tx:
            return tx.idempotency.claim(
                principal.key_id, key, method=request.method, path=path, request_hash=fingerprint
            )

    earlier = await store.write(claim)
    if earlier is not None:
        return _answer_again(earlier, fingerprint)
    try:
        response = await _answer(work, path)
    except BaseException:
        await store.write(_release, runtime, principal.key_id, key)
        raise
    if response.status_code >= 500:
        await store.write(_release, runtime, principal.key_id, key)
        return response
    headers = {h: response.headers[h] for h in _KEPT_HEADERS if h in response.headers}
    body = bytes(response.body).decode("utf-8")

    def complete() -> None:
        with store.unit_of_work() as tx:
            tx.idempotency.complete(
                principal.key_id, key, status=response.status_code, headers=headers, body=body
            )

    await store.write(complete)
    return response


async def _answer(work: Callable[[], Awaitable[Response]], path: str) -> Response:
    """The work's answer, a refusal included: a 4xx is as much the first answer as a 202."""
    try:
        return await work()
    except Problem as problem:
        return problem.response(path)
    except GcwmError as exc:
        return from_gcwm_error(exc).response(path)


def _answer_again(earlier: IdempotencyRecord, fingerprint: str) -> Response:
    if earlier.request_hash != fingerprint:
        raise Problem(
            422,
            "Idempotency-Key already used",
            "this Idempotency-Key was sent before with another request (method, path or body); "
            "use a new key for a new request",
            type_=TYPE_BASE + "idempotency-key-reused",
        )
    if earlier.in_progress:
        raise Problem(
            409,
            "Request in progress",
            "the first request with this Idempotency-Key is still being carried out; retry shortly",
            type_=TYPE_BASE + "idempotency-in-progress",
            headers={"Retry-After": "1"},
        )
    return Response(
        content=earlier.body.encode("utf-8"),
        status_code=earlier.status,
        headers={**earlier.headers, REPLAYED: "true"},
    )


def _release(runtime: ApiRuntime, key_id: str, key: str) -> None:
    with runtime.store.unit_of_work() as tx:
        tx.idempotency.release(key_id, key)
