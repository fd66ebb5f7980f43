"""The one place that maps a channel spec to Genesys objects and back.

Provisioning builds its request bodies here, and the plan compares `desired_*` with what the org holds
through the same functions, so the two can never disagree about what a field means.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict

from gcwm.errors import DomainError
from gcwm.genesys.models import (
    DEFAULT_OUTBOUND_TYPES,
    MESSENGER_FILE_TYPES,
    MESSENGER_MAX_FILE_SIZE_KB,
    BotMessengerProfile,
    ConversationAppSettings,
    CustomI18nLabels,
    FileUploadMode,
    FileUploadSettings,
    Humanize,
    LauncherButtonSettings,
    LocalizedLabels,
    MediaType,
    MediaTypeAccess,
    MediaTypes,
    MessengerApps,
    MessengerHomeScreen,
    MessengerSettings,
    MessengerStyles,
    SupportedContent,
    SupportedContentReference,
    WebDeployment,
    WebDeploymentConfigurationVersion,
    WebDeploymentConfigurationVersionEntityRef,
    WebDeploymentFlowEntityRef,
    WebDeploymentHeadlessMode,
)
from gcwm.policy import normalize_domains, plain_text
from gcwm.spec import ChannelSpec, FileUpload, channel_key

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
    """The gcwm marker of an object's description, if gcwm made it: the LAST one, which is the one gcwm
    appends (text copied in front of it, from another object in the admin UI, may carry another)."""
    markers = read_markers(description)
    return markers[-1] if markers else None


def read_markers(description: str | None) -> list[Marker]:
    """Every gcwm marker in a description, in order (more than one only if text was copied in)."""
    return [Marker(unquote(m["channel"]), m["job"]) for m in _MARKER.finditer(description or "")]


def _without_marker(description: str | None) -> str:
    return _MARKER.sub("", description or "").strip()


def _description(spec: ChannelSpec, marker: Marker) -> str:
    text = (spec.description or "").strip()
    return f"{text} {marker.render()}".strip()


#: Where each field gcwm sets on a Genesys object comes from in the spec: the API path (as the plan
#: names it: `<object>.<wire path>`) to the spec path. The longest entry that is the path or a prefix
#: of it decides; None is a field gcwm sets on its own (the same on every channel, or following from
#: another change). A draft's fields (`configuration.draft.*`) are the configuration's.
SPEC_PATHS: dict[str, str | None] = {
    "configuration.name": "name",
    "configuration.description": "description",
    "configuration.languages": "messenger.languages",
    "configuration.defaultLanguage": "messenger.defaultLanguage",
    "configuration.headlessMode": "messenger.headlessMode",
    "configuration.messenger.enabled": "messenger.enabled",
    "configuration.messenger.styles.primaryColor": "messenger.primaryColor",
    "configuration.messenger.launcherButton.visibility": "messenger.launcherVisibility",
    "configuration.messenger.fileUpload.enableAttachments": "messenger.fileUpload.enabled",
    "configuration.messenger.fileUpload.modes": "messenger.fileUpload",
    "configuration.messenger.apps.conversations.enabled": None,
    "configuration.messenger.apps.conversations.humanize": "messenger.bot",
    "configuration.messenger.apps.conversations.humanize.bot.name": "messenger.bot.name",
    "configuration.messenger.apps.conversations.humanize.bot.avatarUrl": "messenger.bot.avatarUrl",
    "configuration.messenger.homeScreen.enabled": "messenger.homeScreen.enabled",
    "configuration.messenger.homeScreen.logoUrl": "messenger.homeScreen.logoUrl",
    "configuration.customI18nLabels": "messenger.labels",
    "supportedContent.name": "name",
    "supportedContent.mediaTypes.allow.inbound": "messenger.fileUpload.fileTypes",
    "supportedContent.mediaTypes.allow.outbound": None,
    "deployment.name": "name",
    "deployment.description": "description",
    "deployment.allowAllDomains": "security.allowAllDomains",
    "deployment.allowedDomains": "allowedDomains",
    "deployment.flow.id": "inboundMessageFlow",
    "deployment.supportedContent.id": "messenger.fileUpload",
    "deployment.configuration.id": None,
    "deployment.configuration.version": None,
}
_DRAFT = "configuration.draft."


def is_mapped(api_path: str) -> bool:
    """Whether SPEC_PATHS has an entry for this API path (a test keeps every field gcwm sets mapped)."""
    return _spec_entry(api_path) is not None


def spec_path(api_path: str) -> str | None:
    """The spec field an API path comes from (None: gcwm sets it on its own)."""
    entry = _spec_entry(api_path)
    return SPEC_PATHS[entry] if entry is not None else None


def _spec_entry(api_path: str) -> str | None:
    path = "configuration." + api_path.removeprefix(_DRAFT) if api_path.startswith(_DRAFT) else api_path
    best = None
    for key in SPEC_PATHS:
        if (path == key or path.startswith((key + ".", key + "["))) and (
            best is None or len(key) > len(best)
        ):
            best = key
    return best


class FieldChange(BaseModel):
    """One field whose value in the org is not what the spec asks for (API path, old, new).

    `consequence` says what it follows from when the user did not ask for it themselves: a
    deployment moved to the configuration version a republish makes, a draft put back."""

    model_config = ConfigDict(frozen=True)

    path: str
    old: Any
    new: Any
    consequence: str | None = None

    def __init__(self, path: str, old: Any, new: Any, consequence: str | None = None) -> None:
        super().__init__(path=path, old=old, new=new, consequence=consequence)

    @property
    def spec_path(self) -> str | None:
        """The spec field this comes from (None: gcwm sets it on its own)."""
        return spec_path(self.path)

    def list_delta(self) -> tuple[list[Any], list[Any]] | None:
        """For a list: the items added and removed, compared as the plan compares them (None otherwise)."""
        if not isinstance(self.new, list) and not isinstance(self.old, list):
            return None
        key = self.path.rsplit(".", 1)[-1]
        old = self.old if isinstance(self.old, list) else []
        new = self.new if isinstance(self.new, list) else []

        def ident(item: Any) -> str:
            return json.dumps(_canonical(key, item), sort_keys=True)

        had, wants = {ident(i) for i in old}, {ident(i) for i in new}
        return [i for i in new if ident(i) not in had], [i for i in old if ident(i) not in wants]

    def document(self) -> dict[str, Any]:
        """The change as `gcwm plan --output json` prints it: the spec path (the API path for a field
        gcwm sets on its own), the API path, old and new, list items added and removed, and whether
        it only follows from another change."""
        out: dict[str, Any] = {
            "path": self.spec_path or self.path,
            "apiPath": self.path,
            "old": self.old,
            "new": self.new,
        }
        delta = self.list_delta()
        if delta is not None:
            out["added"], out["removed"] = delta
        out["consequence"] = self.consequence is not None
        if self.consequence is not None:
            out["followsFrom"] = self.consequence
        return out

    def audit(self) -> dict[str, Any]:
        """The change as an audit entry's summary keeps it (redacted by the audit log as it writes)."""
        out: dict[str, Any] = {"path": self.spec_path or self.path, "apiPath": self.path}
        out["old"], out["new"] = self.old, self.new
        if self.consequence is not None:
            out["consequence"] = True
        return out


