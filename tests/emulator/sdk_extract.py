"""Read operations and models out of the installed official SDK, in api-subset.json's shape.

The emulator's `api-supplement.json` (operations gcwm's shared api-subset.json lacks) is made by
this module: `.venv/bin/python -m tests.emulator.sdk_extract` rewrites it from the installed
PureCloudPlatformClientV2. `test_fidelity` runs the same extraction over the shared subset's own
operations, so the two files are known to be made the same way."""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Any

# The supported content profile operations (issue 21, item 7), by SDK API class.
SUPPLEMENT_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("ConversationsApi", "get_conversations_messaging_supportedcontent"),
    ("ConversationsApi", "post_conversations_messaging_supportedcontent"),
    ("ConversationsApi", "get_conversations_messaging_supportedcontent_supported_content_id"),
    ("ConversationsApi", "patch_conversations_messaging_supportedcontent_supported_content_id"),
    ("ConversationsApi", "delete_conversations_messaging_supportedcontent_supported_content_id"),
    ("ConversationsApi", "get_conversations_messaging_supportedcontent_default"),
    ("ConversationsApi", "put_conversations_messaging_supportedcontent_default"),
)
_PRIMITIVES = frozenset({"str", "bool", "int", "float", "datetime", "date", "object"})
_NAME = re.compile(r"[A-Za-z_]\w*")


def _sdk() -> Any:
    import PureCloudPlatformClientV2  # the slow import, only when extracting

    return PureCloudPlatformClientV2


def extract_operation(api_class: str, name: str) -> dict[str, Any]:
    """One operation: method, path, summary, parameters (with wire names), request and response models."""
    source = inspect.getsource(getattr(getattr(_sdk(), api_class), name))
    doc_lines = [line.strip() for line in source.split('"""')[1].splitlines()]
    summary = next(line for line in doc_lines if line)
    docs = {}
    for line in doc_lines:
        if match := re.fullmatch(r":param (\S+) (\w+):\s*(.*)", line):
            docs[match[2]] = (match[1], match[3])
    names = ast.literal_eval(re.search(r"all_params = (\[.*?\])", source, re.S)[1])  # type: ignore[index]
    parameters = []
    body = None
    for param in names:
        sdk_type, text = docs[param]
        required = text.endswith("(required)")
        entry: dict[str, Any] = {
            "name": param,
            "type": sdk_type,
            "required": required,
            "description": text.removesuffix("(required)").strip(),
        }
        if wire := re.search(rf"path_params\['([^']+)'\] = params\['{param}'\]", source):
            entry.update({"in": "path", "wire_name": wire[1]})
        elif wire := re.search(rf"query_params\['([^']+)'\] = params\['{param}'\]", source):
            entry.update({"in": "query", "wire_name": wire[1]})
        elif re.search(rf"body_params = params\['{param}'\]", source):
            entry["in"] = "body"
            body = sdk_type
        parameters.append(entry)
    response = re.search(r"response_type='([^']+)'", source)
    return {
        "operation": name,
        "method": re.search(r"call_api\(resource_path, '(\w+)'", source)[1],  # type: ignore[index]
        "path": re.search(r"resource_path = '([^']+)'", source)[1],  # type: ignore[index]
        "summary": summary,
        "parameters": parameters,
        "request_body": body,
        "response": response[1] if response else None,
    }


def extract_model(name: str) -> dict[str, dict[str, Any]]:
    """A model's wire fields: type notation, description and (for strings) the enum the SDK checks."""
    cls = getattr(_sdk(), name)
    instance = cls()
    fields: dict[str, dict[str, Any]] = {}
    for attr, sdk_type in instance.swagger_types.items():
        prop = getattr(cls, attr)
        # The docstring as written in the source (escapes kept), whitespace collapsed, as the subset has it.
        lines = [line.strip() for line in inspect.getsource(prop.fget).split('"""')[1].strip().splitlines()]
        description = " ".join(" ".join(lines[1 : lines.index("")] if "" in lines else lines[1:]).split())
        spec: dict[str, Any] = {"type": sdk_type}
        if description:
            spec["description"] = description
        setter = inspect.getsource(prop.fset)
        if allowed := re.search(r"allowed_values = (\[.*?\])", setter, re.S):
            spec["enum"] = ast.literal_eval(allowed[1])
        fields[instance.attribute_map[attr]] = spec
    return fields


def models_reached(roots: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every model reachable from `roots` through field types, sorted by name."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    todo = [r for r in roots if r not in _PRIMITIVES]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found[name] = extract_model(name)
        for spec in found[name].values():
            for word in _NAME.findall(spec["type"]):
                if word not in _PRIMITIVES and word not in ("list", "dict") and word not in found:
                    todo.append(word)
    return dict(sorted(found.items()))


def build_supplement() -> dict[str, Any]:
    """The whole api-supplement.json document."""
    operations = [extract_operation(api, name) for api, name in SUPPLEMENT_OPERATIONS]
    roots = [m for op in operations for m in (op["request_body"], op["response"]) if m]
    return {
        "source": (
            f"PureCloudPlatformClientV2 {sdk_version()} (the official Python SDK), extracted by "
            "tests/emulator/sdk_extract.py (`python -m tests.emulator.sdk_extract`) from its API "
            "methods (summary, parameters with wire names, body and response types) and model classes "
            "(swagger_types, attribute_map, getter docstrings, setter allowed_values)"
        ),
        "type_notation": "as in api-subset.json",
        "operations": operations,
        "models": models_reached(roots),
    }


def sdk_version() -> str:
    return metadata.version("PureCloudPlatformClientV2")


def supplement_path() -> Path:
    return Path(str(resources.files("gcwm.emulator").joinpath("api-supplement.json")))


def main() -> None:
    document = build_supplement()
    supplement_path().write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {supplement_path()}\n")


if __name__ == "__main__":
    main()
