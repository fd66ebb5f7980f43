"""Genesys Cloud wire models: the only place that knows Genesys's JSON field names.

Field names and enums follow the official SDK's models (shared/genesys/api-subset.json); a test checks
every alias here against that file. Answers may carry fields we do not model: they are ignored, so a
newer cloud never breaks an older gcwm. Requests are sent with `dump()` (aliases, no unset fields).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Status = Literal["Pending", "Active", "Inactive", "Error", "Deleting"]

#: The flow type a web deployment routes through (an Architect Inbound Message flow).
MESSAGE_FLOW_TYPE = "INBOUNDSHORTMESSAGE"
#: The limits namespace of web deployments (keys `deployments.max`, `configuration.max`).
LIMITS_NAMESPACE = "web.deployments"
#: A configuration's editable version: "DRAFT" in bodies, "draft" in paths (shared/genesys/README.md).
DRAFT_VERSION = "DRAFT"
#: What Messenger's own file upload modes accept: `FileUploadMode.fileTypes` items are an enum in the Java
#: SDK docs (FileTypesEnum; the Python SDK drops enums on list items), and `maxFileSizeKB` is 0..10240
#: (Terraform provider schema, `validation.IntBetween(0, 10240)`). shared/genesys/README.md, "Corrections".
MESSENGER_FILE_TYPES = ("image/jpeg", "image/gif", "image/png")
MESSENGER_MAX_FILE_SIZE_KB = 10240
#: What the org's default supported content profile lets agents send (Resource Center, "Supported content
#: profiles": .jpg, .png and .gif outbound); gcwm's profiles keep that and narrow what visitors send.
DEFAULT_OUTBOUND_TYPES = ("image/jpeg", "image/png", "image/gif")


class WireModel(BaseModel):
    """Base: camelCase on the wire, snake_case in Python, unknown answer fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def dump(self) -> dict[str, Any]:
        """The JSON body to send: wire names, fields left unset or None omitted."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class EntityRef(WireModel):
    id: str
    name: str | None = None
    self_uri: str | None = None


class Queue(WireModel):
    id: str
    name: str
    description: str | None = None
    self_uri: str | None = None


class QueueEntityListing(WireModel):
    entities: list[Queue] = Field(default_factory=list)
    page_size: int | None = None
    page_number: int | None = None
    total: int | None = None
    page_count: int | None = None


class FlowVersion(WireModel):
    id: str | None = None
    name: str | None = None


FlowType = Literal[
    "BOT", "BUSINESSPROCESS", "COMMONMODULE", "DIGITALBOT", "EMAILSEND", "INBOUNDCALL",
    "INBOUNDCHAT", "INBOUNDEMAIL", "INBOUNDSHORTMESSAGE", "INQUEUECALL", "INQUEUEEMAIL",
    "INQUEUESHORTMESSAGE", "OUTBOUNDCALL", "SECURECALL", "SPEECH", "SURVEYINVITE", "VOICE",
    "VOICEMAIL", "VOICESURVEY", "WORKFLOW", "WORKITEM",
]  # fmt: skip


class Flow(WireModel):
    id: str
    name: str
    type: FlowType | None = None
    active: bool | None = None
    deleted: bool | None = None
    published_version: FlowVersion | None = None
    self_uri: str | None = None

    @property
    def is_message_flow(self) -> bool:
        """An Inbound Message flow (a type left out of the answer is given the benefit of the doubt)."""
        return self.type is None or self.type == MESSAGE_FLOW_TYPE

    @property
    def is_published(self) -> bool:
        return self.published_version is not None


class FlowEntityListing(WireModel):
    entities: list[Flow] = Field(default_factory=list)
    page_size: int | None = None
    page_number: int | None = None
    total: int | None = None
    page_count: int | None = None


class Limit(WireModel):
    key: str
    namespace: str | None = None
    value: int


class LimitsEntityListing(WireModel):
    entities: list[Limit] = Field(default_factory=list)


class NamedEntity(WireModel):
    id: str
    name: str | None = None


class TokenInfo(WireModel):
    organization: NamedEntity
    home_organization: NamedEntity | None = None
    # The SDK's wire name really is "OAuthClient" (not camelCase).
    oauth_client: NamedEntity | None = Field(default=None, alias="OAuthClient")


class MessengerStyles(WireModel):
    primary_color: str | None = None


class LauncherButtonSettings(WireModel):
    visibility: Literal["On", "Off", "OnDemand"] | None = None
    display_type: Literal["IconAndText", "Icon", "Text"] | None = None


class FileUploadMode(WireModel):
    file_types: list[str] | None = None
    max_file_size_kb: int | None = Field(default=None, alias="maxFileSizeKB")


class FileUploadSettings(WireModel):
    enable_attachments: bool | None = None
    modes: list[FileUploadMode] | None = None


class BotMessengerProfile(WireModel):
    name: str | None = None
    avatar_url: str | None = None


class Humanize(WireModel):
    enabled: bool | None = None
    bot: BotMessengerProfile | None = None


class ConversationAppSettings(WireModel):
    enabled: bool | None = None
    show_agent_typing_indicator: bool | None = None
    show_user_typing_indicator: bool | None = None
    humanize: Humanize | None = None


LabelKey = Literal[
    "MessengerHomeHeaderTitle",
    "MessengerHomeHeaderSubTitle",
    "PushNotificationTitle",
    "PushNotificationBody",
    "MessengerLauncherButtonText",
]


class LocalizedLabels(WireModel):
    key: LabelKey | None = None
    value: str | None = None


class CustomI18nLabels(WireModel):
    language: str | None = None
    localized_labels: list[LocalizedLabels] | None = None


class MessengerApps(WireModel):
    conversations: ConversationAppSettings | None = None


class MessengerHomeScreen(WireModel):
    enabled: bool | None = None
    logo_url: str | None = None


class MessengerSettings(WireModel):
    enabled: bool | None = None
    styles: MessengerStyles | None = None
    launcher_button: LauncherButtonSettings | None = None
    file_upload: FileUploadSettings | None = None
    apps: MessengerApps | None = None
    home_screen: MessengerHomeScreen | None = None


class WebDeploymentHeadlessMode(WireModel):
    enabled: bool | None = None


class _Lifecycle(WireModel):
    """Status helpers shared by configuration versions and deployments."""

    status: Status | None = None

    @property
    def is_active(self) -> bool:
        return self.status == "Active"

    @property
    def is_deleting(self) -> bool:
        """On its way out: neither usable nor a twin to avoid."""
        return self.status == "Deleting"

    @property
    def is_broken(self) -> bool:
        """Genesys gave up on it (`Error`): waiting longer will not make it Active."""
        return self.status == "Error"


class WebDeploymentConfigurationVersion(_Lifecycle):
    id: str | None = None
    name: str
    version: str | None = None
    description: str | None = None
    languages: list[str] | None = None
    default_language: str | None = None
    messenger: MessengerSettings | None = None
    headless_mode: WebDeploymentHeadlessMode | None = None
    custom_i18n_labels: list[CustomI18nLabels] | None = Field(default=None, alias="customI18nLabels")
    date_created: datetime | None = None
    date_modified: datetime | None = None
    date_published: datetime | None = None
    self_uri: str | None = None

    @property
    def is_draft(self) -> bool:
        return (self.version or "").upper() == DRAFT_VERSION

    @property
    def number(self) -> int | None:
        """A published version's number ("1", "2", ... on the wire), None for the draft."""
        text = self.version or ""
        return int(text) if text.isdigit() else None


