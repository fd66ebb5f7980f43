"""Web deployment configurations: the draft (`version` "DRAFT", path segment `draft`) and the
numbered versions published from it (shared/genesys/README.md, steps 3-5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from gcwm.emulator.bodies import configuration_settings, parse_json
from gcwm.emulator.defaults import fill_configuration
from gcwm.emulator.errors import not_found
from gcwm.emulator.routes.paging import cursor_page
from gcwm.emulator.runtime import Runtime, runtime_of
from gcwm.emulator.views import CONFIGS_PATH, version_view

router = APIRouter()
_ONE = CONFIGS_PATH + "/{configuration_id}"


@router.post(CONFIGS_PATH)
async def create_configuration(request: Request) -> JSONResponse:
    rt = runtime_of(request)
    settings = _settings(rt, await request.body())
    with rt.state.lock:
        config = rt.state.create_configuration(settings)
        return JSONResponse(version_view(config, config.draft, rt.state.clock(), rt.timings))


@router.get(CONFIGS_PATH)
async def list_configurations(
    request: Request,
    page_size: str | None = Query(None, alias="pageSize"),
    before: str | None = None,
    after: str | None = None,
    show_only_published: bool = Query(False, alias="showOnlyPublished"),
) -> JSONResponse:
    """One entry per configuration, always its draft ("View configuration drafts" in every SDK);
    `showOnlyPublished=true` keeps the configurations with a published version, still as drafts
    (shared/genesys/README.md, Corrections). Published versions are listed under .../versions."""
    rt = runtime_of(request)
    query = {"showOnlyPublished": "true"} if show_only_published else {}
    with rt.state.lock:
        now = rt.state.clock()
        entries = [(c.seq, c) for c in rt.state.configurations() if c.published or not show_only_published]
        listing = cursor_page(
            entries,
            lambda c: version_view(c, c.draft, now, rt.timings),
            CONFIGS_PATH,
            page_size,
            before,
            after,
            query,
        )
    return JSONResponse(listing)


@router.get(_ONE + "/versions")
async def list_versions(
    configuration_id: str,
    request: Request,
    page_size: str | None = Query(None, alias="pageSize"),
    before: str | None = None,
    after: str | None = None,
) -> JSONResponse:
    """The draft first, then every published version in order."""
    rt = runtime_of(request)
    path = f"{CONFIGS_PATH}/{configuration_id}/versions"
    with rt.state.lock:
        config = rt.state.configuration(configuration_id, reading=True)
        now = rt.state.clock()
        entries = list(enumerate([config.draft, *config.published]))
        listing = cursor_page(
            entries, lambda v: version_view(config, v, now, rt.timings), path, page_size, before, after, {}
        )
    return JSONResponse(listing)


@router.get(_ONE + "/versions/draft")
async def get_draft(configuration_id: str, request: Request) -> JSONResponse:
    rt = runtime_of(request)
    with rt.state.lock:
        config = rt.state.configuration(configuration_id, reading=True)
        return JSONResponse(version_view(config, config.draft, rt.state.clock(), rt.timings))


@router.put(_ONE + "/versions/draft")
async def replace_draft(configuration_id: str, request: Request) -> JSONResponse:
    rt = runtime_of(request)
    settings = _settings(rt, await request.body())
    with rt.state.lock:
        config = rt.state.replace_draft(configuration_id, settings)
        return JSONResponse(version_view(config, config.draft, rt.state.clock(), rt.timings))


@router.post(_ONE + "/versions/draft/publish")
async def publish_draft(configuration_id: str, request: Request) -> JSONResponse:
    rt = runtime_of(request)
    with rt.state.lock:
        rt.state.configuration(configuration_id)  # an unknown configuration is a 404 first
        rt.refuse_if_too_soon(
            f"publish:{configuration_id}",
            f"Configuration {configuration_id} cannot be published yet; retry the request",
            configuration_id,
        )
        version = rt.state.publish_draft(configuration_id)
        config = rt.state.configuration(configuration_id)
        return JSONResponse(version_view(config, version, rt.state.clock(), rt.timings))


@router.get(_ONE + "/versions/{version_id}")
async def get_version(configuration_id: str, version_id: str, request: Request) -> JSONResponse:
    rt = runtime_of(request)
    with rt.state.lock:
        config = rt.state.configuration(configuration_id, reading=True)
        version = config.version(version_id)
        if version is None:
            raise not_found(
                f"Version {version_id} of configuration {configuration_id} not found", configuration_id
            )
        return JSONResponse(version_view(config, version, rt.state.clock(), rt.timings))


@router.delete(_ONE, status_code=204)
async def delete_configuration(configuration_id: str, request: Request) -> Response:
    runtime_of(request).state.delete_configuration(configuration_id)
    return Response(status_code=204)


def _settings(rt: Runtime, raw: bytes) -> dict[str, Any]:
    """A create's or draft PUT's settings, filled as Genesys would with `server_defaults` on."""
    settings = configuration_settings(rt.subset, parse_json(raw))
    return fill_configuration(settings) if rt.config.server_defaults else settings
