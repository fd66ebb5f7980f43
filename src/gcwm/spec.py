"""Channel specs: the YAML/JSON files users write, as strict pydantic models.

Keys are camelCase, as in Genesys's own API. Unknown keys are refused (naming the closest known key),
and every problem of a file is reported at once with the file, the line of the field, the channel
and the field path, e.g. `bulk.yaml:41: channel 'sales-web': messenger.primaryColor: ...`; lines come
from PyYAML's node marks, so the API's JSON body (already parsed) has problems without them.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from gcwm.errors import SpecError, SpecProblem

_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$"
_HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"
# BCP 47-ish tags as Genesys uses them (`en-us`, `fr`, `zh-hant-tw`).
_LANGUAGE = r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$"
# A media type as RFC 6838 names them (restricted-name: letters, digits and !#$&-^_.+), or the
# wildcards supported content profiles accept: `image/*`, `*/*` (Resource Center; SDK `MediaType`).
_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = rf"^(?:\*/\*|{_TOKEN}/(?:\*|{_TOKEN}))$"
MediaTypeText = Annotated[str, StringConstraints(pattern=_MEDIA_TYPE)]
#: The types of a profile when the spec names none: Messenger's own image types and PDF.
DEFAULT_FILE_TYPES = ("image/jpeg", "image/png", "image/gif", "application/pdf")
#: Attachments over web messaging are capped at 25 MB (Resource Center, "Supported content profiles").
ATTACHMENT_MAX_KB = 25600

_MARKER_TEXT = re.compile(r"\[gcwm\s", re.IGNORECASE)

_PATTERN_NAMES = {
    _NAME: "a valid name (letters, digits, space, '.', '_', '-'; at most 100 characters)",
    _HEX_COLOUR: "a hex colour like #FF4F1F",
    _LANGUAGE: "a language tag like en-us",
    _MEDIA_TYPE: "a media type like image/png (type/subtype), or a wildcard like image/* or */*",
}

Name = Annotated[str, StringConstraints(pattern=_NAME)]


def channel_key(name: str) -> str:
    """The one way gcwm compares channel names: case-insensitively, as Genesys treats names.

    `Web One` and `web one` are one channel; `web one` and `web_one` are two."""
    return name.strip().casefold()


Language = Annotated[str, StringConstraints(pattern=_LANGUAGE, to_lower=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True)


class EntityReference(_Strict):
    """A Genesys object named either by id or by name (exactly one)."""

    id: str | None = None
    name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        # A bare string is a name: `routingQueue: Support`.
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _exactly_one(self) -> EntityReference:
        if (self.id is None) == (self.name is None):
            msg = "give exactly one of id or name"
            raise ValueError(msg)
        if self.name is not None and not self.name.strip():
            msg = "name must not be empty"
            raise ValueError(msg)
        return self

    def describe(self) -> str:
        return f"id {self.id}" if self.id else repr(self.name)


class FileUpload(_Strict):
    """What visitors may attach. `fileTypes` are media types (RFC 6838 `type/subtype`, or a wildcard
    `image/*` or `*/*`): they become the channel's supported content profile, which is what Genesys
    enforces; Messenger's own upload modes get the image types among them. Attachments are capped at
    25 MB (Resource Center, "Supported content profiles"). `orgDefaultProfile: true` leaves the
    deployment on the org's default profile instead (which allows every inbound type unless an
    administrator narrowed it), and then `fileTypes` must be left out."""

    enabled: bool = False
    file_types: list[MediaTypeText] | None = Field(default=None, min_length=1)
    max_file_size_kb: int = Field(default=10240, ge=1, le=ATTACHMENT_MAX_KB, alias="maxFileSizeKB")
    org_default_profile: bool = False

    @model_validator(mode="after")
    def _one_source_of_types(self) -> FileUpload:
        if self.org_default_profile and self.file_types is not None:
            msg = "give fileTypes or orgDefaultProfile, not both"
            raise ValueError(msg)
        if self.file_types is not None and len({t.lower() for t in self.file_types}) != len(self.file_types):
            msg = "fileTypes lists a media type twice"
            raise ValueError(msg)
        return self

    @property
    def media_types(self) -> list[str]:
        """The inbound media types of the channel's profile (lower case, as media types compare)."""
        if self.org_default_profile:
            return []
        return [t.lower() for t in (self.file_types or DEFAULT_FILE_TYPES)]