#: What the fields gcwm sets on its own follow from, when a create lists them.
SET_BY_GCWM = "gcwm's own setting for every channel"


def created_fields(
    kind: str, desired: WebDeployment | WebDeploymentConfigurationVersion | SupportedContent
) -> list[FieldChange]:
    """Every field a create sets, as `<kind>.<wire path>` from null (the description without gcwm's
    marker, which names the job)."""
    wanted = desired.dump()
    if "description" in wanted:
        wanted["description"] = _without_marker(wanted["description"]) or None
    out = [
        c
        for key, value in wanted.items()
        if value is not None
        for c in _leaf_changes(f"{kind}.{key}", value, None)
    ]
    return [c if c.spec_path is not None else c.model_copy(update={"consequence": SET_BY_GCWM}) for c in out]


def desired_configuration(spec: ChannelSpec, marker: Marker) -> WebDeploymentConfigurationVersion:
    """The Messenger configuration (draft) a spec asks for."""
    m = spec.messenger
    file_upload = FileUploadSettings(enable_attachments=m.file_upload.enabled)
    if m.file_upload.enabled and (modes := _messenger_modes(m.file_upload)):
        file_upload.modes = modes
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


def _messenger_modes(upload: FileUpload) -> list[FileUploadMode]:
    """Messenger's own upload modes take only its three image types, at most 10240 KB (Java SDK
    FileTypesEnum; provider schema): the image types the spec allows, or none. The profile governs."""
    allowed = upload.media_types or ["*/*"]  # the org's default profile allows every type
    images = [t for t in MESSENGER_FILE_TYPES if any(_covers(p, t) for p in allowed)]
    if not images:
        return []
    size = min(upload.max_file_size_kb, MESSENGER_MAX_FILE_SIZE_KB)
    return [FileUploadMode(file_types=images, max_file_size_kb=size)]


def _covers(pattern: str, media_type: str) -> bool:
    """Whether a media type or wildcard (`image/*`, `*/*`) admits `media_type`."""
    if pattern == "*/*" or pattern == media_type:
        return True
    return pattern.endswith("/*") and media_type.startswith(pattern[:-1])


#: gcwm names each channel's supported content profile after the channel (profiles carry no description
#: to hold a marker); the suffix says who made it.
_PROFILE_SUFFIX = " (gcwm)"


def profile_name(channel: str) -> str:
    return f"{channel}{_PROFILE_SUFFIX}"


def profile_channel(name: str | None) -> str | None:
    """The channel a profile was made for, if gcwm named it."""
    text = name or ""
    return text.removesuffix(_PROFILE_SUFFIX) if text.endswith(_PROFILE_SUFFIX) else None


