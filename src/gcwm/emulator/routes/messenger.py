"""The emulator's stand-in of Messenger in the browser, outside the Platform API: the bootstrap script
a snippet loads, the one script that loads in turn, each deployment's `config.json`, and the
messaging WebSocket at `/v1`. Like `/emulator/*`, none of it is authenticated, rate-limited or
faulted (the pipeline only intercepts /api/v2 and the login)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response, WebSocket
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from gcwm.emulator.entities import Deployment, SupportedContentProfile
from gcwm.emulator.errors import ApiError
from gcwm.emulator.messenger_config import allowed_media, messenger_config_view
from gcwm.emulator.runtime import Runtime, runtime_of

router = APIRouter()
BOOTSTRAP_PATH = "/genesys-bootstrap/genesys.min.js"
UI_PATH = "/genesys-bootstrap/messenger-ui.js"
CONFIG_PATH = "/webdeployments/v1/deployments/{deployment_id}/config.json"
SOCKET_PATH = "/v1"
# config.json is fetched cross-origin by the embedding page, as from Genesys's api-cdn host.
_CORS = {"Access-Control-Allow-Origin": "*"}
_NO_STORE = {"Cache-Control": "no-store"}


def request_origin(request: HTTPConnection) -> str:
    """scheme://host[:port] of a request as its client addressed it (the Host header); http(s) even
    for a WebSocket."""
    scheme = {"ws": "http", "wss": "https"}.get(request.url.scheme, request.url.scheme)
    return f"{scheme}://{request.url.netloc}"


def socket_origin(origin: str) -> str:
    """The ws:// (or wss://) origin of an http:// (or https://) one."""
    scheme, rest = origin.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


@cache
def _script(name: str) -> bytes:
    return resources.files("gcwm.emulator").joinpath("standin", name).read_bytes()


def _javascript(name: str) -> Response:
    return Response(_script(name), media_type="application/javascript", headers=_NO_STORE)


@router.get(BOOTSTRAP_PATH)
async def bootstrap_script() -> Response:
    """The stand-in `genesys.min.js`: reads the snippet's queued command, loads messenger-ui.js."""
    return _javascript("genesys.min.js")


@router.get(UI_PATH)
async def messenger_ui_script() -> Response:
    """The stand-in Messenger UI: fetches config.json, opens the WebSocket, shows a launcher."""
    return _javascript("messenger-ui.js")


@router.get(CONFIG_PATH)
async def messenger_config(deployment_id: str, request: Request) -> JSONResponse:
    """A deployment's Messenger configuration, with both endpoints on the emulator's own origin.

    It also carries the version's `customI18nLabels` as the Platform API spells them, so the stand-in
    launcher shows the channel's own words (an emulator choice: `DeploymentConfig` names no labels;
    verify: what Genesys's config.json holds of them, https://developer.genesys.cloud/commdigital/digital/webmessaging/)."""
    rt = runtime_of(request)
    origin = request_origin(request)
    with rt.state.lock:
        try:
            deployment = rt.state.deployment(deployment_id, reading=True)
        except ApiError as exc:  # a 404 the page's script can read, so it can tell it from a block
            exc.headers.update(_CORS)
            raise
        config = rt.state.find_configuration(deployment.configuration_ref[0])
        body = messenger_config_view(
            deployment,
            config,
            now=rt.state.clock(),
            timings=rt.timings,
            api_endpoint=origin,
            messaging_endpoint=socket_origin(origin),
        )
        version = config.version(deployment.configuration_ref[1]) if config is not None else None
        labels = version.settings.get("customI18nLabels") if version is not None else None
    if labels:
        body["customI18nLabels"] = labels
    return JSONResponse(body, headers={**_CORS, **_NO_STORE})


@router.websocket(SOCKET_PATH)
async def messaging_socket(websocket: WebSocket) -> None:
    """Accept a socket for a known deployment, send one hello, and keep it open until the client
    leaves; what the client sends is read and not answered. Unknown deployments are refused.

    The hello carries `allowedMedia` as Genesys's session answer does (the transport SDK's
    SessionResponse): the inbound types of the deployment's supported content profile, or of the
    org's default profile when it names none."""
    rt = runtime_of(websocket)
    deployment_id = websocket.query_params.get("deploymentId", "")
    try:
        with rt.state.lock:
            deployment = rt.state.deployment(deployment_id, reading=True)
            media = allowed_media(profile_of(rt, deployment))
    except ApiError:
        await websocket.close(code=1008, reason=f"deployment {deployment_id!r} not found")
        return
    await websocket.accept()
    hello = {"type": "hello", "deploymentId": deployment_id, "connected": True, "allowedMedia": media}
    await websocket.send_json(hello)
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


def profile_of(rt: Runtime, deployment: Deployment) -> SupportedContentProfile | None:
    """The supported content profile that applies to a deployment: the one it names, else the
    org's default ([S15]: the default applies when a deployment names none)."""
    named = deployment.supported_content_id
    if named is not None:
        return rt.state.profiles.find(named)
    return rt.state.profiles.find(rt.state.profiles.default_id)