LabelKey = Literal[
    "MessengerHomeHeaderTitle",
    "MessengerHomeHeaderSubTitle",
    "PushNotificationTitle",
    "PushNotificationBody",
    "MessengerLauncherButtonText",
]
VisitorText = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class HomeScreen(_Strict):
    """Messenger's home screen; the logo is shown to every visitor."""

    enabled: bool = False
    logo_url: Url | None = None


class Bot(_Strict):
    """How a bot presents itself to visitors (Genesys's `apps.conversations.humanize`)."""

    name: VisitorText
    avatar_url: Url | None = None


class Messenger(_Strict):
    enabled: bool = True
    primary_color: Annotated[str, StringConstraints(pattern=_HEX_COLOUR)] = "#FF4F1F"
    launcher_visibility: Literal["On", "Off", "OnDemand"] = "On"
    file_upload: FileUpload = Field(default_factory=FileUpload)
    languages: list[Language] = Field(default_factory=lambda: ["en-us"], min_length=1)
    default_language: Language = "en-us"
    headless_mode: bool = False
    # Visitor-visible text per language: {en-us: {MessengerHomeHeaderTitle: "Hi"}}; URLs and text are
    # checked (https only, markup removed and reported) by the policy checks before any write.
    labels: dict[Language, dict[LabelKey, VisitorText]] = Field(default_factory=dict)
    home_screen: HomeScreen | None = None
    bot: Bot | None = None

    @field_validator("launcher_visibility", mode="before")
    @classmethod
    def _yaml_on_off(cls, value: Any) -> Any:
        # YAML 1.1 reads a bare On/Off as a boolean; the user meant Genesys's enum value.
        if isinstance(value, bool):
            return "On" if value else "Off"
        return value

    # Field validators (not one model validator), so each problem names its own field and line.
    @field_validator("languages")
    @classmethod
    def _each_language_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            msg = "languages lists a language twice"
            raise ValueError(msg)
        return value

    @field_validator("default_language")
    @classmethod
    def _default_language_is_listed(cls, value: str, info: ValidationInfo) -> str:
        languages = info.data.get("languages")
        if languages is not None and value not in languages:
            msg = f"defaultLanguage {value!r} is not one of languages {languages}"
            raise ValueError(msg)
        return value

    @field_validator("labels")
    @classmethod
    def _labels_are_for_listed_languages(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        languages = info.data.get("languages")
        unknown = sorted(set(value) - set(languages)) if languages is not None else []
        if unknown:
            msg = f"labels are given for {', '.join(unknown)}, which languages does not list"
            raise ValueError(msg)
        return value


ItsmEvent = Literal["provisioned", "failed", "removed", "drifted", "checkpoint"]
_DEFAULT_EVENTS: tuple[ItsmEvent, ...] = ("provisioned", "failed")


class Itsm(_Strict):
    """Where provisioning events go: a webhook URL, or the base URL of a ServiceNow instance or a Jira
    site. The secret is never here: `secretEnv` names the environment variable (or the file in
    GCWM_SECRETS_DIR) that holds it."""

    type: Literal["webhook", "servicenow", "jira"]
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/\S*)?$")]
    secret_env: Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")] | None = None
    events: list[ItsmEvent] = Field(default_factory=lambda: list(_DEFAULT_EVENTS))
    # servicenow, jira; unset: basic (stored targets), but plan and provision ask a servicenow target
    # to say it (provisioning.checks.itsm_problems): what its secret holds depends on it
    auth: Literal["basic", "oauth", "bearer"] | None = None
    table: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,79}$")] | None = None  # servicenow
    service_desk_id: Annotated[int, Field(ge=1)] | None = None  # jira
    request_type_id: Annotated[int, Field(ge=1)] | None = None  # jira

    @model_validator(mode="after")
    def _fits_the_type(self) -> Itsm:
        problems = []
        if self.type == "jira" and (self.service_desk_id is None or self.request_type_id is None):
            problems.append("a jira target needs serviceDeskId and requestTypeId")
        if self.type != "jira" and (self.service_desk_id is not None or self.request_type_id is not None):
            problems.append("serviceDeskId and requestTypeId are for jira targets")
        if self.table is not None and self.type != "servicenow":
            problems.append("table is for servicenow targets")
        if self.auth is not None and self.type == "webhook":
            problems.append("auth is for servicenow and jira targets (webhooks are signed with the secret)")
        if self.auth == "oauth" and self.type == "jira":
            problems.append("jira targets take auth basic or bearer")
        if self.secret_env is None:
            problems.append("secretEnv must name the variable that holds the secret")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Security(_Strict):
    """Security policy for the embedding site: the CSP gcwm proposes, and XSS protection (always on:
    `sanitizeHtml: false` is accepted here only so the policy checks can refuse it, naming the field)."""

    allow_all_domains: bool = False
    csp_mode: Literal["narrow", "template"] = "narrow"
    sanitize_html: bool = True


