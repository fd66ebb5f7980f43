"""The one place that maps a channel spec to Genesys objects and back.

Provisioning builds its request bodies here, and the plan compares `desired_*` with what the org holds
through the same functions, so the two can never disagree about what a field means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict

from gcwm.errors import DomainError
from gcwm.genesys.models import (
    BotMessengerProfile,
    ConversationAppSettings,
    CustomI18nLabels,
    FileUploadMode,
    FileUploadSettings,
    Humanize,
    LauncherButtonSettings,
    LocalizedLabels,
    MessengerApps,
    MessengerHomeScreen,
    MessengerSettings,
    MessengerStyles,
    WebDeployment,
    WebDeploymentConfigurationVersion,
    WebDeploymentConfigurationVersionEntityRef,
    WebDeploymentFlowEntityRef,
    WebDeploymentHeadlessMode,
)
from gcwm.policy import normalize_domains, plain_text
from gcwm.spec import ChannelSpec, channel_key

_MARKER = re.compile(r"\s*\[gcwm channel=(?P<channel>[^\]\s]+) job=(?P<job>[0-9a-f-]+)\]")


@dataclass(frozen=True)
class Marker:
    """The tag gcwm writes into every object it creates, so it can recognise them later.

    The channel's exact name is percent-encoded, so no two names share a marker (`web one` is
    `web%20one`, `web_one` stays `web_one`)."""

    channel: str  # the exact name
    job: str

    def render(self) -> str:
        return f"[gcwm channel={quote(self.channel, safe='')} job={self.job}]"

    def is_for(self, name: str) -> bool:
        """Whether this marker names the channel `name` (compared as gcwm compares names)."""
        return channel_key(self.channel) == channel_key(name)


def read_marker(description: str | None) -> Marker | None:
    """The gcwm marker in an object's description, if gcwm made it."""
    match = _MARKER.search(description or "")
    return Marker(unquote(match["channel"]), match["job"]) if match else None


def _without_marker(description: str | None) -> str:
    return _MARKER.sub("", description or "").strip()


def _description(spec: ChannelSpec, marker: Marker) -> str:
    text = (spec.description or "").strip()
    return f"{text} {marker.render()}".strip()


class FieldChange(BaseModel):
    """One field whose value in the org is not what the spec asks for (wire path, old, new)."""

    model_config = ConfigDict(frozen=True)

    path: str
    old: Any
    new: Any

    def __init__(self, path: str, old: Any, new: Any) -> None:
        super().__init__(path=path, old=old, new=new)


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
    conversations = ConversationAppSettings(enabled=True)
    if m.bot is not None:
        # Every text a visitor sees goes out plain (policy.html); the checks report what changed.
        bot = BotMessengerProfile(name=plain_text(m.bot.name), avatar_url=m.bot.avatar_url)
        conversations.humanize = Humanize(enabled=True, bot=bot)
    messenger = MessengerSettings(
        enabled=m.enabled,
        styles=MessengerStyles(primary_color=m.primary_color),
        launcher_button=LauncherButtonSettings(visibility=m.launcher_visibility),
        file_upload=file_upload,
        apps=MessengerApps(conversations=conversations),
    )
    if m.home_screen is not None:
        messenger.home_screen = MessengerHomeScreen(
            enabled=m.home_screen.enabled, logo_url=m.home_screen.logo_url
        )
    config = WebDeploymentConfigurationVersion(
        name=spec.name,
        description=_description(spec, marker),
        languages=list(m.languages),
        default_language=m.default_language,
        headless_mode=WebDeploymentHeadlessMode(enabled=m.headless_mode),
        messenger=messenger,
    )
    if m.labels:
        config.custom_i18n_labels = [
            CustomI18nLabels(
                language=language,
                localized_labels=[
                    LocalizedLabels(key=key, value=plain_text(text)) for key, text in labels.items()
                ],
            )
            for language, labels in m.labels.items()
        ]
    return config


def allowed_domains(spec: ChannelSpec) -> list[str]:
    """The spec's allowed domains as the deployment gets them: normalised, without duplicates.

    The policy checks refuse any entry that cannot be normalised before a plan is applied; a plan
    shown with such findings compares the entries as written."""
    try:
        return normalize_domains(spec.allowed_domains, allow_ip=True)
    except DomainError:
        return list(spec.allowed_domains)


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
        allowed_domains=[] if allow_all else allowed_domains(spec),
        configuration=WebDeploymentConfigurationVersionEntityRef(
            id=configuration_id, version=configuration_version
        ),
        flow=WebDeploymentFlowEntityRef(id=flow_id),
    )


def configuration_changes(
    desired: WebDeploymentConfigurationVersion, observed: WebDeploymentConfigurationVersion
) -> list[FieldChange]:
    """Fields gcwm sets whose observed value differs, as `configuration.<wire path>`."""
    wanted = desired.dump()
    seen = observed.dump()
    out: list[FieldChange] = []
    for key in ("name", "languages", "defaultLanguage", "headlessMode", "messenger", "customI18nLabels"):
        out += _leaf_changes(f"configuration.{key}", wanted.get(key), seen.get(key))
    out += _description_change("configuration", desired, observed)
    return out


def deployment_changes(desired: WebDeployment, observed: WebDeployment) -> list[FieldChange]:
    """Fields of a deployment whose observed value is not the desired one, as `deployment.<path>`."""
    out: list[FieldChange] = []
    if desired.name != observed.name:
        out.append(FieldChange("deployment.name", observed.name, desired.name))
    if bool(desired.allow_all_domains) != bool(observed.allow_all_domains):
        out.append(
            FieldChange(
                "deployment.allowAllDomains",
                bool(observed.allow_all_domains),
                bool(desired.allow_all_domains),
            )
        )
    # Order carries no meaning in an allow-list: a reordering is not a change.
    if sorted(desired.allowed_domains or []) != sorted(observed.allowed_domains or []):
        out.append(
            FieldChange("deployment.allowedDomains", observed.allowed_domains or [], desired.allowed_domains)
        )
    want_flow = desired.flow.id if desired.flow else None
    have_flow = observed.flow.id if observed.flow else None
    if want_flow != have_flow:
        out.append(FieldChange("deployment.flow.id", have_flow, want_flow))
    want, have = desired.configuration, observed.configuration
    for attr in ("id", "version"):
        new, old = getattr(want, attr, None), getattr(have, attr, None)
        if new != old:
            out.append(FieldChange(f"deployment.configuration.{attr}", old, new))
    out += _description_change("deployment", desired, observed)
    return out


def _description_change(
    kind: str,
    desired: WebDeployment | WebDeploymentConfigurationVersion,
    observed: WebDeployment | WebDeploymentConfigurationVersion,
) -> list[FieldChange]:
    # The marker names the job that made the object; only the user's own text is compared.
    new, old = _without_marker(desired.description), _without_marker(observed.description)
    return [] if new == old else [FieldChange(f"{kind}.description", old, new)]


def _leaf_changes(path: str, desired: Any, observed: Any) -> list[FieldChange]:
    """Only what gcwm sets counts: Genesys may fill in defaults of its own around it."""
    if isinstance(desired, dict):
        seen = observed if isinstance(observed, dict) else {}
        return [
            c for key, value in desired.items() for c in _leaf_changes(f"{path}.{key}", value, seen.get(key))
        ]
    if isinstance(desired, list) and isinstance(observed, list) and len(desired) == len(observed):
        if all(not _leaf_changes(path, d, o) for d, o in zip(desired, observed, strict=True)):
            return []
    elif desired == observed:
        return []
    return [FieldChange(path, observed, desired)]
