"""Organisation limits: served in web.deployments and web.messaging, and enforced on create."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.emulator.harness import Emulator
from tests.emulator.steps import CONFIGS, DEPLOYMENTS, deployment, deployment_body

LIMITS = "/api/v2/organizations/limits/namespaces"


def test_namespaces_are_listed(api: httpx.Client) -> None:
    """The namespace listing names web.deployments and web.messaging."""
    names = {n["name"] for n in api.get(LIMITS).json()["entities"]}
    assert names == {"web.deployments", "web.messaging"}


def test_web_deployments_limits_follow_the_config(start_emulator: Callable[..., Emulator]) -> None:
    """deployments.max and configuration.max are the configured maxima; defaults stay at 1000."""
    emu = start_emulator(deployments_max=3, configurations_max=4)
    with emu.client() as api:
        limits = api.get(f"{LIMITS}/web.deployments").json()["entities"]
        defaults = api.get(f"{LIMITS}/web.deployments/defaults").json()["entities"]
    assert {(x["key"], x["namespace"], x["value"]) for x in limits} == {
        ("deployments.max", "web.deployments", 3),
        ("configuration.max", "web.deployments", 4),
    }
    assert {x["key"]: x["value"] for x in defaults} == {"deployments.max": 1000, "configuration.max": 1000}


def test_web_messaging_limits_are_the_documented_values(api: httpx.Client) -> None:
    """web.messaging carries the values quoted in shared/genesys/README.md."""
    limits = {x["key"]: x["value"] for x in api.get(f"{LIMITS}/web.messaging").json()["entities"]}
    assert limits["messages.per.session.rate.per.second"] == 5
    assert limits["session.connections.max"] == 3
    assert limits["outbound.webmessaging.and.open.messaging.characters.max"] == 4000
    assert len(limits) == 10


def test_unknown_namespace_is_not_found(api: httpx.Client) -> None:
    """A namespace the emulator does not serve is a 404, defaults included."""
    assert api.get(f"{LIMITS}/no.such.namespace").status_code == 404
    assert api.get(f"{LIMITS}/routing/defaults").json()["code"] == "not.found"


def test_deployments_max_is_enforced_on_create(start_emulator: Callable[..., Emulator]) -> None:
    """With deployments_max=1 the second deployment is refused with limit.exceeded; after a
    deletion there is room again."""
    emu = start_emulator(deployments_max=1)
    with emu.client() as api:
        first = deployment(api, "first")
        body = deployment_body(first["configuration"]["id"], first["flow"]["id"], "second")
        refused = api.post(DEPLOYMENTS, json=body)
        assert refused.status_code == 400
        assert refused.json()["code"] == "limit.exceeded"
        assert refused.json()["limit"] == {
            "key": "deployments.max",
            "namespace": "web.deployments",
            "value": 1,
        }
        api.delete(f"{DEPLOYMENTS}/{first['id']}")
        assert api.post(DEPLOYMENTS, json=body).status_code == 200


def test_configurations_max_is_enforced_on_create(start_emulator: Callable[..., Emulator]) -> None:
    """configuration.max refuses one configuration too many."""
    emu = start_emulator(configurations_max=2)
    with emu.client() as api:
        assert [api.post(CONFIGS, json={"name": f"c{i}"}).status_code for i in range(3)] == [200, 200, 400]


def test_limits_are_changed_at_run_time_through_the_admin_api(emulator: Emulator, api: httpx.Client) -> None:
    """`PUT /emulator/limits` changes what the limits API says and what creates meet, at once."""
    changed = emulator.admin("PUT", "limits", {"web.deployments.deployments.max": 0})
    assert changed["web.deployments.deployments.max"] == 0
    listing = api.get("/api/v2/organizations/limits/namespaces/web.deployments").json()
    assert {"key": "deployments.max", "namespace": "web.deployments", "value": 0} in listing["entities"]
    refused = httpx.put(f"{emulator.url}/emulator/limits", json={"web.deployments.nope": 1}, timeout=10)
    assert refused.status_code == 400 and "unknown limit" in refused.text
