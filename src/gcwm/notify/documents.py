"""A notification as gcwm shows it, on the command line and over HTTP alike: the target's type and
URL only (never its secret's name's value, never a header), and what the target answered only to
those who may see it (replies.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gcwm.notify.replies import split_error
from gcwm.store import OutboxMessage


def notification_document(message: OutboxMessage, *, replies: bool = False) -> dict[str, Any]:
    """`gcwm notify list --output json`'s row and `GET /v1/notifications`'s item; `lastReply` (at most
    200 bytes of the target's last answer, cleaned) only with `replies` (an admin), else null."""
    error, reply = split_error(message.last_error)
    return {
        "id": message.id,
        "status": message.status,
        "event": message.event_type,
        "channel": message.channel,
        "orgId": message.org_id,
        "target": {"type": message.target.get("type"), "url": message.target.get("url")},
        "attempts": message.attempts,
        "nextAttemptAt": iso(message.next_attempt_at),
        "deliveredAt": iso(message.delivered_at),
        "lastError": error,
        "lastReply": reply if replies else None,
        "externalRef": message.external_ref,
        "auditSeq": message.audit_seq,
        "createdAt": iso(message.created_at),
    }


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
