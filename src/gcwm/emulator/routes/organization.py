"""Who the token belongs to (`/api/v2/tokens/me`) and the organisation's limits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gcwm.emulator.errors import not_found
from gcwm.emulator.runtime import runtime_of
from gcwm.emulator.state import OrgLimits

router = APIRouter()
_LIMITS = "/api/v2/organizations/limits/namespaces"
# web.messaging values from the limits page as quoted in shared/genesys/README.md ("Limits").
WEB_MESSAGING = {
    "messages.per.session.rate.per.second": 5,
    "requests.per.connection.rate.per.minute": 60,
    "configure.per.session.rate.per.minute": 60,
    "connections.rate.per.minute": 1000,
    "get.history.rate.per.minute": 10,
    "health.check.per.connection.rate.per.minute": 2,
    "session.connections.max": 3,
    "metadata.custom.attributes.bytes.max": 2048,
    "history.retention.ephemeral.contact.days.max": 15,
    "outbound.webmessaging.and.open.messaging.characters.max": 4000,
}


@router.get("/api/v2/tokens/me")
async def token_info(request: Request) -> JSONResponse:
    rt = runtime_of(request)
    org = {"id": rt.state.org_id, "name": rt.config.org_name}
    client = {"id": rt.config.client_id, "name": f"{rt.config.client_id} (emulated OAuth client)"}
    return JSONResponse({"organization": org, "homeOrganization": org, "OAuthClient": client})


@router.get(_LIMITS)
async def namespaces(request: Request) -> JSONResponse:
    # The SDK types this answer as a plain object; Genesys's exact shape is not in the subset.
    names = sorted(_namespaces(runtime_of(request).state.limits))
    entities = [{"name": name} for name in names]
    return JSONResponse({"entities": entities, "pageSize": len(names), "pageNumber": 1, "total": len(names)})


@router.get(_LIMITS + "/{namespace}")
async def namespace_limits(namespace: str, request: Request) -> JSONResponse:
    return JSONResponse(_listing(_namespaces(runtime_of(request).state.limits), namespace))


@router.get(_LIMITS + "/{namespace}/defaults")
async def namespace_defaults(namespace: str) -> JSONResponse:
    # Emulator choice: the defaults are the emulator's default settings (Genesys's are unconfirmed).
    return JSONResponse(_listing(_namespaces(OrgLimits()), namespace))


def _namespaces(limits: OrgLimits) -> dict[str, dict[str, int]]:
    """The namespaces served; the README names web.deployments' keys but not their values."""
    return {"web.deployments": limits.as_keys(), "web.messaging": dict(WEB_MESSAGING)}


def _listing(namespaces: dict[str, dict[str, int]], name: str) -> dict[str, Any]:
    limits = namespaces.get(name)
    if limits is None:
        # Emulator choice: namespaces it does not serve answer 404, even those in the SDK's enum.
        raise not_found(f"Limits namespace {name} not found", name)
    return {"entities": [{"key": k, "namespace": name, "value": v} for k, v in limits.items()]}
