"""Routing queues (read-only seed data): `GET /api/v2/routing/queues[/{queue_id}]`."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from gcwm.emulator.routes.filters import kept_filters, list_param, name_matches
from gcwm.emulator.routes.paging import DEFAULT_PAGE_SIZE, numbered_page
from gcwm.emulator.runtime import runtime_of
from gcwm.emulator.views import queue_view

router = APIRouter()
_PATH = "/api/v2/routing/queues"


@router.get(_PATH)
async def list_queues(
    request: Request,
    page_size: int = Query(DEFAULT_PAGE_SIZE, alias="pageSize"),
    page_number: int = Query(1, alias="pageNumber"),
    name: str | None = None,
) -> JSONResponse:
    rt = runtime_of(request)
    ids = set(list_param(request.query_params, "id"))
    queues = sorted(rt.state.queues(), key=lambda q: q.name.casefold())
    chosen = [q for q in queues if name_matches(name, q.name) and (not ids or q.id in ids)]
    views = [queue_view(q, rt.state.org_id) for q in chosen]
    query = kept_filters(request.query_params, "name", "id")
    return JSONResponse(numbered_page(views, _PATH, page_size, page_number, query))


@router.get(_PATH + "/{queue_id}")
async def get_queue(queue_id: str, request: Request) -> JSONResponse:
    rt = runtime_of(request)
    return JSONResponse(queue_view(rt.state.queue(queue_id), rt.state.org_id))
