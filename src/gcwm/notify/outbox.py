"""Queueing a notification: the event's payload written to the outbox in the caller's transaction.

The message is written in the same transaction as the audit entry it reports, so a change that is
committed always has its notification queued, and one rolled back has none (the transactional outbox).
The payload is serialised once, here, and those exact bytes are what every attempt sends and signs
(re-serialising JSON would break signatures). Its shape (Standard Webhooks' recommendation):

    {"type": "channel.provisioned", "timestamp": "2026-07-01T10:00:00.123Z",
     "data": {"orgId": "...", "channel": "support-web", <the caller's fields: outcome, configuration,
              deployment, latencyMs, jobId, error ...>, "audit": {"seq": 42, "hash": "ab12..."}}}

The message id (`msg_` and 32 hex digits) is the webhook-id, ServiceNow's correlation_id and Jira's
marker: the same on every retry. The target stored with it is the subscription without its event
list: type, url, secretEnv and the type's own settings, never a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, get_args
from uuid import uuid4

from gcwm.spec import Itsm
from gcwm.store import UnitOfWork

EventType = Literal[
    "channel.provisioned", "channel.failed", "channel.removed", "channel.drifted", "audit.checkpoint"
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
_RESERVED_KEYS = frozenset({"orgId", "channel", "audit"})


def new_message_id() -> str:
    """A fresh webhook-id: letters, digits and `_` only, as Standard Webhooks asks (no `.`)."""
    return f"msg_{uuid4().hex}"


def build_payload(event_type: str, timestamp: datetime, data: Mapping[str, Any]) -> str:
    """The payload text `{type, timestamp, data}`, compact, keys sorted, UTF-8 as is."""
    document = {"type": event_type, "timestamp": _iso(timestamp), "data": data}
    return json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def subscribes(subscription: Itsm | None, event_type: str) -> bool:
    """Whether the channel's `itsm:` asks for this event (`channel.failed` <-> `failed`,
    `audit.checkpoint` <-> `checkpoint`)."""
    if subscription is None:
        return False
    return event_type.removeprefix("channel.").removeprefix("audit.") in subscription.events


def enqueue(
    tx: UnitOfWork,
    *,
    org_id: str,
    channel: str,
    subscription: Itsm | None,
    event_type: str,
    data: Mapping[str, Any],
    audit_seq: int | None,
    audit_hash: str | None,
) -> str | None:
    """Queue the event in `tx` if the channel subscribes to it; the message id, or None if not."""
    if event_type not in EVENT_TYPES:
        msg = f"unknown notification event {event_type!r}; expected one of {', '.join(EVENT_TYPES)}"
        raise ValueError(msg)
    if subscription is None or not subscribes(subscription, event_type):
        return None
    clash = _RESERVED_KEYS & set(data)
    if clash:
        msg = f"notification data may not set {', '.join(sorted(clash))}: enqueue sets them"
        raise ValueError(msg)
    outbox = tx.outbox  # its clock is the transaction's, already read for the audit entry
    body = {**data, "orgId": org_id, "channel": channel, "audit": {"seq": audit_seq, "hash": audit_hash}}
    target = subscription.model_dump(by_alias=True, mode="json", exclude={"events"}, exclude_none=True)
    return outbox.add(
        message_id=new_message_id(),
        org_id=org_id,
        channel=channel,
        event_type=event_type,
        target=target,
        payload=build_payload(event_type, outbox.now(), body),
        audit_seq=audit_seq,
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