def latest_published(
    versions: list[WebDeploymentConfigurationVersion],
) -> WebDeploymentConfigurationVersion | None:
    """The highest-numbered published version among `versions`, if any."""
    numbered = [v for v in versions if v.number is not None]
    return max(numbered, key=lambda v: v.number or 0) if numbered else None


class MediaType(WireModel):
    """An RFC 2046 media type (`image/png`) or a wildcard (`image/*`, `*/*`)."""

    type: str | None = None


class MediaTypeAccess(WireModel):
    inbound: list[MediaType] | None = None
    outbound: list[MediaType] | None = None


class MediaTypes(WireModel):
    allow: MediaTypeAccess | None = None


class SupportedContent(WireModel):
    """A supported content profile: which media visitors may send (inbound) and agents may send
    (outbound) over messaging; a deployment names one in `supportedContent`."""

    id: str | None = None
    name: str
    version: int | None = None
    media_types: MediaTypes | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    self_uri: str | None = None

    @property
    def inbound_types(self) -> list[str]:
        access = self.media_types.allow if self.media_types is not None else None
        return [m.type for m in (access.inbound or []) if m.type] if access is not None else []


class SupportedContentReference(WireModel):
    id: str
    name: str | None = None
    self_uri: str | None = None


class SupportedContentListing(WireModel):
    entities: list[SupportedContent] = Field(default_factory=list)
    page_size: int | None = None
    page_number: int | None = None
    total: int | None = None
    page_count: int | None = None


class WebDeploymentConfigurationVersionEntityListing(WireModel):
    entities: list[WebDeploymentConfigurationVersion] = Field(default_factory=list)
    total: int | None = None
    next_uri: str | None = None


class WebDeploymentConfigurationVersionEntityRef(WireModel):
    id: str
    name: str | None = None
    version: str | None = None
    self_uri: str | None = None


class WebDeploymentFlowEntityRef(WireModel):
    id: str
    name: str | None = None
    self_uri: str | None = None


class WebDeployment(_Lifecycle):
    id: str | None = None
    name: str
    description: str | None = None
    allow_all_domains: bool | None = None
    allowed_domains: list[str] | None = None
    snippet: str | None = None
    supported_content: SupportedContentReference | None = None
    flow: WebDeploymentFlowEntityRef | None = None
    configuration: WebDeploymentConfigurationVersionEntityRef | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    self_uri: str | None = None


class ExpandableWebDeploymentEntityListing(WireModel):
    entities: list[WebDeployment] = Field(default_factory=list)
    total: int | None = None
    next_uri: str | None = None


class ErrorDetail(WireModel):
    error_code: str | None = None
    field_name: str | None = None
    entity_id: str | None = None
    entity_name: str | None = None


class ErrorBody(WireModel):
    """The body of every Genesys error answer (`ErrorBody`)."""

    message: str | None = None
    code: str | None = None
    status: int | None = None
    context_id: str | None = None
    entity_id: str | None = None
    entity_name: str | None = None
    details: list[ErrorDetail] = Field(default_factory=list)
    limit: Limit | None = None
