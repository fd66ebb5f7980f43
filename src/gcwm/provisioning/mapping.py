"""The one place that maps a channel spec to Genesys objects and back.

Provisioning builds its request bodies here; plan and drift compare `desired_*` with what the org
holds through the same functions, so the two can never disagree about what a field means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gcwm.genesys.models import (
    ConversationAppSettings,
    FileUploadMode,
    FileUploadSettings,
    LauncherButtonSettings,
    MessengerApps,
    MessengerSettings,
    MessengerStyles,
    WebDeployment,
    WebDeploymentConfigurationVersion,
    WebDeploymentConfigurationVersionEntityRef,
    WebDeploymentFlowEntityRef,
    WebDeploymentHeadlessMode,
)
from gcwm.spec import ChannelSpec

_MARKER = re.compile(r"\[gcwm channel=(?P<channel>[^\]\s]+) job=(?P<job>[0-9a-f-]+)\]")


@dataclass(frozen=True)
class Marker:
    """The tag gcwm writes into every object it creates, so it can recognise them later."""

    channel: str
    job: str

    def render(self) -> str:
        return f"[gcwm channel={self.channel} job={self.job}]"


def channel_key(name: str) -> str:
    """The channel's name as it appears in markers (no spaces)."""
    return name.strip().replace(" ", "_")


def read_marker(description: str | None) -> Marker | None:
    """The gcwm marker in an object's description, if gcwm made it."""
    match = _MARKER.search(description or "")
    return Marker(match["channel"], match["job"]) if match else None


def _description(spec: ChannelSpec, marker: Marker) -> str:
    text = (spec.description or "").strip()
    return f"{text} {marker.render()}".strip()


def desired_configuration(spec: ChannelSpec, marker: Marker) -> WebDeploymentConfigurationVersion:
    """The Messenger configuration (draft) a spec asks for."""
    m = spec.messenger
    file_upload = FileUploadSettings(enable_attachments=m.file_upload.enabled)
    if m.file_upload.enabled:
        file_upload.modes = [
            FileUploadMode(
                file_types=list(m.file_upload.file_types),
                max_file_size_kb=m.file_upload.max_file_size_kb,
            )
        ]
    return WebDeploymentConfigurationVersion(
        name=spec.name,
        description=_description(spec, marker),
        languages=list(m.languages),
        default_language=m.default_language,
        headless_mode=WebDeploymentHeadlessMode(enabled=m.headless_mode),
        messenger=MessengerSettings(
            enabled=m.enabled,
            styles=MessengerStyles(primary_color=m.primary_color),
            launcher_button=LauncherButtonSettings(visibility=m.launcher_visibility),
            file_upload=file_upload,
            apps=MessengerApps(conversations=ConversationAppSettings(enabled=True)),
        ),
    )


def desired_deployment(
    spec: ChannelSpec,
    marker: Marker,
    *,
    configuration_id: str,
    configuration_version: str,
    flow_id: str,
) -> WebDeployment:
    """The web deployment a spec asks for, pointing at a published configuration version."""
    allow_all = spec.security.allow_all_domains
    return WebDeployment(
        name=spec.name,
        description=_description(spec, marker),
        allow_all_domains=allow_all,
        allowed_domains=[] if allow_all else list(spec.allowed_domains),
        configuration=WebDeploymentConfigurationVersionEntityRef(
            id=configuration_id, version=configuration_version
        ),
        flow=WebDeploymentFlowEntityRef(id=flow_id),
    )


def configuration_differs(
    desired: WebDeploymentConfigurationVersion, observed: WebDeploymentConfigurationVersion
) -> list[str]:
    """Fields of a configuration whose observed value is not the desired one (markers aside)."""
    fields = ("name", "languages", "default_language", "headless_mode", "messenger")
    # Only what gcwm sets counts: Genesys may fill in defaults of its own around it.
    return [f for f in fields if not _within(_dump(getattr(desired, f)), _dump(getattr(observed, f)))]


def deployment_differs(desired: WebDeployment, observed: WebDeployment) -> list[str]:
    """Fields of a deployment whose observed value is not the desired one."""
    out = []
    if desired.name != observed.name:
        out.append("name")
    if bool(desired.allow_all_domains) != bool(observed.allow_all_domains):
        out.append("allowAllDomains")
    if sorted(desired.allowed_domains or []) != sorted(observed.allowed_domains or []):
        out.append("allowedDomains")
    if (desired.flow and desired.flow.id) != (observed.flow and observed.flow.id):
        out.append("flow")
    d_cfg, o_cfg = desired.configuration, observed.configuration
    if (d_cfg and (d_cfg.id, d_cfg.version)) != (o_cfg and (o_cfg.id, o_cfg.version)):
        out.append("configuration")
    return out


def _within(desired: object, observed: object) -> bool:
    """True when every value gcwm set in `desired` is the same in `observed`."""
    if isinstance(desired, dict) and isinstance(observed, dict):
        return all(_within(v, observed.get(k)) for k, v in desired.items())
    if isinstance(desired, list) and isinstance(observed, list):
        return len(desired) == len(observed) and all(map(_within, desired, observed))
    return desired == observed


def _dump(value: object) -> object:
    dump = getattr(value, "dump", None)
    return dump() if callable(dump) else value
