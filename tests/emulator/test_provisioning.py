"""The whole provisioning call sequence, as gcwm and the Terraform provider make it."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.emulator.harness import Emulator, wait_for
from tests.emulator.steps import (
    CONFIGS,
    DEPLOYMENTS,
    configuration_body,
    deployment,
    deployment_body,
    flow_id,
    published_configuration,
    wait_until_active,
)


def test_provisioning_sequence_from_queue_lookup_to_removal(api: httpx.Client) -> None:
    """Queue and flow lookups, configuration draft -> publish, deployment -> Active, then removal."""
    queues = api.get("/api/v2/routing/queues", params={"name": "support"}).json()
    assert [q["name"] for q in queues["entities"]] == ["Support"]
    queue_id = queues["entities"][0]["id"]
    assert api.get(f"/api/v2/routing/queues/{queue_id}").json()["name"] == "Support"
    flow = flow_id(api, "Support Messaging Flow")
    assert api.get(f"/api/v2/flows/{flow}").json()["publishedVersion"]["id"]

    created = api.post(CONFIGS, json=configuration_body("support-web")).json()
    assert (created["version"], created["status"]) == ("DRAFT", "Pending")
    config_id = created["id"]
    wait_until_active(api, f"{CONFIGS}/{config_id}/versions/draft")
    published = api.post(f"{CONFIGS}/{config_id}/versions/draft/publish").json()
    assert (published["version"], published["status"]) == ("1", "Active")
    assert "datePublished" in published

    made = api.post(DEPLOYMENTS, json=deployment_body(config_id, flow, "support-web"))
    assert made.status_code == 200, made.text
    dep = made.json()
    assert dep["status"] == "Pending"
    assert dep["id"] in dep["snippet"]
    assert "https://apps.mypurecloud.com/genesys-bootstrap/genesys.min.js" in dep["snippet"]
    assert "environment: 'prod'" in dep["snippet"]
    assert dep["configuration"] == {
        "id": config_id,
        "name": "support-web",
        "version": "1",
        "selfUri": f"{CONFIGS}/{config_id}/versions/1",
    }
    assert dep["flow"]["id"] == flow
    assert dep["selfUri"] == f"{DEPLOYMENTS}/{dep['id']}"
    wait_until_active(api, f"{DEPLOYMENTS}/{dep['id']}")

    listed = api.get(DEPLOYMENTS).json()
    assert [d["id"] for d in listed["entities"]] == [dep["id"]]
    assert listed["total"] == 1

    assert api.delete(f"{DEPLOYMENTS}/{dep['id']}").status_code == 204
    assert api.delete(f"{CONFIGS}/{config_id}").status_code == 204
    assert api.get(f"{CONFIGS}/{config_id}/versions/draft").json()["status"] == "Deleting"
    wait_for(lambda: api.get(f"{DEPLOYMENTS}/{dep['id']}").status_code == 404, what="deployment 404")
    gone = wait_for(
        lambda: (r := api.get(f"{CONFIGS}/{config_id}/versions/draft")).status_code == 404 and r,
        what="configuration 404",
    )
    assert gone.json()["code"] == "not.found"
    assert config_id in gone.json()["message"]


def test_draft_cannot_be_published_while_pending(start_emulator: Callable[..., Emulator]) -> None:
    """Publishing a Pending draft is a 400; once Active it works."""
    emu = start_emulator(config_activation_delay_s=30)
    with emu.client() as api:
        config_id = api.post(CONFIGS, json=configuration_body()).json()["id"]
        refused = api.post(f"{CONFIGS}/{config_id}/versions/draft/publish")
    assert refused.status_code == 400
    assert "Pending" in refused.json()["message"]


def test_editing_the_draft_makes_it_pending_and_publishes_version_two(api: httpx.Client) -> None:
    """PUT draft -> Pending -> Active -> publish "2"; versions lists the draft and both versions."""
    config_id = published_configuration(api)
    edited = api.put(f"{CONFIGS}/{config_id}/versions/draft", json=configuration_body("support-web-2"))
    assert edited.status_code == 200
    assert (edited.json()["status"], edited.json()["name"]) == ("Pending", "support-web-2")
    wait_until_active(api, f"{CONFIGS}/{config_id}/versions/draft")
    second = api.post(f"{CONFIGS}/{config_id}/versions/draft/publish").json()
    assert second["version"] == "2"
    versions = api.get(f"{CONFIGS}/{config_id}/versions").json()
    assert [v["version"] for v in versions["entities"]] == ["DRAFT", "1", "2"]
    assert api.get(f"{CONFIGS}/{config_id}/versions/1").json()["name"] == "support-web"
    assert api.get(f"{CONFIGS}/{config_id}/versions/2").json()["name"] == "support-web-2"
    missing = api.get(f"{CONFIGS}/{config_id}/versions/3")
    assert missing.status_code == 404


def test_configuration_listing_shows_drafts_even_when_only_published_ones_are_asked(
    api: httpx.Client,
) -> None:
    """The listing holds drafts ("View configuration drafts"); showOnlyPublished=true keeps the
    configurations with a published version, still as their drafts; the versions listing is where
    published versions show (README, Corrections)."""
    published = published_configuration(api, "published")
    edited = {**configuration_body("published"), "description": "edited after publishing"}
    assert api.put(f"{CONFIGS}/{published}/versions/draft", json=edited).status_code == 200
    draft_only = api.post(CONFIGS, json=configuration_body("draft-only")).json()["id"]
    everything = api.get(CONFIGS).json()
    assert [(c["id"], c["version"]) for c in everything["entities"]] == [
        (published, "DRAFT"),
        (draft_only, "DRAFT"),
    ]
    only = api.get(CONFIGS, params={"showOnlyPublished": "true"}).json()
    assert [(c["id"], c["version"]) for c in only["entities"]] == [(published, "DRAFT")]
    assert only["entities"][0]["description"] == "edited after publishing"
    assert "datePublished" not in only["entities"][0]
    assert "showOnlyPublished=true" in only["selfUri"]
    versions = api.get(f"{CONFIGS}/{published}/versions").json()["entities"]
    assert [v["version"] for v in versions] == ["DRAFT", "1"]
    assert "description" not in versions[1]


def test_updating_a_deployment_makes_it_pending_again(api: httpx.Client) -> None:
    """PUT the whole object (read-only fields echoed back) -> Pending, then Active again."""
    dep = deployment(api)
    active = wait_until_active(api, f"{DEPLOYMENTS}/{dep['id']}")
    changed = {**active, "allowedDomains": ["example.com", "*.example.org"], "description": "edited"}
    updated = api.put(f"{DEPLOYMENTS}/{dep['id']}", json=changed)
    assert updated.status_code == 200, updated.text
    assert updated.json()["status"] == "Pending"
    assert updated.json()["allowedDomains"] == ["example.com", "*.example.org"]
    final = wait_until_active(api, f"{DEPLOYMENTS}/{dep['id']}")
    assert final["description"] == "edited"
    assert final["dateCreated"] == active["dateCreated"]


def test_configuration_in_use_cannot_be_deleted(api: httpx.Client) -> None:
    """DELETE of a configuration a live deployment uses is 409 conflict; after the deployment, 204."""
    dep = deployment(api)
    config_id = dep["configuration"]["id"]
    refused = api.delete(f"{CONFIGS}/{config_id}")
    assert refused.status_code == 409
    assert refused.json()["code"] == "conflict"
    assert api.delete(f"{DEPLOYMENTS}/{dep['id']}").status_code == 204
    assert api.delete(f"{CONFIGS}/{config_id}").status_code == 204


def test_deleting_status_shows_until_the_object_is_gone(start_emulator: Callable[..., Emulator]) -> None:
    """Between DELETE and 404 a deployment reads back with status Deleting; a second DELETE is 204."""
    emu = start_emulator(deletion_delay_s=30)
    with emu.client() as api:
        dep = deployment(api)
        assert api.delete(f"{DEPLOYMENTS}/{dep['id']}").status_code == 204
        assert api.get(f"{DEPLOYMENTS}/{dep['id']}").json()["status"] == "Deleting"
        assert api.delete(f"{DEPLOYMENTS}/{dep['id']}").status_code == 204
        assert emu.admin("GET", "stats")["deployments"] == 0


def test_unknown_ids_answer_not_found_naming_the_id(api: httpx.Client) -> None:
    """404 not.found with the id in the message, for every kind of object."""
    for path in (
        "/api/v2/routing/queues/nope-1",
        "/api/v2/flows/nope-2",
        f"{CONFIGS}/nope-3/versions/draft",
        f"{DEPLOYMENTS}/nope-4",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not.found"
        assert path.split("/")[5 if "versions" in path else -1] in response.json()["message"]


def test_unknown_api_path_is_an_error_body_404(api: httpx.Client) -> None:
    """A path the API does not serve answers 404 not.found in an ErrorBody."""
    response = api.get("/api/v2/no/such/thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not.found"


def test_just_created_objects_read_as_404_for_a_while(start_emulator: Callable[..., Emulator]) -> None:
    """read_after_write_404_s: GET by id is 404 right after create, then the object appears."""
    emu = start_emulator(read_after_write_404_s=0.3)
    with emu.client() as api:
        config_id = api.post(CONFIGS, json=configuration_body()).json()["id"]
        assert api.get(f"{CONFIGS}/{config_id}/versions/draft").status_code == 404
        wait_for(lambda: api.get(f"{CONFIGS}/{config_id}/versions/draft").status_code == 200, what="draft")


def test_duplicate_names_are_allowed(api: httpx.Client) -> None:
    """Two configurations and two deployments may share a name (emulator choice)."""
    first = deployment(api, "same")
    second = deployment(api, "same")
    assert first["id"] != second["id"]
    names = [d["name"] for d in api.get(DEPLOYMENTS).json()["entities"]]
    assert names == ["same", "same"]


def test_snippet_uses_the_region_environment(start_emulator: Callable[..., Emulator]) -> None:
    """region_host picks the apps. host and the environment (mypurecloud.de -> prod-euc1)."""
    emu = start_emulator(region_host="mypurecloud.de")
    with emu.client() as api:
        snippet = deployment(api)["snippet"]
    assert "https://apps.mypurecloud.de/genesys-bootstrap/genesys.min.js" in snippet
    assert "environment: 'prod-euc1'" in snippet


def test_active_configuration_on_a_deployment(api: httpx.Client) -> None:
    """GET .../deployments/{id}/configurations answers the deployment and its configuration version."""
    dep = deployment(api)
    body = api.get(f"{DEPLOYMENTS}/{dep['id']}/configurations").json()
    assert body["deployment"]["id"] == dep["id"]
    assert body["configurationVersion"]["version"] == "1"
