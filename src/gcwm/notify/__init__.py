"""The notify room: provisioning events to ITSM targets (generic webhooks, ServiceNow, Jira Service
Management), queued in the outbox in the transaction of the change they report and delivered at
least once by the dispatcher, through an egress guard, on Svix's retry schedule, then dead-lettered.

`enqueue` writes a message; `Dispatcher` sends them; `Sink`/`EmbeddedSink` receive them locally.
`enqueue_checkpoint` is the audit log's witness: each signed head, to targets subscribed to it.
May import gcwm.errors, gcwm.spec, gcwm.store, gcwm.policy and gcwm.observability.
"""

from typing import TYPE_CHECKING

from gcwm.lazy import lazy_exports

if TYPE_CHECKING:
    from gcwm.notify.delivery import Delivered, DeliveryError, TargetRefused
    from gcwm.notify.dispatcher import Dispatcher, DrainResult
    from gcwm.notify.outbox import EventType, build_payload, enqueue, new_message_id, subscribes
    from gcwm.notify.schedule import RetrySchedule, is_final, retry_after_seconds
    from gcwm.notify.sink import Fault, Received, Sink, new_secret
    from gcwm.notify.sink_server import EmbeddedSink
    from gcwm.notify.ssrf import (
        EgressGuard,
        GuardedClient,
        Resolver,
        address_refusal,
        classify,
        classify_host,
        system_resolver,
    )
    from gcwm.notify.targets import SecretSource, Target, secret_file_name
    from gcwm.notify.webhook import signed_headers
    from gcwm.notify.witness import CHECKPOINT_EVENT, enqueue_checkpoint


# Each public name and the module that defines it.
_EXPORTS = {
    "CHECKPOINT_EVENT": "gcwm.notify.witness",
    "Delivered": "gcwm.notify.delivery",
    "DeliveryError": "gcwm.notify.delivery",
    "Dispatcher": "gcwm.notify.dispatcher",
    "DrainResult": "gcwm.notify.dispatcher",
    "EgressGuard": "gcwm.notify.ssrf",
    "EmbeddedSink": "gcwm.notify.sink_server",
    "EventType": "gcwm.notify.outbox",
    "Fault": "gcwm.notify.sink",
    "GuardedClient": "gcwm.notify.ssrf",
    "Received": "gcwm.notify.sink",
    "Resolver": "gcwm.notify.ssrf",
    "RetrySchedule": "gcwm.notify.schedule",
    "SecretSource": "gcwm.notify.targets",
    "Sink": "gcwm.notify.sink",
    "Target": "gcwm.notify.targets",
    "TargetRefused": "gcwm.notify.delivery",
    "address_refusal": "gcwm.notify.ssrf",
    "build_payload": "gcwm.notify.outbox",
    "classify": "gcwm.notify.ssrf",
    "classify_host": "gcwm.notify.ssrf",
    "enqueue": "gcwm.notify.outbox",
    "enqueue_checkpoint": "gcwm.notify.witness",
    "is_final": "gcwm.notify.schedule",
    "new_message_id": "gcwm.notify.outbox",
    "new_secret": "gcwm.notify.sink",
    "retry_after_seconds": "gcwm.notify.schedule",
    "secret_file_name": "gcwm.notify.targets",
    "signed_headers": "gcwm.notify.webhook",
    "subscribes": "gcwm.notify.outbox",
    "system_resolver": "gcwm.notify.ssrf",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "CHECKPOINT_EVENT",
    "Delivered",
    "DeliveryError",
    "Dispatcher",
    "DrainResult",
    "EgressGuard",
    "EmbeddedSink",
    "EventType",
    "Fault",
    "GuardedClient",
    "Received",
    "Resolver",
    "RetrySchedule",
    "SecretSource",
    "Sink",
    "Target",
    "TargetRefused",
    "address_refusal",
    "build_payload",
    "classify",
    "classify_host",
    "enqueue",
    "enqueue_checkpoint",
    "is_final",
    "new_message_id",
    "new_secret",
    "retry_after_seconds",
    "secret_file_name",
    "signed_headers",
    "subscribes",
    "system_resolver",
]
