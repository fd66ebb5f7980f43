"""config.json is complete for Genesys's own client (DeploymentConfig.kt) and derived from the
deployment's configuration version and supported content profile."""

from __future__ import annotations

import json
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.emulator.harness import Emulator
from tests.emulator.messenger_shape import shape_problems
from tests.emulator.steps import (
    CONFIGS,
    DEPLOYMENTS,
    PROFILES,
    configuration_body,
    deployment_body,
    flow_id,
    wait_until_active,
)

RICH_MESSENGER: dict[str, Any] = {
    "enabled": True,
    "styles": {"primaryColor": "#1A2B3C"},
    "launcherButton": {"visibility": "OnDemand", "displayType": "Icon"},
    "fileUpload": {"modes": [{"fileTypes": ["image/png", "image/gif"], "maxFileSizeKB": 2048}, {}]},
    "apps": {
        "conversations": {
            "enabled": True,
            "showAgentTypingIndicator": True,
            "autoStart": {"enabled": True},
            "conversationDisconnect": {"enabled": True, "type": "ReadOnly"},
            "markdown": {"enabled": True},
        }
    },
}


def _deploy(api: httpx.Client, messenger: dict[str, Any], **extra: Any) -> str:
    """A deployment of a published configuration with these messenger settings; its id."""
    body = configuration_body(
        messenger=messenger,
        journeyEvents={"enabled": True},
        authenticationSettings={"enabled": True, "integrationId": "i-1", "allowSessionUpgrade": True},
    )
    config_id = api.post(CONFIGS, json=body).json()["id"]
    wait_until_active(api, f"{CONFIGS}/{config_id}/versions/draft")
    assert api.post(f"{CONFIGS}/{config_id}/versions/draft/publish").status_code == 200
    made = api.post(
        DEPLOYMENTS, json=deployment_body(config_id, flow_id(api, "Sales Messaging Flow"), **extra)
    )
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def _config_json(emulator: Emulator, deployment_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{emulator.url}/webdeployments/v1/deployments/{deployment_id}/config.json")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _hello(emulator: Emulator, deployment_id: str) -> dict[str, Any]:
    url = f"{emulator.url.replace('http://', 'ws://', 1)}/v1?deploymentId={deployment_id}"
    with connect(url, open_timeout=5) as socket:
        hello: dict[str, Any] = json.loads(socket.recv(timeout=5))
    return hello


def test_config_json_reflects_the_configuration_version(emulator: Emulator, api: httpx.Client) -> None:
    """Colour, launcher visibility, file upload modes (maxFileSizeKB 10240 when unset), the
    conversation settings the client reads, journey events and auth all come from the version."""
    body = _config_json(emulator, _deploy(api, RICH_MESSENGER))
    assert shape_problems(body) == []
    messenger = body["messenger"]
    assert messenger["enabled"] is True
    assert messenger["styles"] == {"primaryColor": "#1A2B3C"}
    assert messenger["launcherButton"] == {"visibility": "OnDemand"}
    assert messenger["fileUpload"] == {
        "modes": [
            {"fileTypes": ["image/png", "image/gif"], "maxFileSizeKB": 2048},
            {"fileTypes": [], "maxFileSizeKB": 10240},
        ]
    }
    conversations = messenger["apps"]["conversations"]
    assert conversations["messagingEndpoint"].startswith("ws://127.0.0.1:")
    assert {k: v for k, v in conversations.items() if k != "messagingEndpoint"} == {
        "showAgentTypingIndicator": True,
        "autoStart": {"enabled": True},
        "conversationDisconnect": {"enabled": True, "type": "ReadOnly"},
        "markdown": {"enabled": True},
    }
    assert body["journeyEvents"] == {"enabled": True}
    assert body["auth"] == {"enabled": True, "allowSessionUpgrade": True}


def test_attachments_follow_the_deployments_profile(emulator: Emulator, api: httpx.Client) -> None:
    """With supportedContent named, config.json says enableAttachments (so the client takes its rules
    from the session's allowedMedia) and the socket's hello carries the profile's inbound types."""
    media = {"allow": {"inbound": [{"type": "image/*"}, {"type": "application/pdf"}]}}
    profile = api.post(PROFILES, json={"name": "docs", "mediaTypes": media}).json()["id"]
    deployment_id = _deploy(api, {"enabled": True}, supportedContent={"id": profile})
    body = _config_json(emulator, deployment_id)
    assert shape_problems(body) == []
    assert body["messenger"]["fileUpload"] == {"modes": [], "enableAttachments": True}
    assert _hello(emulator, deployment_id)["allowedMedia"] == {
        "inbound": {"fileTypes": [{"type": "image/*"}, {"type": "application/pdf"}], "maxFileSizeKB": 25600}
    }


def test_enable_attachments_set_by_the_version_is_kept(emulator: Emulator, api: httpx.Client) -> None:
    """The version's own enableAttachments wins; a profile allowing nothing inbound allows no size."""
    profile = api.post(PROFILES, json={"name": "none", "mediaTypes": {"allow": {"inbound": []}}}).json()["id"]
    messenger = {"enabled": True, "fileUpload": {"enableAttachments": False}}
    deployment_id = _deploy(api, messenger, supportedContent={"id": profile})
    assert _config_json(emulator, deployment_id)["messenger"]["fileUpload"] == {
        "modes": [],
        "enableAttachments": False,
    }
    assert _hello(emulator, deployment_id)["allowedMedia"] == {
        "inbound": {"fileTypes": [], "maxFileSizeKB": 0}
    }


def test_config_json_is_complete_for_a_bare_version(emulator: Emulator, api: httpx.Client) -> None:
    """A version with no messenger at all still gives every required field (emulator's values)."""
    config_id = api.post(CONFIGS, json={"name": "bare"}).json()["id"]
    wait_until_active(api, f"{CONFIGS}/{config_id}/versions/draft")
    api.post(f"{CONFIGS}/{config_id}/versions/draft/publish")
    made = api.post(DEPLOYMENTS, json=deployment_body(config_id, flow_id(api, "VIP Messaging Flow"))).json()
    body = _config_json(emulator, made["id"])
    assert shape_problems(body) == []
    assert (body["languages"], body["defaultLanguage"], body["messenger"]["enabled"]) == ([], "", False)


def test_shape_checker_finds_what_the_client_requires() -> None:
    """The independent checker itself: missing required keys and wrong enums are reported."""
    assert shape_problems({"status": "Pending", "messenger": {"fileUpload": {"modes": [{}]}}}) == [
        "id: required",
        "version: required",
        "languages: required",
        "defaultLanguage: required",
        "apiEndpoint: required",
        "messenger.enabled: required",
        "messenger.apps: required",
        "messenger.styles: required",
        "messenger.launcherButton: required",
        "journeyEvents: required",
        "status: 'Pending' is not one of Active, Inactive",
        "auth: required",
        "messenger.fileUpload.modes[0].maxFileSizeKB: required",
    ]
