"""/v1/keys: an admin lists API keys and revokes them. Keys are made with `gcwm keys create` only: a
key made over HTTP would have to be kept for an Idempotency-Key replay, and a key is never stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from gcwm.api.auth import Principal, Role, require
from gcwm.api.idempotency import IdempotencyKey, idempotent
from gcwm.api.keys import key_document, list_keys, revoke_key
from gcwm.api.runtime import ApiRuntime, runtime_of
from gcwm.api.v1.models import ApiKeyDocument, ApiKeyList, problems

router = APIRouter(tags=["keys"])

Runtime = Annotated[ApiRuntime, Depends(runtime_of)]
Admin = Annotated[Principal, Depends(require(Role.admin))]


@router.get("/keys", response_model=ApiKeyList, responses=problems())
def keys(runtime: Runtime, _: Admin) -> dict[str, Any]:
    """Every key: id, name, role, who made it and when, and when it was revoked. Never a key."""
    return {"keys": [key_document(k) for k in list_keys(runtime.store)]}


@router.post("/keys/{key_id}/revoke", response_model=ApiKeyDocument, responses=problems(404))
async def revoke(
    key_id: str, request: Request, runtime: Runtime, principal: Admin, key: IdempotencyKey = None
) -> Response:
    """Revoke a key at once (and end the dashboard sessions opened with it); revoking again changes
    nothing. The revocation is an audit entry with this key's id as the actor."""

    async def work() -> Response:
        # The evidence writer comes with the service: the same signing key as every other entry.
        evidence = runtime.service.evidence
        revoked = await runtime.store.write(revoke_key, runtime.store, evidence, key_id)
        return JSONResponse(key_document(revoked))

    return await idempotent(request, runtime, principal, key, work)
