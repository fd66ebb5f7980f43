"""The emulator's stand-in of Messenger in the browser: the snippet's origin, the two scripts,
config.json and the messaging WebSocket (emulator choices in gcwm/emulator/__init__.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.emulator.harness import Emulator
from tests.emulator.messenger_shape import shape_problems
from tests.emulator.steps import DEPLOYMENTS, deployment, wait_until_active

BOOTSTRAP = "/genesys-bootstrap/genesys.min.js"
UI = "/genesys-bootstrap/messenger-ui.js"


def config_json(deployment_id: str) -> str:
    return f"/webdeployments/v1/deployments/{deployment_id}/config.json"


@pytest.fixture
def self_hosted(start_emulator: Callable[..., Emulator]) -> Emulator:
    """An emulator whose snippets load Messenger from the emulator itself."""
    return start_emulator(self_hosted_messenger=True)


@pytest.fixture
def self_hosted_api(self_hosted: Emulator) -> Iterator[httpx.Client]:
    with self_hosted.client() as client:
        yield client


def test_snippet_loads_the_bootstrap_from_the_emulator_origin_when_self_hosted(
    self_hosted: Emulator, self_hosted_api: httpx.Client
) -> None:
    """With self_hosted_messenger, create, get and list answer a snippet pointing at the emulator."""
    made = deployment(self_hosted_api)
    expected = f"'{self_hosted.url}{BOOTSTRAP}'"
    assert expected in made["snippet"]
    assert "apps.mypurecloud.com" not in made["snippet"]
    assert "environment: 'prod'" in made["snippet"]
    assert f"deploymentId: '{made['id']}'" in made["snippet"]
    assert expected in self_hosted_api.get(f"{DEPLOYMENTS}/{made['id']}").json()["snippet"]
    listed = self_hosted_api.get(DEPLOYMENTS).json()["entities"]
    assert [expected in d["snippet"] for d in listed] == [True]


def test_snippet_origin_is_the_one_the_request_used(
    self_hosted: Emulator, self_hosted_api: httpx.Client
) -> None:
    """The snippet names the origin the client addressed (its Host header), e.g. localhost:PORT."""
    made = deployment(self_hosted_api)
    port = self_hosted.server.port
    seen = self_hosted_api.get(f"{DEPLOYMENTS}/{made['id']}", headers={"Host": f"localhost:{port}"})
    assert f"'http://localhost:{port}{BOOTSTRAP}'" in seen.json()["snippet"]


def test_snippet_loads_the_bootstrap_from_genesys_cdn_by_default(
    emulator: Emulator, api: httpx.Client
) -> None:
    """Without the flag the snippet stays Genesys's: https://apps.{region_host}/genesys-bootstrap/..."""
    made = deployment(api)
    assert f"'https://apps.mypurecloud.com{BOOTSTRAP}'" in made["snippet"]
    assert emulator.url not in made["snippet"]


