"""Provisioning steps over plain HTTP, shared by the emulator's tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.emulator.harness import wait_for

CONFIGS = "/api/v2/webdeployments/configurations"
DEPLOYMENTS = "/api/v2/webdeployments/deployments"
PROFILES = "/api/v2/conversations/messaging/supportedcontent"


def configuration_body(name: str = "support-web", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "languages": ["en-us"],
        "defaultLanguage": "en-us",
        "messenger": {"enabled": True, "launcherButton": {"visibility": "On"}},
        **extra,
    }


def flow_id(api: httpx.Client, name: str, flow_type: str = "inboundshortmessage") -> str:
    flows = api.get("/api/v2/flows", params={"type": flow_type, "name": name}).json()["entities"]
    assert len(flows) == 1, flows
    return str(flows[0]["id"])


def wait_until_active(api: httpx.Client, path: str) -> dict[str, Any]:
    def active() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(path).json()
        return body if body.get("status") == "Active" else None

    return wait_for(active, what=f"{path} to be Active")


def published_configuration(api: httpx.Client, name: str = "support-web") -> str:
    """Create a configuration, wait for its draft to be Active, publish it as version 1."""
    created = api.post(CONFIGS, json=configuration_body(name))
    assert created.status_code == 200, created.text
    config_id = str(created.json()["id"])
    wait_until_active(api, f"{CONFIGS}/{config_id}/versions/draft")
    published = api.post(f"{CONFIGS}/{config_id}/versions/draft/publish")
    assert published.status_code == 200, published.text
    return config_id


def deployment_body(config_id: str, flow: str, name: str = "support-web", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "configuration": {"id": config_id, "version": "1"},
        "flow": {"id": flow},
        "allowAllDomains": False,
        "allowedDomains": ["example.com"],
        **extra,
    }


def deployment(api: httpx.Client, name: str = "support-web") -> dict[str, Any]:
    """A deployment of a freshly published configuration, on the Support messaging flow."""
    config_id = published_configuration(api, name)
    body = deployment_body(config_id, flow_id(api, "Support Messaging Flow"), name)
    created = api.post(DEPLOYMENTS, json=body)
    assert created.status_code == 200, created.text
    result: dict[str, Any] = created.json()
    return result
