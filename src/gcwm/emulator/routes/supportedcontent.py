"""Supported content profiles: `/api/v2/conversations/messaging/supportedcontent` (operations and
models in api-supplement.json; rules and emulator choices in profiles.py)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from gcwm.emulator.bodies import parse_json, profile_reference_id, profile_settings
from gcwm.emulator.profiles import PROFILES_PATH
from gcwm.emulator.routes.paging import DEFAULT_PAGE_SIZE, numbered_page
from gcwm.emulator.runtime import runtime_of
from gcwm.emulator.views import profile_view

router = APIRouter()
_ONE = PROFILES_PATH + "/{profile_id}"
_DEFAULT = PROFILES_PATH + "/default"


@router.get(PROFILES_PATH)
async def list_profiles(
    request: Request,
    page_size: int = Query(DEFAULT_PAGE_SIZE, alias="pageSize"),
    page_number: int = Query(1, alias="pageNumber"),
) -> JSONResponse:
    """`SupportedContentListing`, paged by number like queues and flows, in creation order."""
    views = [profile_view(p) for p in runtime_of(request).state.profiles.all()]
    return JSONResponse(numbered_page(views, PROFILES_PATH, page_size, page_number, {}))


@router.post(PROFILES_PATH)
async def create_profile(request: Request) -> JSONResponse:
    rt = runtime_of(request)
    settings = profile_settings(rt.subset, parse_json(await request.body()))
    profile = rt.state.profiles.create(settings["name"], settings.get("mediaTypes"))
    return JSONResponse(profile_view(profile))


# The literal /default is declared before /{profile_id}, so that it is not taken for an id.
@router.get(_DEFAULT)
async def get_default_profile(request: Request) -> JSONResponse:
    return JSONResponse(profile_view(runtime_of(request).state.profiles.default()))


@router.put(_DEFAULT)
async def set_default_profile(request: Request) -> JSONResponse:
    """Body `SupportedContentReference {id}`; answers the profile that is now the default."""
    rt = runtime_of(request)
    profile_id = profile_reference_id(rt.subset, parse_json(await request.body()))
    return JSONResponse(profile_view(rt.state.profiles.set_default(profile_id)))


@router.get(_ONE)
async def get_profile(profile_id: str, request: Request) -> JSONResponse:
    return JSONResponse(profile_view(runtime_of(request).state.profiles.get(profile_id)))


@router.patch(_ONE)
async def patch_profile(profile_id: str, request: Request) -> JSONResponse:
    """Change the fields given (name, mediaTypes: the whole object); the others stay."""
    rt = runtime_of(request)
    changes = profile_settings(rt.subset, parse_json(await request.body()), partial=True)
    return JSONResponse(profile_view(rt.state.profiles.patch(profile_id, changes)))


@router.delete(_ONE, status_code=204)
async def delete_profile(profile_id: str, request: Request) -> Response:
    runtime_of(request).state.profiles.delete(profile_id)
    return Response(status_code=204)
