"""Queue and flow lookups, and paging of every listing."""

from __future__ import annotations

import httpx

from tests.emulator.steps import CONFIGS, DEPLOYMENTS, deployment_body, flow_id, published_configuration

QUEUES = "/api/v2/routing/queues"


def test_queue_name_filter_is_exact_and_case_insensitive(api: httpx.Client) -> None:
    """name=support finds "Support" only, not "Technical Support"."""
    assert [q["name"] for q in api.get(QUEUES, params={"name": "SUPPORT"}).json()["entities"]] == ["Support"]
    assert api.get(QUEUES, params={"name": "Nope"}).json()["entities"] == []


def test_queue_name_filter_takes_a_trailing_wildcard(api: httpx.Client) -> None:
    """name=t* matches every queue whose name starts with T (any case)."""
    names = [q["name"] for q in api.get(QUEUES, params={"name": "t*"}).json()["entities"]]
    assert names == ["Technical Support"]


def test_seed_has_six_queues_paged_by_number(api: httpx.Client) -> None:
    """pageSize/pageNumber pages with total, pageCount and first/next/previous/last URIs."""
    first = api.get(QUEUES, params={"pageSize": 4}).json()
    assert (first["total"], first["pageCount"], first["pageNumber"], len(first["entities"])) == (6, 2, 1, 4)
    assert "previousUri" not in first
    second = api.get(first["nextUri"]).json()
    assert (second["pageNumber"], len(second["entities"])) == (2, 2)
    assert "nextUri" not in second
    assert second["previousUri"] == first["selfUri"]
    names = [q["name"] for q in first["entities"] + second["entities"]]
    assert sorted(names) == ["Billing", "Returns", "Sales", "Support", "Technical Support", "VIP"]


def test_flow_filters_by_lower_case_type_and_name(api: httpx.Client) -> None:
    """type=inboundshortmessage keeps message flows (Flow.type upper case); name narrows to one."""
    flows = api.get("/api/v2/flows", params={"type": "inboundshortmessage"}).json()["entities"]
    assert len(flows) == 7
    assert {f["type"] for f in flows} == {"INBOUNDSHORTMESSAGE"}
    published = [f["name"] for f in flows if "publishedVersion" in f]
    assert len(published) == 6 and "Draft Messaging Flow" not in published
    both = api.get("/api/v2/flows", params={"type": "inboundshortmessage,inboundcall"}).json()
    assert both["total"] == 8
    voice = api.get("/api/v2/flows", params={"type": "inboundcall", "name": "support voice flow"}).json()
    assert [f["name"] for f in voice["entities"]] == ["Support Voice Flow"]


def test_deployments_are_paged_with_cursors(api: httpx.Client) -> None:
    """pageSize and `after`: nextUri until the last page, previousUri back; total counts them all."""
    config_id = published_configuration(api)
    flow = flow_id(api, "Sales Messaging Flow")
    made = [
        api.post(DEPLOYMENTS, json=deployment_body(config_id, flow, f"d{i}")).json()["id"] for i in range(5)
    ]
    seen: list[str] = []
    page = api.get(DEPLOYMENTS, params={"pageSize": 2}).json()
    pages = 1
    while True:
        assert page["total"] == 5
        seen += [d["id"] for d in page["entities"]]
        if "nextUri" not in page:
            break
        page = api.get(page["nextUri"]).json()
        pages += 1
    assert seen == made
    assert pages == 3
    back = api.get(page["previousUri"]).json()
    assert [d["id"] for d in back["entities"]] == made[2:4]


def test_cursor_page_size_defaults_to_300_and_is_capped_there(api: httpx.Client) -> None:
    """No pageSize is the SDK's documented 300; above 300 is served as 300 (selfUri shows both)."""
    config_id = published_configuration(api)
    for path in (CONFIGS, f"{CONFIGS}/{config_id}/versions", DEPLOYMENTS):
        assert "pageSize=300" in api.get(path).json()["selfUri"], path
        assert "pageSize=300" in api.get(path, params={"pageSize": 500}).json()["selfUri"], path
        assert "pageSize=299" in api.get(path, params={"pageSize": 299}).json()["selfUri"], path
    for index in range(29):
        api.post(CONFIGS, json={"name": f"more-{index}"})
    whole = api.get(CONFIGS).json()
    assert (len(whole["entities"]), whole["total"]) == (30, 30)  # more than the old default of 25
    assert "nextUri" not in whole


def test_expand_configuration_embeds_the_version(api: httpx.Client) -> None:
    """expand=configuration on the deployment listing embeds the whole configuration version."""
    config_id = published_configuration(api)
    api.post(DEPLOYMENTS, json=deployment_body(config_id, flow_id(api, "VIP Messaging Flow")))
    entity = api.get(DEPLOYMENTS, params={"expand": "configuration"}).json()["entities"][0]
    assert entity["configuration"]["languages"] == ["en-us"]
    assert entity["configuration"]["status"] == "Active"