def desired_supported_content(spec: ChannelSpec) -> SupportedContent | None:
    """The channel's supported content profile: what visitors may send over web messaging (inbound,
    the spec's `fileTypes`) and agents to them (the org default's images); None when attachments are
    off or the spec keeps the org's default profile."""
    upload = spec.messenger.file_upload
    if not upload.enabled or upload.org_default_profile:
        return None
    access = MediaTypeAccess(
        inbound=[MediaType(type=t) for t in upload.media_types],
        outbound=[MediaType(type=t) for t in DEFAULT_OUTBOUND_TYPES],
    )
    return SupportedContent(name=profile_name(spec.name), media_types=MediaTypes(allow=access))


def supported_content_changes(desired: SupportedContent, observed: SupportedContent) -> list[FieldChange]:
    """Fields of a profile gcwm sets whose observed value differs, as `supportedContent.<wire path>`."""
    wanted, seen = desired.dump(), observed.dump()
    out: list[FieldChange] = []
    for key in ("name", "mediaTypes"):
        out += _leaf_changes(f"supportedContent.{key}", wanted.get(key), seen.get(key))
    return out


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
    supported_content_id: str | None = None,
) -> WebDeployment:
    """The web deployment a spec asks for, pointing at a published configuration version (and at its
    supported content profile, if it has one: none means the org's default)."""
    allow_all = spec.security.allow_all_domains
    profile = SupportedContentReference(id=supported_content_id) if supported_content_id else None
    return WebDeployment(
        name=spec.name,
        description=_description(spec, marker),
        allow_all_domains=allow_all,
        allowed_domains=[] if allow_all else allowed_domains(spec),
        configuration=WebDeploymentConfigurationVersionEntityRef(
            id=configuration_id, version=configuration_version
        ),
        flow=WebDeploymentFlowEntityRef(id=flow_id),
        supported_content=profile,
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
    # Order and case carry no meaning in an allow-list of host names.
    out += _leaf_changes(
        "deployment.allowedDomains", desired.allowed_domains or [], observed.allowed_domains or []
    )
    want_flow = desired.flow.id if desired.flow else None
    have_flow = observed.flow.id if observed.flow else None
    if want_flow != have_flow:
        out.append(FieldChange("deployment.flow.id", have_flow, want_flow))
    want_profile = desired.supported_content.id if desired.supported_content else None
    have_profile = observed.supported_content.id if observed.supported_content else None
    if want_profile != have_profile:
        out.append(FieldChange("deployment.supportedContent.id", have_profile, want_profile))
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


def content_hash(desired: WebDeploymentConfigurationVersion) -> str:
    """A hash of what gcwm sets on a configuration, normalised as Genesys may normalise it (the
    description without the marker, which names the job): what a channel's record keeps of the
    version it published, so an unchanged re-run needs no read of the versions."""
    document = {**desired.dump(), "description": _without_marker(desired.description)}
    canonical = json.dumps(_canonical("", document), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# Values Genesys may store in another case: colours (the provider marks them Computed; the emulator's
# --server-defaults lower-cases them), media types, language tags and host names (case-insensitive).
_CASELESS = frozenset({"primaryColor", "fileTypes", "type", "languages", "defaultLanguage", "allowedDomains"})


def _normal(key: str, value: Any) -> Any:
    return value.lower() if key in _CASELESS and isinstance(value, str) else value


def _canonical(key: str, value: Any) -> Any:
    """`value` normalised, lists in a fixed order (gcwm sets no list whose order carries meaning)."""
    if isinstance(value, dict):
        return {k: _canonical(k, v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(key, v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return _normal(key, value)


def _leaf_changes(path: str, desired: Any, observed: Any) -> list[FieldChange]:
    """Only what gcwm sets counts: Genesys may fill in defaults of its own around it, store a value in
    another case, or keep a list in another order (every list gcwm sets is a set: languages, modes,
    file types, labels, domains)."""
    if isinstance(desired, dict):
        seen = observed if isinstance(observed, dict) else {}
        return [
            c for key, value in desired.items() for c in _leaf_changes(f"{path}.{key}", value, seen.get(key))
        ]
    if isinstance(desired, list):
        if isinstance(observed, list) and _same_set(path, desired, observed):
            return []
    elif _normal(path.rsplit(".", 1)[-1], desired) == _normal(path.rsplit(".", 1)[-1], observed):
        return []
    return [FieldChange(path, observed, desired)]


def _same_set(path: str, desired: list[Any], observed: list[Any]) -> bool:
    """Each desired item matches its own observed item (objects: in what gcwm sets), none left over."""
    if len(desired) != len(observed):
        return False
    left = list(observed)
    for item in desired:
        match = next((i for i, seen in enumerate(left) if not _leaf_changes(path, item, seen)), None)
        if match is None:
            return False
        left.pop(match)
    return True
