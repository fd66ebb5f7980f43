"""Every answer carries only fields its official model has (api-subset.json), nested models too."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator.harness import Emulator
from tests.emulator.steps import CONFIGS, DEPLOYMENTS, PROFILES, deployment

SHARED_SUBSET = Path(__file__).parents[3] / "shared" / "genesys" / "api-subset.json"


def _packaged(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        resources.files("gcwm.emulator").joinpath(name).read_text(encoding="utf-8")
    )
    return document


SUBSET = _packaged("api-subset.json")
SUPPLEMENT = _packaged("api-supplement.json")  # the supported content operations (same SDK)
RULES = _packaged("field_rules.json")  # list-item enums and ranges the Python SDK cannot carry
OPERATIONS: list[dict[str, Any]] = SUBSET["operations"] + SUPPLEMENT["operations"]
MODELS: dict[str, dict[str, Any]] = {**SUBSET["models"], **SUPPLEMENT["models"]}
ITEM_ENUMS: dict[str, list[str]] = {key: rule["values"] for key, rule in RULES["itemEnums"].items()}
PRIMITIVE = {"str": str, "bool": bool, "int": int, "float": (int, float), "datetime": str, "date": str}
# The models of the request bodies the emulator accepts.
REQUEST_MODELS = (
    "WebDeploymentConfigurationVersion",
    "WebDeployment",
    "SupportedContent",
    "SupportedContentReference",
)


def strays(model: str, value: Any, path: str = "") -> list[str]:
    """Fields (with their path) that `model` does not have, values of the wrong JSON type, and
    values outside an enum (list items too, from field_rules.json); written apart from the
    emulator's own validator on purpose."""
    if value is None or model == "object":
        return []
    if inner := re.fullmatch(r"list\[(.+)\]", model):
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [s for i, item in enumerate(value) for s in strays(inner[1], item, f"{path}[{i}]")]
    if inner := re.fullmatch(r"dict\(str, (.+)\)", model):
        return [s for k, item in value.items() for s in strays(inner[1], item, f"{path}.{k}")]
    if model in PRIMITIVE:
        ok = isinstance(value, PRIMITIVE[model]) and (model == "bool") == isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not {model}"]
    fields = MODELS[model]
    if not isinstance(value, dict):
        return [f"{path}: not an object ({model})"]
    out = []
    for key, item in value.items():
        spec = fields.get(key)
        if spec is None:
            out.append(f"{path}.{key}: not a field of {model}")
            continue
        if "enum" in spec and item not in spec["enum"]:
            out.append(f"{path}.{key}: {item!r} not in enum")
        allowed = ITEM_ENUMS.get(f"{model}.{key}")
        if allowed is not None and isinstance(item, list):
            out.extend(
                f"{path}.{key}[{i}]: {v!r} not in item enum" for i, v in enumerate(item) if v not in allowed
            )
        out.extend(strays(spec["type"], item, f"{path}.{key}"))
    return out


def response_model(operation: str) -> str | None:
    return next(op["response"] for op in OPERATIONS if op["operation"] == operation)