@pytest.mark.parametrize("path", [BOOTSTRAP, UI])
def test_stand_in_scripts_are_javascript_served_without_auth(emulator: Emulator, path: str) -> None:
    """Both scripts answer application/javascript with no token, whatever the flag, and use no eval."""
    answer = httpx.get(f"{emulator.url}{path}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/javascript"
    assert answer.headers["cache-control"] == "no-store"
    assert "eval(" not in answer.text and "innerHTML" not in answer.text


def test_bootstrap_loads_messenger_ui_from_its_own_origin(emulator: Emulator) -> None:
    """genesys.min.js reads the queued Genesys command and inserts messenger-ui.js from its own origin."""
    script = httpx.get(f"{emulator.url}{BOOTSTRAP}").text
    assert "document.currentScript" in script and "window._genesysJs" in script
    assert 'origin + "/genesys-bootstrap/messenger-ui.js"' in script


def test_config_json_points_both_endpoints_at_the_emulator(emulator: Emulator, api: httpx.Client) -> None:
    """config.json: the configuration version, apiEndpoint and the ws:// messagingEndpoint, and the
    emulator's values where the version says nothing; readable cross-origin; Active once the
    deployment is (Inactive otherwise: see the test below)."""
    made = deployment(api)
    wait_until_active(api, f"{DEPLOYMENTS}/{made['id']}")
    answer = httpx.get(f"{emulator.url}{config_json(made['id'])}")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    body = answer.json()
    ws_origin = emulator.url.replace("http://", "ws://", 1)
    assert body == {
        "id": made["configuration"]["id"],
        "version": "1",
        "languages": ["en-us"],
        "defaultLanguage": "en-us",
        "apiEndpoint": emulator.url,
        "messenger": {
            "enabled": True,
            "apps": {"conversations": {"messagingEndpoint": ws_origin}},
            "styles": {"primaryColor": "#ff4f1f"},
            "launcherButton": {"visibility": "On"},
            "fileUpload": {"modes": []},
        },
        "journeyEvents": {"enabled": False},
        "status": "Active",
        "auth": {"enabled": False, "allowSessionUpgrade": False},
    }
    assert shape_problems(body) == []


def test_config_json_says_inactive_for_a_deployment_that_is_not_active(
    emulator: Emulator, api: httpx.Client
) -> None:
    """A deployment Genesys put in status Error serves config.json with status Inactive (the only
    other value), whatever the clock says: no race with the Pending period."""
    made = deployment(api)
    wait_until_active(api, f"{DEPLOYMENTS}/{made['id']}")
    assert httpx.post(f"{emulator.url}/emulator/deployments/{made['id']}/error").status_code == 200
    assert httpx.get(f"{emulator.url}{config_json(made['id'])}").json()["status"] == "Inactive"


def test_config_json_of_an_unknown_deployment_is_404(emulator: Emulator) -> None:
    """An unknown deployment: 404 ErrorBody, still readable cross-origin."""
    answer = httpx.get(f"{emulator.url}{config_json('no-such-deployment')}")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not.found"
    assert answer.headers["access-control-allow-origin"] == "*"


def test_messenger_paths_are_outside_auth_and_faults(emulator: Emulator, api: httpx.Client) -> None:
    """Fault rules and random faults only hit the API; Messenger's paths answer regardless."""
    made = deployment(api)
    emulator.admin("PUT", "faults", {"fault_5xx_rate": 1.0})
    emulator.admin("POST", "faults/rules", {"method": "*", "path": ".*", "fault": "http503", "count": 5})
    for path in (BOOTSTRAP, UI, config_json(made["id"])):
        assert httpx.get(f"{emulator.url}{path}").status_code == 200, path


def _socket_url(emulator: Emulator, deployment_id: str) -> str:
    return f"{emulator.url.replace('http://', 'ws://', 1)}/v1?deploymentId={deployment_id}"


def test_websocket_sends_one_hello_and_stays_open(emulator: Emulator, api: httpx.Client) -> None:
    """/v1?deploymentId=...: one JSON hello (with the session's allowedMedia); after the client
    speaks, the socket is still open."""
    made = deployment(api)
    with connect(_socket_url(emulator, made["id"]), open_timeout=5) as socket:
        hello: dict[str, Any] = json.loads(socket.recv(timeout=5))
        assert hello == {
            "type": "hello",
            "deploymentId": made["id"],
            "connected": True,
            # The org's default profile applies: every inbound type, up to 25 MB ([S15]).
            "allowedMedia": {"inbound": {"fileTypes": [{"type": "*/*"}], "maxFileSizeKB": 25600}},
        }
        socket.send(json.dumps({"action": "echo"}))
        assert socket.ping().wait(timeout=5)


def test_websocket_of_an_unknown_deployment_is_refused(emulator: Emulator) -> None:
    """An unknown deploymentId: the handshake is refused (HTTP 403)."""
    with pytest.raises(InvalidStatus) as refused:
        connect(_socket_url(emulator, "no-such-deployment"), open_timeout=5)
    assert refused.value.response.status_code == 403
