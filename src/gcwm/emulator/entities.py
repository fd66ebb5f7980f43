"""The organisation's objects as the emulator keeps them (times are epoch seconds, UTC)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Queue:
    """A routing queue (seed data: gcwm only reads queues)."""

    id: str
    name: str
    date_created: float
    description: str = ""


@dataclass
class Flow:
    """An Architect flow; `type` is the Flow model's upper-case enum value."""

    id: str
    name: str
    type: str
    date_created: float
    published: bool = True
    description: str = ""


@dataclass
class ConfigVersion:
    """The draft (`version` "DRAFT") or a published version ("1", "2", ...) of a configuration."""

    version: str
    settings: dict[str, Any]  # the client's writable fields: name, languages, messenger, ...
    date_created: float
    date_modified: float
    date_published: float | None = None

    @property
    def name(self) -> str:
        return str(self.settings.get("name", ""))


@dataclass
class Configuration:
    """A web deployment configuration: one draft and the versions published from it."""

    id: str
    seq: int  # creation order, for cursor paging
    date_created: float
    draft: ConfigVersion
    published: list[ConfigVersion] = field(default_factory=list)
    deleted_at: float | None = None

    def version(self, version: str) -> ConfigVersion | None:
        """The draft for "draft"/"DRAFT", else the published version with that number."""
        if version.upper() == "DRAFT":
            return self.draft
        return next((v for v in self.published if v.version == version), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Configuration:
        return cls(
            id=data["id"],
            seq=data["seq"],
            date_created=data["date_created"],
            draft=ConfigVersion(**data["draft"]),
            published=[ConfigVersion(**v) for v in data["published"]],
            deleted_at=data["deleted_at"],
        )


@dataclass
class Deployment:
    """A web deployment; `settings` holds the client's writable fields (name, flow, domains, ...)."""

    id: str
    seq: int
    date_created: float
    date_modified: float
    settings: dict[str, Any]
    deleted_at: float | None = None
    broken: bool = False  # set through the admin API: Genesys put it in status Error

    @property
    def name(self) -> str:
        return str(self.settings.get("name", ""))

    @property
    def configuration_ref(self) -> tuple[str, str]:
        ref = self.settings["configuration"]
        return str(ref["id"]), str(ref["version"])

    @property
    def supported_content_id(self) -> str | None:
        """The supported content profile the deployment names, if any."""
        ref = self.settings.get("supportedContent")
        return str(ref["id"]) if isinstance(ref, dict) and ref.get("id") else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        return cls(**data)


@dataclass
class SupportedContentProfile:
    """A supported content profile: which media types messages may carry, inbound and outbound."""

    id: str
    seq: int
    name: str
    media_types: dict[str, Any] | None  # the `MediaTypes` object as the client wrote it
    date_created: float
    date_modified: float
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SupportedContentProfile:
        return cls(**data)