def reachable(roots: tuple[str, ...]) -> set[str]:
    """Every model reachable from `roots` through field types."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in MODELS:
            continue
        seen.add(name)
        todo.extend(w for spec in MODELS[name].values() for w in re.findall(r"[A-Z]\w*", spec["type"]))
    return seen


def assert_faithful(operation: str, response: httpx.Response) -> None:
    assert response.is_success, response.text
    model = response_model(operation)
    if model is None:
        assert response.content == b""
        return
    assert strays(model, response.json()) == [], operation


@pytest.mark.skipif(not SHARED_SUBSET.exists(), reason="shared/genesys is not next to the project")
def test_packaged_subset_is_the_shared_one() -> None:
    """src/gcwm/emulator/api-subset.json is an exact copy of shared/genesys/api-subset.json."""
    assert json.loads(SHARED_SUBSET.read_text(encoding="utf-8")) == SUBSET


def test_supplement_only_adds_to_the_subset() -> None:
    """api-supplement.json adds operations the subset lacks; models both hold are the same."""
    assert {op["operation"] for op in SUBSET["operations"]}.isdisjoint(
        op["operation"] for op in SUPPLEMENT["operations"]
    )
    shared = set(SUBSET["models"]) & set(SUPPLEMENT["models"])
    assert shared and all(SUBSET["models"][m] == SUPPLEMENT["models"][m] for m in shared)


def test_every_list_of_strings_in_request_bodies_was_looked_up() -> None:
    """Each list[str] field reachable from a request body is in field_rules.json, with an item enum
    or as checked without one; and every rule names a field of the right type."""
    lists = {
        f"{model}.{field}"
        for model in reachable(REQUEST_MODELS)
        for field, spec in MODELS[model].items()
        if spec["type"] == "list[str]"
    }
    assert lists == set(ITEM_ENUMS) | set(RULES["checked"]["withoutItemEnum"])
    assert set(ITEM_ENUMS).isdisjoint(RULES["checked"]["withoutItemEnum"])
    for key in RULES["ranges"]:
        model, field = key.split(".")
        assert MODELS[model][field]["type"] in ("int", "float"), key
    assert all(rule["source"] for rule in [*RULES["itemEnums"].values(), *RULES["ranges"].values()])


def test_file_types_item_enum_is_the_java_sdks() -> None:
    """FileUploadMode.fileTypes items: image/jpeg, image/gif, image/png (Java SDK FileTypesEnum)."""
    assert ITEM_ENUMS["FileUploadMode.fileTypes"] == ["image/jpeg", "image/gif", "image/png"]
    assert RULES["ranges"]["FileUploadMode.maxFileSizeKB"] | {"source": ""} == {
        "minimum": 0,
        "maximum": 10240,
        "source": "",
    }
    assert strays("FileUploadMode", {"fileTypes": ["image/png", "image/bmp"]}) == [
        ".fileTypes[1]: 'image/bmp' not in item enum"
    ]


def test_every_operation_answers_with_its_model_only(emulator: Emulator, api: httpx.Client) -> None:
    """One call per operation of the subset; each answer holds only its model's fields."""
    dep = deployment(api)
    config_id = dep["configuration"]["id"]
    queue_id = api.get("/api/v2/routing/queues").json()["entities"][0]["id"]
    flow_id = dep["flow"]["id"]
    draft_flow = api.get("/api/v2/flows", params={"name": "Draft*"}).json()["entities"][0]["id"]
    calls = {
        "get_tokens_me": api.get("/api/v2/tokens/me"),
        "get_routing_queues": api.get("/api/v2/routing/queues", params={"pageSize": 2, "pageNumber": 2}),
        "get_routing_queue": api.get(f"/api/v2/routing/queues/{queue_id}"),
        "get_flows": api.get("/api/v2/flows"),
        "get_flow": api.get(f"/api/v2/flows/{flow_id}"),
        "get_organizations_limits_namespaces": api.get("/api/v2/organizations/limits/namespaces"),
        "get_organizations_limits_namespace": api.get(
            "/api/v2/organizations/limits/namespaces/web.deployments"
        ),
        "get_organizations_limits_namespace_defaults": api.get(
            "/api/v2/organizations/limits/namespaces/web.messaging/defaults"
        ),
        "get_webdeployments_configurations": api.get(CONFIGS),
        "get_webdeployments_configuration_versions": api.get(f"{CONFIGS}/{config_id}/versions"),
        "get_webdeployments_configuration_versions_draft": api.get(f"{CONFIGS}/{config_id}/versions/draft"),
        "get_webdeployments_configuration_version": api.get(f"{CONFIGS}/{config_id}/versions/1"),
        "put_webdeployments_configuration_versions_draft": api.put(
            f"{CONFIGS}/{config_id}/versions/draft", json={"name": "renamed", "description": "d"}
        ),
        "get_webdeployments_deployments": api.get(DEPLOYMENTS, params={"expand": "configuration"}),
        "get_webdeployments_deployment": api.get(f"{DEPLOYMENTS}/{dep['id']}"),
        "get_webdeployments_deployment_configurations": api.get(f"{DEPLOYMENTS}/{dep['id']}/configurations"),
        "put_webdeployments_deployment": api.put(f"{DEPLOYMENTS}/{dep['id']}", json=dep),
    }
    assert strays("WebDeployment", dep) == []
    assert strays("Flow", api.get(f"/api/v2/flows/{draft_flow}").json()) == []
    later = deployment(api, "second")
    calls["delete_webdeployments_deployment"] = api.delete(f"{DEPLOYMENTS}/{later['id']}")
    calls["delete_webdeployments_configuration"] = api.delete(f"{CONFIGS}/{later['configuration']['id']}")
    calls.update(_profile_calls(api))
    for operation, response in calls.items():
        assert_faithful(operation, response)
    served = {op["operation"] for op in OPERATIONS}
    assert served - set(calls) == {
        "post_webdeployments_configurations",
        "post_webdeployments_configuration_versions_draft_publish",
        "post_webdeployments_deployments",
    }  # made (and checked) inside deployment() above