class ChannelSpec(_Strict):
    """One web messaging channel: a Messenger configuration plus a web deployment."""

    name: Name
    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    routing_queue: EntityReference
    inbound_message_flow: EntityReference
    allowed_domains: list[Annotated[str, StringConstraints(min_length=1, max_length=253)]] = Field(
        default_factory=list
    )
    max_concurrent_sessions: int = Field(default=100, ge=1, le=100000)
    messenger: Messenger = Field(default_factory=Messenger)
    itsm: Itsm | None = None
    security: Security = Field(default_factory=Security)

    @model_validator(mode="after")
    def _domains_match_policy(self) -> ChannelSpec:
        if self.security.allow_all_domains and self.allowed_domains:
            msg = "allowedDomains must be empty when security.allowAllDomains is true"
            raise ValueError(msg)
        if not self.security.allow_all_domains and not self.allowed_domains:
            msg = "allowedDomains must list at least one domain (or set security.allowAllDomains)"
            raise ValueError(msg)
        return self

    @field_validator("description")
    @classmethod
    def _no_marker(cls, value: str | None) -> str | None:
        # gcwm appends `[gcwm channel=... job=...]` to what it makes and finds its objects by it: a
        # description holding one could make another channel's objects look like this one's.
        if value is not None and _MARKER_TEXT.search(value):
            msg = "must not contain '[gcwm ': gcwm appends that marker itself"
            raise ValueError(msg)
        return value

    @property
    def key(self) -> str:
        """The channel's identity (see `channel_key`)."""
        return channel_key(self.name)

    def spec_hash(self) -> str:
        """A stable hash of the desired state, to tell whether a channel changed."""
        canonical = json.dumps(self.to_document(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def to_document(self) -> dict[str, Any]:
        """The spec as its camelCase document (what the store keeps and `plan` shows)."""
        return self.model_dump(by_alias=True, mode="json")


class SpecFile(_Strict):
    channels: list[ChannelSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> SpecFile:
        seen: set[str] = set()
        for channel in self.channels:
            key = channel_key(channel.name)
            if key in seen:
                msg = f"channel name {channel.name!r} appears twice"
                raise ValueError(msg)
            seen.add(key)
        return self


def load_spec(path: Path) -> list[ChannelSpec]:
    """Read and validate a spec file; raise SpecError listing every problem found."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([SpecProblem(source, "", f"cannot read the file: {exc.strerror}")]) from exc
    return parse_spec(text, source=source)


def parse_spec(text: str, *, source: str = "<spec>") -> list[ChannelSpec]:
    """Validate spec text (YAML or JSON, JSON being YAML); `source` names it in errors, and each
    problem carries the line of the field it is about."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        where = f"column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([SpecProblem(source, where, f"not valid YAML/JSON: {problem}", line)]) from exc
    return _validate(data, source, root)


def parse_spec_document(data: object, *, source: str = "<spec>") -> list[ChannelSpec]:
    """Validate a spec document already parsed (the API's JSON body); problems as `parse_spec`'s,
    without lines."""
    return _validate(data, source, None)


def _validate(data: object, source: str, root: yaml.Node | None) -> list[ChannelSpec]:
    if not isinstance(data, dict):
        problem = "expected a mapping with a top-level `channels:` list"
        raise SpecError([SpecProblem(source, "", problem, _line(root, []))])
    twice = _duplicates(data, source, root)
    try:
        channels = SpecFile.model_validate(data).channels
    except ValidationError as exc:
        found = _problems(exc, data, source, root, skip_duplicates=bool(twice))
        raise SpecError(_in_file_order([*found, *twice])) from exc
    if twice:  # a duplicate is always caught above; kept as a guard should the model change
        raise SpecError(twice)
    return channels


def _in_file_order(problems: list[SpecProblem]) -> list[SpecProblem]:
    """Problems by line (those without one keep their order, after the others)."""
    return sorted(problems, key=lambda p: p.line if p.line is not None else 1 << 30)


def _duplicates(data: dict[str, Any], source: str, root: yaml.Node | None) -> list[SpecProblem]:
    """Channel names given twice, compared as gcwm compares them; each later one names the line of
    the first. Found on the document as written, so they are reported with every other problem."""
    channels = data.get("channels")
    if not isinstance(channels, list):
        return []
    first: dict[str, tuple[int, str]] = {}
    out = []
    for index, channel in enumerate(channels):
        name = channel.get("name") if isinstance(channel, dict) else None
        if not isinstance(name, str) or not name.strip():
            continue
        key = channel_key(name)
        if key not in first:
            first[key] = (index, name)
            continue
        earlier, earlier_name = first[key]
        earlier_line = _line(root, ["channels", earlier, "name"])
        there = f"line {earlier_line}" if earlier_line is not None else f"channels[{earlier}]"
        same = "" if earlier_name == name else f" (as {earlier_name!r})"
        message = (
            f"the name {name!r} is given twice: also at {there}{same}; channel names compare "
            "case-insensitively, and each channel needs its own"
        )
        out.append(
            SpecProblem(source, f"channel {name!r}: name", message, _line(root, ["channels", index, "name"]))
        )
    return out


def _problems(
    exc: ValidationError, data: dict[str, Any], source: str, root: yaml.Node | None, *, skip_duplicates: bool
) -> list[SpecProblem]:
    problems = []
    for error in exc.errors():
        loc = list(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if skip_duplicates and not loc and "appears twice" in message:
            continue  # said already, with both lines
        if error["type"] == "extra_forbidden":
            message = _unknown_key(loc)
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "string_pattern_mismatch":
            pattern = str((error.get("ctx") or {}).get("pattern", ""))
            message = f"{error['input']!r} is not {_PATTERN_NAMES.get(pattern, 'valid')}"
        elif error["type"] in ("literal_error", "enum"):
            message = f"{error['input']!r}: {message}"
        problems.append(SpecProblem(source, _location(loc, data), message, _line(root, loc)))
    return problems


def _location(loc: list[int | str], data: dict[str, Any]) -> str:
    """`channel 'sales-web': messenger.primaryColor` from pydantic's location tuple (`channels[3]`
    for a channel whose name cannot be read)."""
    if len(loc) >= 2 and loc[0] == "channels" and isinstance(loc[1], int):
        index = loc[1]
        channels = data.get("channels")
        name = ""
        if isinstance(channels, list) and index < len(channels) and isinstance(channels[index], dict):
            given = channels[index].get("name")
            name = given if isinstance(given, str) and given.strip() else ""
        head = f"channel {name!r}" if name else f"channels[{index}]"
        rest = _path(loc[2:])
        return f"{head}: {rest}" if rest else head
    return _path(loc)


def _is_label(part: int | str) -> bool:
    """pydantic's union, validator and dict-key labels in a location: noise to a user."""
    return isinstance(part, str) and bool(re.fullmatch(r"[a-z-]+\[.*\]|function-.*|\[key\]", part))


def _path(parts: list[int | str]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _is_label(part):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def line_of(text: str, loc: list[int | str]) -> int | None:
    """The line of the field at `loc` (`["channels", 3, "itsm", "secretEnv"]`) in spec text, for a
    problem found after parsing (None if the text cannot be read)."""
    try:
        return _line(yaml.compose(text, Loader=yaml.SafeLoader), loc)
    except yaml.YAMLError:
        return None


def _line(root: yaml.Node | None, loc: list[int | str]) -> int | None:
    """The 1-based line of the field at `loc` in the YAML node tree: the line of its key, else of the
    nearest enclosing field the tree holds (a missing key: the mapping that lacks it)."""
    if root is None:
        return None
    node: yaml.Node = root
    line = root.start_mark.line
    for part in loc:
        if _is_label(part):
            continue
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = next(
                ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None
            )
            if found is None:
                break
            line, node = found[0].start_mark.line, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _unknown_key(loc: list[int | str]) -> str:
    """An unknown key's message, with the closest key the model knows at that place."""
    key = str(loc[-1]) if loc else ""
    known = _known_keys([p for p in loc[:-1] if not _is_label(p)])
    if key and known:
        camel = to_camel(key) if "_" in key else key
        guess = camel if camel in known else None
        if guess is None:
            by_case = {k.lower(): k for k in known}
            guess = by_case.get(key.lower().replace("_", "").replace("-", ""))
        if guess is None:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            guess = close[0] if close else None
        if guess is not None:
            return f"unknown key; did you mean {guess!r}?"
    return "unknown key (check spelling; keys are camelCase)"


def _known_keys(parents: list[int | str]) -> list[str]:
    """The keys of the model a location's parent fields lead to (empty if they lead to none)."""
    model: type[BaseModel] | None = SpecFile
    for part in parents:
        if isinstance(part, int) or model is None:
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        model = _model_in(field.annotation) if field is not None else None
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The spec model an annotation holds (through Optional, list and Annotated), if one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
