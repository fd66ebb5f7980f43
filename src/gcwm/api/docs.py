"""`/v1/docs`, only under `gcwm serve --docs`: the API's reference as one server-rendered page.

FastAPI's own docs page loads swagger-ui's script and stylesheet from a CDN (a floating version, no
integrity hash) into the dashboard's origin. This page is rendered here from the same OpenAPI document
(`/openapi.json`, always served) with the dashboard's templates, stylesheet and CSP: it runs no script
of its own and loads nothing from another origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from gcwm.api.dashboard.render import page

__all__ = ["DOCS_PATH", "install_docs"]

DOCS_PATH = "/v1/docs"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

router = APIRouter(include_in_schema=False)


@dataclass
class Field:
    name: str
    type: str
    required: bool
    description: str = ""
    where: str = ""  # a parameter's place: path, query, header


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Field]
    body: str  # the request body's type ("" for none)
    responses: list[tuple[str, str, str]]  # status, description, type

    @property
    def anchor(self) -> str:
        words = self.path.replace("{", "").replace("}", "").strip("/").replace("/", "-")
        return f"op-{self.method.lower()}-{words}"


@dataclass
class Schema:
    name: str
    description: str
    fields: list[Field] = field(default_factory=list)
    kind: str = ""  # what it is when it has no properties (an enum, a string...)


def install_docs(app: FastAPI) -> None:
    """Serve the reference page at /v1/docs on `app`."""
    app.include_router(router)


@router.get(DOCS_PATH)
async def docs(request: Request) -> HTMLResponse:
    document: dict[str, Any] = request.app.openapi()
    return page(
        request,
        "docs.html",
        {
            "info": document.get("info", {}),
            "operations": _operations(document),
            "schemas": _schemas(document),
        },
        session=None,
    )


def _operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            if method not in item:
                continue
            spec = item[method]
            parameters = [
                Field(
                    name=p["name"],
                    type=_type(p.get("schema", {})),
                    required=bool(p.get("required")),
                    description=p.get("description", ""),
                    where=p.get("in", ""),
                )
                for p in spec.get("parameters", [])
            ]
            content = spec.get("requestBody", {}).get("content", {})
            body = ", ".join(f"{_type(c.get('schema', {}))} ({media})" for media, c in content.items())
            responses = [
                (status, r.get("description", ""), _response_type(r))
                for status, r in spec.get("responses", {}).items()
            ]
            found.append(
                Operation(
                    method.upper(),
                    path,
                    spec.get("summary", ""),
                    spec.get("description", ""),
                    parameters,
                    body,
                    responses,
                )
            )
    return found


def _schemas(document: dict[str, Any]) -> list[Schema]:
    found = []
    for name, spec in sorted(document.get("components", {}).get("schemas", {}).items()):
        required = set(spec.get("required", []))
        fields = [
            Field(key, _type(value), key in required, value.get("description", ""))
            for key, value in spec.get("properties", {}).items()
        ]
        kind = "" if fields else _type(spec)
        found.append(Schema(name, spec.get("description", ""), fields, kind))
    return found


def _response_type(response: dict[str, Any]) -> str:
    return ", ".join(
        f"{_type(c.get('schema', {}))} ({media})" for media, c in response.get("content", {}).items()
    )


def _type(schema: dict[str, Any]) -> str:
    """A JSON schema in a few words: `string`, `array of JobSummary`, `integer | null`..."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            return " | ".join(_type(s) for s in schema[combined])
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"object of {_type(extra) if isinstance(extra, dict) else 'any'}"
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)