def _profile_calls(api: httpx.Client) -> dict[str, httpx.Response]:
    """One call per supported content operation (api-supplement.json)."""
    body = {"name": "images", "mediaTypes": {"allow": {"inbound": [{"type": "image/*"}], "outbound": []}}}
    created = api.post(PROFILES, json=body)
    made = created.json()["id"]
    default = api.get(f"{PROFILES}/default").json()["id"]
    calls = {
        "post_conversations_messaging_supportedcontent": created,
        "get_conversations_messaging_supportedcontent": api.get(PROFILES, params={"pageSize": 1}),
        "get_conversations_messaging_supportedcontent_supported_content_id": api.get(f"{PROFILES}/{made}"),
        "patch_conversations_messaging_supportedcontent_supported_content_id": api.patch(
            f"{PROFILES}/{made}", json={"name": "renamed"}
        ),
        "put_conversations_messaging_supportedcontent_default": api.put(
            f"{PROFILES}/default", json={"id": made}
        ),
        "get_conversations_messaging_supportedcontent_default": api.get(f"{PROFILES}/default"),
    }
    api.put(f"{PROFILES}/default", json={"id": default})
    calls["delete_conversations_messaging_supportedcontent_supported_content_id"] = api.delete(
        f"{PROFILES}/{made}"
    )
    return calls


def test_create_and_publish_answers_hold_their_model_only(api: httpx.Client) -> None:
    """The three POSTs answer WebDeploymentConfigurationVersion and WebDeployment fields only."""
    dep = deployment(api)
    assert strays("WebDeployment", dep) == []
    config_id = dep["configuration"]["id"]
    draft = api.get(f"{CONFIGS}/{config_id}/versions/draft").json()
    assert strays("WebDeploymentConfigurationVersion", draft) == []
    published = api.post(f"{CONFIGS}/{config_id}/versions/draft/publish").json()
    assert strays("WebDeploymentConfigurationVersion", published) == []


def test_error_answers_hold_error_body_fields_only(emulator: Emulator, api: httpx.Client) -> None:
    """401, 400 (with details and limit), 404, 409 and 429 bodies are ErrorBody models."""
    with httpx.Client(base_url=emulator.url) as anonymous:
        answers = [anonymous.get("/api/v2/tokens/me")]
    answers.append(api.post(CONFIGS, json={"name": 3}))
    answers.append(api.get(f"{DEPLOYMENTS}/missing"))
    dep = deployment(api)
    answers.append(api.delete(f"{CONFIGS}/{dep['configuration']['id']}"))
    emulator.admin("POST", "faults/rules", {"method": "GET", "path": "/api/v2/flows", "fault": "http429"})
    answers.append(api.get("/api/v2/flows"))
    assert [a.status_code for a in answers] == [401, 400, 404, 409, 429]
    for answer in answers:
        body = answer.json()
        assert strays("ErrorBody", body) == []
        assert {"message", "code", "status", "contextId", "details", "errors"} <= set(body)
        assert body["contextId"] == answer.headers["ININ-Correlation-Id"]


def test_limit_errors_carry_the_limit(start_emulator: Any) -> None:
    """A broken organisation limit answers 400 limit.exceeded with limit {key, namespace, value}."""
    emu = start_emulator(configurations_max=1)
    with emu.client() as api:
        assert api.post(CONFIGS, json={"name": "one"}).status_code == 200
        refused = api.post(CONFIGS, json={"name": "two"})
    assert refused.status_code == 400
    body = refused.json()
    assert strays("ErrorBody", body) == []
    assert body["code"] == "limit.exceeded"
    assert body["limit"] == {"key": "configuration.max", "namespace": "web.deployments", "value": 1}


def test_correlation_id_sent_by_the_client_is_echoed(api: httpx.Client) -> None:
    """ININ-Correlation-Id from the request comes back as header and as contextId."""
    response = api.get(f"{DEPLOYMENTS}/missing", headers={"ININ-Correlation-Id": "abc-123"})
    assert response.headers["ININ-Correlation-Id"] == "abc-123"
    assert response.json()["contextId"] == "abc-123"
