"""Request bodies: schema check, the rules the schema cannot say, and the writable part kept.

`api-subset.json` says nothing about required or read-only fields (shared/genesys/README.md);
the rules here come from the README and the SDK's field descriptions, plus emulator choices."""

from __future__ import annotations

import json
import re
from typing import Any

from gcwm.emulator.errors import ApiError, bad_request
from gcwm.emulator.schema import ApiSubset
from gcwm.emulator.validation import Problem, validate_model

CONFIGURATION_MODEL = "WebDeploymentConfigurationVersion"
DEPLOYMENT_MODEL = "WebDeployment"
PROFILE_MODEL = "SupportedContent"
PROFILE_REFERENCE_MODEL = "SupportedContentReference"
# Read-only fields a client may echo back from a GET: accepted, then ignored.
_CONFIGURATION_READ_ONLY = frozenset(
    {
        "id",
        "version",
        "dateCreated",
        "dateModified",
        "datePublished",
        "lastModifiedUser",
        "createdUser",
        "publishedUser",
        "status",
        "selfUri",
    }
)
_DEPLOYMENT_READ_ONLY = frozenset(
    {"id", "snippet", "dateCreated", "dateModified", "lastModifiedUser", "status", "selfUri"}
)
# A profile's writable fields; the others (id, dates, createdBy, modifiedBy, version, selfUri) are
# read-only, accepted when echoed back and ignored.
_PROFILE_WRITABLE = ("name", "mediaTypes")
# Emulator choice: a media type is `type/subtype` of RFC 6838 name characters, `type/*` or `*/*`
# (the SDK's MediaType description and [S15]: any valid IANA media type or a wildcard).
_MEDIA_NAME = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = re.compile(rf"\*/\*|{_MEDIA_NAME}/(?:\*|{_MEDIA_NAME})", re.IGNORECASE)
# Emulator's own invention: Genesys publishes no cap on allowedDomains (README, "allowedDomains").
MAX_ALLOWED_DOMAINS = 50
_HOST_RULE = 'no scheme, path or port; "*." may lead'
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# Emulator choice: bare host names only, optionally led by "*." (README: unconfirmed by Genesys).
_HOST = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})*", re.IGNORECASE)


