"""The durable steps of provisioning one channel, and the typed result each one checkpoints.

A step's result is stored as its camelCase document (what `gcwm jobs show` prints) and read back as
the same model, so no code parses checkpoint dicts by key.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

PLANNED = "planned"  # the channel's change, computed from the org as observed
CONFIGURATION_CREATE_SENT = "configuration_create_sent"  # intent: a create may have happened
CONFIGURATION_CREATED = "configuration_created"
CONFIGURATION_UPDATED = "configuration_updated"
CONFIGURATION_PUBLISH_SENT = "configuration_publish_sent"  # intent: a publish may have happened
CONFIGURATION_PUBLISHED = "configuration_published"
SUPPORTED_CONTENT_CREATE_SENT = "supported_content_create_sent"
SUPPORTED_CONTENT_READY = "supported_content_ready"  # the channel's profile, made or changed as specified
DEPLOYMENT_CREATE_SENT = "deployment_create_sent"
DEPLOYMENT_CREATED = "deployment_created"
DEPLOYMENT_UPDATED = "deployment_updated"
DEPLOYMENT_ACTIVE = "deployment_active"
DEPLOYMENT_REPLACED = "deployment_replaced"  # the broken deployment a replacement took over from is gone
ROLLED_BACK = "rolled_back"
# A destroy job's steps: a DELETE is idempotent (404 = already gone), so a crash resumes by sending it again.
DESTROY_PLANNED = "destroy_planned"  # which objects the channel has: recorded ids and marked objects
DEPLOYMENT_DELETED = "deployment_deleted"
DEPLOYMENT_GONE = "deployment_gone"  # GET answers 404: the configuration is no longer in use
CONFIGURATION_DELETED = "configuration_deleted"
CONFIGURATION_GONE = "configuration_gone"
SUPPORTED_CONTENT_DELETED = "supported_content_deleted"

# The steps a person sees as progress (intent markers are bookkeeping).
VISIBLE_STEPS = frozenset(
    {
        PLANNED,
        CONFIGURATION_CREATED,
        CONFIGURATION_UPDATED,
        CONFIGURATION_PUBLISHED,
        SUPPORTED_CONTENT_READY,
        DEPLOYMENT_CREATED,
        DEPLOYMENT_UPDATED,
        DEPLOYMENT_ACTIVE,
        DESTROY_PLANNED,
        DEPLOYMENT_GONE,
        CONFIGURATION_GONE,
        SUPPORTED_CONTENT_DELETED,
    }
)


class StepResult(BaseModel):
    """Base of every checkpointed result: camelCase document, frozen, strict about its fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")

    def document(self) -> dict[str, object]:
        return self.model_dump(by_alias=True, mode="json")


R = TypeVar("R", bound=StepResult)


class CreateIntent(StepResult):
    """A create is about to be sent: if no answer is recorded, look for this marker before resending.
    `inFlightS`: how long the sender's request may last (its transport's timeout), so a worker taking
    the job over knows when that request must have ended, carried out or not."""

    marker: str
    in_flight_s: float = 30.0
    # False once the sender saw its request end (an answer, an error, or its timeout): nothing of it
    # is in flight, so a takeover need not wait for it.
    in_flight: bool = True


class PublishIntent(StepResult):
    """A publish is about to be sent; a published version above `before` means it happened."""

    configuration_id: str
    before: int | None


class ConfigurationReady(StepResult):
    """The configuration this channel uses, and how it came to be."""

    configuration_id: str
    created: bool
    adopted_lost_create: bool = False


class Published(StepResult):
    """The version the deployment uses, and the hash of what gcwm set on it (mapping.content_hash)."""

    configuration_id: str
    version: str
    adopted_lost_publish: bool = False
    content_hash: str | None = None


class SupportedContentReady(StepResult):
    """The channel's supported content profile, and how it came to be."""

    profile_id: str
    created: bool
    adopted_lost_create: bool = False


class DeploymentReady(StepResult):
    deployment_id: str
    created: bool
    adopted_lost_create: bool = False


class DeploymentActive(StepResult):
    deployment_id: str
    status: str
    snippet: str


class Replaced(StepResult):
    """The broken deployment that a new one replaced, and whether its removal went through."""

    old_deployment_id: str
    removed: bool


class RolledBack(StepResult):
    removed: list[str]
    discarded: list[str]


class DestroyTargets(StepResult):
    """What a destroy job removes: the ids the store recorded and the objects marked for the channel
    (profiles: the one recorded, or named for the channel, that no other deployment uses)."""

    deployment_ids: list[str]
    configuration_ids: list[str]
    supported_content_ids: list[str] = []


class Removed(StepResult):
    """Objects of one kind deleted (`already_gone`: those that answered 404), or seen gone after it."""

    ids: list[str]
    already_gone: list[str] = []
