"""Wire JSON for each object, with the official models' field names and nothing else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from gcwm.emulator.entities import (
    Configuration,
    ConfigVersion,
    Deployment,
    Flow,
    Queue,
    SupportedContentProfile,
)
from gcwm.emulator.lifecycle import Timings, deployment_status, version_status
from gcwm.emulator.profiles import PROFILES_PATH
from gcwm.emulator.snippet import render_snippet

CONFIGS_PATH = "/api/v2/webdeployments/configurations"
DEPLOYMENTS_PATH = "/api/v2/webdeployments/deployments"
_FLOW_VERSION = "1.0"


def iso(timestamp: float) -> str:
    """ISO-8601 with milliseconds and Z, as Genesys writes dates (yyyy-MM-ddTHH:mm:ss.mmmZ)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def division(org_id: str) -> dict[str, str]:
    """The org's Home division; its id is derived from the org id, so it is stable too."""
    division_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"gcwm-emulator:{org_id}:division:home"))
    return {"id": division_id, "name": "Home", "selfUri": f"/api/v2/authorization/divisions/{division_id}"}


def queue_view(queue: Queue, org_id: str) -> dict[str, Any]:
    return {
        "id": queue.id,
        "name": queue.name,
        "division": division(org_id),
        "description": queue.description,
        "dateCreated": iso(queue.date_created),
        "dateModified": iso(queue.date_created),
        "memberCount": 0,
        "userMemberCount": 0,
        "joinedMemberCount": 0,
        "selfUri": f"/api/v2/routing/queues/{queue.id}",
    }


def flow_view(flow: Flow, org_id: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": flow.id,
        "name": flow.name,
        "division": division(org_id),
        "description": flow.description,
        "type": flow.type,
        "active": flow.published,
        "system": False,
        "deleted": False,
    }
    version = _flow_version(flow)
    if flow.published:
        view["publishedVersion"] = version
        view["checkedInVersion"] = version
    else:
        # Saved in Architect but never published: gcwm must refuse it (publishedVersion absent).
        view["savedVersion"] = {**version, "type": "SAVE"}
        del view["savedVersion"]["datePublished"]
    view["selfUri"] = f"/api/v2/flows/{flow.id}"
    return view


def _flow_version(flow: Flow) -> dict[str, Any]:
    return {
        "id": _FLOW_VERSION,
        "name": flow.name,
        "commitVersion": _FLOW_VERSION,
        "configurationVersion": _FLOW_VERSION,
        "type": "PUBLISH",
        "secure": False,
        "debug": False,
        "dateCreated": int(flow.date_created * 1000),  # FlowVersion dates are epoch ms (int)
        "datePublished": iso(flow.date_created),
        "selfUri": f"/api/v2/flows/{flow.id}/versions/{_FLOW_VERSION}",
    }


def version_self_uri(configuration_id: str, version: str) -> str:
    segment = "draft" if version == "DRAFT" else version
    return f"{CONFIGS_PATH}/{configuration_id}/versions/{segment}"


def version_view(config: Configuration, version: ConfigVersion, now: float, t: Timings) -> dict[str, Any]:
    """A `WebDeploymentConfigurationVersion`: the client's settings plus the read-only fields."""
    view: dict[str, Any] = {"id": config.id, "name": version.name, "version": version.version}
    view.update({k: v for k, v in version.settings.items() if k != "name"})
    view["dateCreated"] = iso(version.date_created)
    view["dateModified"] = iso(version.date_modified)
    if version.date_published is not None:
        view["datePublished"] = iso(version.date_published)
    view["status"] = version_status(config, version, now, t)
    view["selfUri"] = version_self_uri(config.id, version.version)
    return view


def profile_view(profile: SupportedContentProfile) -> dict[str, Any]:
    """A `SupportedContent` (no createdBy/modifiedBy: the emulator has no users)."""
    view: dict[str, Any] = {
        "id": profile.id,
        "name": profile.name,
        "dateCreated": iso(profile.date_created),
        "dateModified": iso(profile.date_modified),
        "version": profile.version,
    }
    if profile.media_types is not None:
        view["mediaTypes"] = profile.media_types
    view["selfUri"] = f"{PROFILES_PATH}/{profile.id}"
    return view


def profile_reference(profile_id: str, profile: SupportedContentProfile | None) -> dict[str, Any]:
    """A `SupportedContentReference` as a deployment shows it: id, name and selfUri."""
    ref: dict[str, Any] = {"id": profile_id}
    if profile is not None:
        ref["name"] = profile.name
    ref["selfUri"] = f"{PROFILES_PATH}/{profile_id}"
    return ref


def deployment_view(
    deployment: Deployment,
    config: Configuration | None,
    flow: Flow | None,
    *,
    profile: SupportedContentProfile | None = None,
    now: float,
    timings: Timings,
    region_host: str,
    messenger_origin: str | None = None,
    expand_configuration: bool = False,
) -> dict[str, Any]:
    """A `WebDeployment` (or `ExpandableWebDeployment` with the configuration version expanded).

    `messenger_origin` (scheme://host:port) is where the snippet loads Messenger from when the
    emulator serves it itself; None means Genesys's CDN for `region_host`."""
    settings = deployment.settings
    config_id, version_id = deployment.configuration_ref
    version = config.version(version_id) if config is not None else None
    if expand_configuration and config is not None and version is not None:
        config_ref = version_view(config, version, now, timings)
    else:
        config_ref = {
            "id": config_id,
            "name": version.name if version is not None else "",
            "version": version_id,
            "selfUri": version_self_uri(config_id, version_id),
        }
    flow_id = settings["flow"]["id"]
    view: dict[str, Any] = {"id": deployment.id, "name": deployment.name}
    for key in ("description", "allowAllDomains", "allowedDomains"):
        if key in settings:
            view[key] = settings[key]
    if deployment.supported_content_id is not None:
        view["supportedContent"] = profile_reference(deployment.supported_content_id, profile)
    view["snippet"] = render_snippet(region_host, deployment.id, origin=messenger_origin)
    view["dateCreated"] = iso(deployment.date_created)
    view["dateModified"] = iso(deployment.date_modified)
    view["flow"] = {
        "id": flow_id,
        "name": flow.name if flow is not None else "",
        "selfUri": f"/api/v2/flows/{flow_id}",
    }
    view["status"] = deployment_status(deployment, now, timings)
    if "pushIntegrations" in settings:
        view["pushIntegrations"] = settings["pushIntegrations"]
    view["configuration"] = config_ref
    view["selfUri"] = f"{DEPLOYMENTS_PATH}/{deployment.id}"
    return view
