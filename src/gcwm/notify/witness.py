"""The audit log's outside witness: each head a gcwm command signs as it ends, queued as an
`audit.checkpoint` event for every ITSM target a channel subscribes to it (`events: [checkpoint]`).

As with CloudTrail's digest files and RFC 6962's signed tree heads, the point is that someone else
keeps a copy: the receiver stores the signed head, and `gcwm audit verify --head FILE` later shows the
log still extends it (a log cut back or rewritten does not). One message per distinct target, however
many channels and orgs share it, queued in the transaction that stores the head (gcwm.audit.end_run
hands it here), so a head that rolls back is never sent. The dispatcher does not audit these
deliveries: an entry per delivery would need a head of its own, and that head another event.
"""

from __future__ import annotations

import json

import structlog
from pydantic import ValidationError

from gcwm.audit import SignedHead, head_document
from gcwm.notify.outbox import enqueue
from gcwm.spec import Itsm
from gcwm.store import UnitOfWork

log = structlog.get_logger(__name__)

CHECKPOINT_EVENT = "audit.checkpoint"
_SUBSCRIPTION = "checkpoint"


def enqueue_checkpoint(tx: UnitOfWork, head: SignedHead, database: str) -> list[str]:
    """Queue `head` once for each target a live channel subscribes to `checkpoint`; the message ids.

    Each message is addressed as from the first channel (by org, then name) with that target."""
    seen: set[str] = set()
    queued = []
    for channel in tx.channels.list():
        itsm = channel.spec.get("itsm")
        if channel.status == "removed" or not isinstance(itsm, dict):
            continue
        if _SUBSCRIPTION not in (itsm.get("events") or []):
            continue
        try:
            subscription = Itsm.model_validate(itsm)
        except ValidationError as exc:
            # A spec stored before its rules tightened: provisioning refuses it now, and so does this.
            log.warning(
                "audit.witness_skipped", org_id=channel.org_id, channel=channel.name, problem=str(exc)
            )
            continue
        target = subscription.model_dump(by_alias=True, mode="json", exclude={"events"}, exclude_none=True)
        key = json.dumps(target, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        message_id = enqueue(
            tx,
            org_id=channel.org_id,
            channel=channel.name,
            subscription=subscription,
            event_type=CHECKPOINT_EVENT,
            data=head_document(head, database),
            audit_seq=head.seq,
            audit_hash=head.hash,
        )
        if message_id is not None:
            queued.append(message_id)
    if queued:
        log.info("audit.witness_queued", seq=head.seq, messages=len(queued))
    return queued
