"""The notify room: provisioning events to ITSM targets (generic webhooks, ServiceNow, Jira Service
Management), queued in the outbox in the transaction of the change they report and delivered at
least once by the dispatcher, through an egress guard, on Svix's retry schedule, then dead-lettered.

`enqueue` writes a message; `Dispatcher` sends them; `Sink`/`EmbeddedSink` receive them locally.
`enqueue_checkpoint` is the audit log's witness: each signed head, to targets subscribed to it.
May import gcwm.errors, gcwm.spec, gcwm.store, gcwm.policy and gcwm.observability.
"""

from typing import TYPE_CHECKING, Any

from gcwm.notify.delivery import Delivered, DeliveryError, TargetRefused
from gcwm.notify.dispatcher import Dispatcher, DrainResult
from gcwm.notify.outbox import EventType, build_payload, enqueue, new_message_id, subscribes
from gcwm.notify.schedule import RetrySchedule, is_final, retry_after_seconds
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

if TYPE_CHECKING:
    from gcwm.notify.sink import Fault, Received, Sink, new_secret
    from gcwm.notify.sink_server import EmbeddedSink

# The local receiver (Starlette, uvicorn) loads only when asked for: provisioning never needs it.
_SINK_NAMES = {
    "EmbeddedSink": "gcwm.notify.sink_server",
    "Fault": "gcwm.notify.sink",
    "Received": "gcwm.notify.sink",
    "Sink": "gcwm.notify.sink",
    "new_secret": "gcwm.notify.sink",
}


def __getattr__(name: str) -> Any:
    if name in _SINK_NAMES:
        import importlib

        return getattr(importlib.import_module(_SINK_NAMES[name]), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


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