def parse_json(raw: bytes) -> Any:
    """The request's JSON, or a 400 when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        msg = f"The request body is not valid JSON: {exc}"
        raise ApiError(400, msg) from exc


def configuration_settings(subset: ApiSubset, body: Any) -> dict[str, Any]:
    """The writable fields of a valid `WebDeploymentConfigurationVersion` body, or a 400."""
    _schema_check(subset, CONFIGURATION_MODEL, body)
    problems = _required_name(body)
    messenger = body.get("messenger") or {}
    languages = body.get("languages")
    default = body.get("defaultLanguage")
    # The SDK describes languages and defaultLanguage as "required if the messenger is enabled".
    if messenger.get("enabled") is True:
        if not languages:
            problems.append(_required("languages", "when messenger.enabled is true"))
        if not default:
            problems.append(_required("defaultLanguage", "when messenger.enabled is true"))
    if languages and default and default not in languages:
        msg = f"defaultLanguage: {json.dumps(default)} is not one of languages ({', '.join(languages)})"
        problems.append(Problem("defaultLanguage", "invalid.value", msg))
    if problems:
        raise bad_request(problems)
    return {k: v for k, v in body.items() if k not in _CONFIGURATION_READ_ONLY and v is not None}


def deployment_settings(subset: ApiSubset, body: Any) -> dict[str, Any]:
    """The writable fields of a valid `WebDeployment` body, or a 400 (references are checked later)."""
    _schema_check(subset, DEPLOYMENT_MODEL, body)
    problems = _required_name(body)
    configuration = body.get("configuration") or {}
    for key in ("id", "version"):
        if not configuration.get(key):
            problems.append(_required(f"configuration.{key}", "(a published configuration version)"))
    supported = body.get("supportedContent")
    if supported is not None and not supported.get("id"):
        problems.append(_required("supportedContent.id", "(a supported content profile)"))
    flow = body.get("flow") or {}
    if not flow.get("id"):
        # Emulator choice: a deployment must name its inbound message flow.
        problems.append(_required("flow.id", "(a published inboundshortmessage flow)"))
    problems.extend(_domain_problems(body.get("allowAllDomains"), body.get("allowedDomains") or []))
    if problems:
        raise bad_request(problems)
    settings = {k: v for k, v in body.items() if k not in _DEPLOYMENT_READ_ONLY and v is not None}
    settings["configuration"] = {"id": configuration["id"], "version": configuration["version"]}
    settings["flow"] = {"id": flow["id"]}
    settings["allowAllDomains"] = bool(body.get("allowAllDomains"))
    settings["allowedDomains"] = list(body.get("allowedDomains") or [])
    if body.get("supportedContent") is not None:
        # Only the reference is kept; name and selfUri are rendered from the profile itself.
        settings["supportedContent"] = {"id": body["supportedContent"]["id"]}
    return settings


def profile_settings(subset: ApiSubset, body: Any, *, partial: bool = False) -> dict[str, Any]:
    """The writable fields (name, mediaTypes) of a valid `SupportedContent` body, or a 400.
    `partial` (PATCH): only the fields given, and `name` is required only when given."""
    _schema_check(subset, PROFILE_MODEL, body)
    given = {k: body[k] for k in _PROFILE_WRITABLE if body.get(k) is not None}
    problems = [] if partial and "name" not in given else _required_name(body)
    problems.extend(_media_type_problems(given.get("mediaTypes") or {}))
    if problems:
        raise bad_request(problems)
    return given


def profile_reference_id(subset: ApiSubset, body: Any) -> str:
    """The `id` of a valid `SupportedContentReference` body (PUT .../supportedcontent/default)."""
    _schema_check(subset, PROFILE_REFERENCE_MODEL, body)
    if not isinstance(body.get("id"), str) or not body["id"]:
        raise bad_request([_required("id", "(the supported content profile to make the default)")])
    return str(body["id"])


def _media_type_problems(media_types: dict[str, Any]) -> list[Problem]:
    problems = []
    for direction in ("inbound", "outbound"):
        entries = (media_types.get("allow") or {}).get(direction) or []
        for index, entry in enumerate(entries):
            where = f"mediaTypes.allow.{direction}[{index}].type"
            value = (entry or {}).get("type")
            if value is None:
                problems.append(_required(where, "(a media type such as image/png, image/* or */*)"))
            elif not _MEDIA_TYPE.fullmatch(value):
                msg = f"{where}: {json.dumps(value)} is not a media type (type/subtype, type/* or */*)"
                problems.append(Problem(where, "invalid.value", msg))
    return problems


def _domain_problems(allow_all: bool | None, domains: list[str]) -> list[Problem]:
    if allow_all and domains:
        # SDK model text: allowedDomains "must be empty" when allowAllDomains is true.
        msg = "allowedDomains: must be empty when allowAllDomains is true"
        return [Problem("allowedDomains", "invalid.value", msg)]
    if not allow_all and not domains:
        # Emulator choice: Genesys's answer here is unconfirmed; the Terraform provider refuses it.
        msg = "allowedDomains: at least one domain is required when allowAllDomains is false"
        return [Problem("allowedDomains", "required.field", msg)]
    problems = []
    if len(domains) > MAX_ALLOWED_DOMAINS:
        msg = f"allowedDomains: {len(domains)} entries, at most {MAX_ALLOWED_DOMAINS} are allowed"
        problems.append(Problem("allowedDomains", "invalid.value", msg))
    for index, domain in enumerate(domains):
        if len(domain) > 253 or not _HOST.fullmatch(domain):
            where = f"allowedDomains[{index}]"
            msg = f"{where}: {json.dumps(domain)} is not a bare host name ({_HOST_RULE})"
            problems.append(Problem(where, "invalid.value", msg))
    return problems


def _schema_check(subset: ApiSubset, model: str, body: Any) -> None:
    if not isinstance(body, dict):
        raise ApiError(400, f"The request body must be a JSON object ({model})")
    problems = validate_model(subset, model, body)
    if problems:
        raise bad_request(problems)


def _required_name(body: dict[str, Any]) -> list[Problem]:
    name = body.get("name")
    return [] if isinstance(name, str) and name.strip() else [_required("name", "")]


def _required(field: str, why: str) -> Problem:
    return Problem(field, "required.field", f"{field}: is required {why}".rstrip())
