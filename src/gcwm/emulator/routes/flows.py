"""Architect flows (read-only seed data): `GET /api/v2/flows[/{flowId}]`.

The `type` filter is lower-case on the wire (`inboundshortmessage`) while the Flow model's `type`
is upper-case (`INBOUNDSHORTMESSAGE`); the match ignores case."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from gcwm.emulator.routes.filters import kept_filters, list_param, name_matches
from gcwm.emulator.routes.paging import DEFAULT_PAGE_SIZE, numbered_page
from gcwm.emulator.runtime import runtime_of
from gcwm.emulator.views import flow_view

router = APIRouter()
_PATH = "/api/v2/flows"


@router.get(_PATH)
async def list_flows(
    request: Request,
    page_size: int = Query(DEFAULT_PAGE_SIZE, alias="pageSize"),
    page_number: int = Query(1, alias="pageNumber"),
    name: str | None = None,
    deleted: bool = False,
) -> JSONResponse:
    rt = runtime_of(request)
    types = {t.upper() for t in list_param(request.query_params, "type")}
    ids = set(list_param(request.query_params, "id"))
    flows = sorted(rt.state.flows(), key=lambda f: f.name.casefold())
    chosen = [
        f
        for f in flows
        if name_matches(name, f.name) and (not types or f.type in types) and (not ids or f.id in ids)
    ]
    views = [flow_view(f, rt.state.org_id) for f in chosen] if not deleted else []
    query = kept_filters(request.query_params, "type", "name", "id")
    return JSONResponse(numbered_page(views, _PATH, page_size, page_number, query))


@router.get(_PATH + "/{flow_id}")
async def get_flow(flow_id: str, request: Request) -> JSONResponse:
    rt = runtime_of(request)
    return JSONResponse(flow_view(rt.state.flow(flow_id), rt.state.org_id))
