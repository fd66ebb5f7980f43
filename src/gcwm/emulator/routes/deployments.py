"""Web deployments: create (Pending, then Active), read, list with cursors, replace, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from gcwm.emulator.bodies import deployment_settings, parse_json
from gcwm.emulator.defaults import normalise_deployment
from gcwm.emulator.entities import Deployment
from gcwm.emulator.routes.filters import list_param
from gcwm.emulator.routes.messenger import request_origin
from gcwm.emulator.routes.paging import cursor_page
from gcwm.emulator.runtime import Runtime, runtime_of
from gcwm.emulator.views import DEPLOYMENTS_PATH, deployment_view, version_view

router = APIRouter()
_ONE = DEPLOYMENTS_PATH + "/{deployment_id}"


@router.post(DEPLOYMENTS_PATH)
async def create_deployment(request: Request) -> JSONResponse:
    rt = runtime_of(request)
    settings = _settings(rt, await request.body())
    with rt.state.lock:
        config_id, version_id = (str(settings["configuration"][k]) for k in ("id", "version"))
        config = rt.state.find_configuration(config_id)
        version = config.version(version_id) if config is not None else None
        if version is not None and version.version != "DRAFT":  # it names a published version
            rt.refuse_if_too_soon(
                f"deploy:{config_id}:{version_id}",
                f"Version {version_id} of configuration {config_id} is not yet available to "
                "deployments; retry the request",
                config_id,
            )
        return JSONResponse(_view(rt, request, rt.state.create_deployment(settings)))


@router.get(DEPLOYMENTS_PATH)
async def list_deployments(
    request: Request,
    page_size: str | None = Query(None, alias="pageSize"),
    before: str | None = None,
    after: str | None = None,
) -> JSONResponse:
    """`ExpandableWebDeploymentEntityListing`; `expand=configuration` embeds the whole version."""
    rt = runtime_of(request)
    expand = "configuration" in list_param(request.query_params, "expand")
    query = {"expand": "configuration"} if expand else {}
    with rt.state.lock:
        entries = [(d.seq, d) for d in rt.state.deployments()]
        listing = cursor_page(
            entries,
            lambda d: _view(rt, request, d, expand=expand),
            DEPLOYMENTS_PATH,
            page_size,
            before,
            after,
            query,
        )
    return JSONResponse(listing)


@router.get(_ONE)
async def get_deployment(deployment_id: str, request: Request) -> JSONResponse:
    rt = runtime_of(request)
    with rt.state.lock:
        return JSONResponse(_view(rt, request, rt.state.deployment(deployment_id, reading=True)))


@router.get(_ONE + "/configurations")
async def get_active_configuration(deployment_id: str, request: Request) -> JSONResponse:
    """`WebDeploymentActiveConfigurationOnDeployment`: the deployment and the version it uses."""
    rt = runtime_of(request)
    with rt.state.lock:
        deployment = rt.state.deployment(deployment_id, reading=True)
        body: dict[str, Any] = {"deployment": _view(rt, request, deployment)}
        config_id, version_id = deployment.configuration_ref
        config = rt.state.find_configuration(config_id)
        version = config.version(version_id) if config is not None else None
        if config is not None and version is not None:
            body["configurationVersion"] = version_view(config, version, rt.state.clock(), rt.timings)
        return JSONResponse(body)


@router.put(_ONE)
async def replace_deployment(deployment_id: str, request: Request) -> JSONResponse:
    """The whole object, as the Terraform provider sends it (status included, and ignored)."""
    rt = runtime_of(request)
    settings = _settings(rt, await request.body())
    with rt.state.lock:
        return JSONResponse(_view(rt, request, rt.state.replace_deployment(deployment_id, settings)))


@router.delete(_ONE, status_code=204)
async def delete_deployment(deployment_id: str, request: Request) -> Response:
    runtime_of(request).state.delete_deployment(deployment_id)
    return Response(status_code=204)


def _settings(rt: Runtime, raw: bytes) -> dict[str, Any]:
    settings = deployment_settings(rt.subset, parse_json(raw))
    return normalise_deployment(settings) if rt.config.server_defaults else settings


def _view(rt: Runtime, request: Request, deployment: Deployment, *, expand: bool = False) -> dict[str, Any]:
    config_id, _ = deployment.configuration_ref
    config = rt.state.find_configuration(config_id)
    flow = rt.state.find_flow(str(deployment.settings["flow"]["id"]))
    profile_id = deployment.supported_content_id
    return deployment_view(
        deployment,
        config,
        flow,
        profile=rt.state.profiles.find(profile_id) if profile_id is not None else None,
        now=rt.state.clock(),
        timings=rt.timings,
        region_host=rt.config.region_host,
        messenger_origin=request_origin(request) if rt.config.self_hosted_messenger else None,
        expand_configuration=expand,
    )
