"""The trace every state change leaves, written in the change's own transaction: one audit entry,
and the ITSM notifications the channel subscribes to (each carrying the entry's sequence and hash).

The signing key is loaded (made, on first use) when the first entry is written or a run starts,
so commands that change nothing never create one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gcwm.audit import AuditEvent, AuditHead, AuditTargets, SigningKey, check_signer, end_run, record
from gcwm.errors import Finding
from gcwm.notify import enqueue, enqueue_checkpoint
from gcwm.spec import ChannelSpec, Itsm
from gcwm.store import Job, Store, UnitOfWork

DEFAULT_CHECKPOINT_EVERY = 1000
#: The findings a refusal's one entry keeps (the answer to the request has them all); with 1000
#: channels each of several findings, the entry would otherwise run to a megabyte.
REFUSAL_FINDINGS = 100


class Evidence:
    """Writes audit entries (checkpointed every N) and queues notifications, in the caller's transaction."""

    def __init__(
        self,
        load_key: Callable[[], SigningKey] | None = None,
        *,
        head_file: Path | None = None,
        every: int = DEFAULT_CHECKPOINT_EVERY,
    ) -> None:
        self._load_key = load_key
        self._key: SigningKey | None = None
        self._key_lock = threading.Lock()
        self._head_file = head_file
        self._every = every

    def key(self) -> SigningKey | None:
        """The signing key, loaded (made, on first use) once even when worker threads ask together."""
        with self._key_lock:
            if self._key is None and self._load_key is not None:
                self._key = self._load_key()
            return self._key

    def ready(self, store: Store) -> None:
        """Load the key and check it may sign this log, so a wrong key stops a run before any write."""
        key = self.key()
        if key is not None:
            with store.reading() as tx:
                check_signer(tx, key)

    def record(self, tx: UnitOfWork, event: AuditEvent) -> AuditHead:
        """Append `event`; the entry that completes a run of N is checkpointed with it."""
        return record(tx, event, key=self.key(), every=self._every)

    def refusal(
        self,
        tx: UnitOfWork,
        *,
        org_id: str,
        actor: str,
        correlation_id: str,
        specs: Sequence[ChannelSpec],
        findings: Sequence[Finding],
    ) -> AuditHead:
        """Record a batch the policy refused as ONE entry listing its channels (a refused batch of
        1000 must not write 1000 entries: issue 23, item 6); at most REFUSAL_FINDINGS findings kept."""
        names = [spec.name for spec in specs]
        summary = {
            "channels": [{"name": spec.name, "specHash": spec.spec_hash()} for spec in specs],
            "findings": [f.to_dict() for f in findings[:REFUSAL_FINDINGS]],
            "findingsTotal": len(findings),
        }
        event = AuditEvent(
            action="policy.refused",
            actor=actor,
            org_id=org_id,
            # A batch of one names its channel, so `audit show --channel` finds it.
            targets=AuditTargets(channel=names[0] if len(names) == 1 else None),
            outcome="refused",
            correlation_id=correlation_id,
            summary=summary,
        )
        return self.record(tx, event)

    def for_job(
        self,
        tx: UnitOfWork,
        job: Job,
        action: str,
        outcome: str,
        summary: Mapping[str, Any],
        *,
        configuration: str | None = None,
        deployment: str | None = None,
        actor: str | None = None,
    ) -> AuditHead:
        """Record what a job did, under the job's correlation id and its own actor (or `actor`: who
        resumed or cancelled it)."""
        targets = AuditTargets(
            channel=job.channel_name, job=job.id, configuration=configuration, deployment=deployment
        )
        event = AuditEvent(
            action=action,
            actor=actor or job.actor,
            org_id=job.org_id,
            targets=targets,
            outcome=outcome,
            correlation_id=job.correlation_id,
            summary=summary,
        )
        return self.record(tx, event)

    def notify(
        self, tx: UnitOfWork, job: Job, event_type: str, data: Mapping[str, Any], head: AuditHead
    ) -> str | None:
        """Queue `event_type` for the job's channel if its spec subscribes; the message id, or None."""
        itsm = job.spec.get("itsm")
        if not itsm:
            return None
        return enqueue(
            tx,
            org_id=job.org_id,
            channel=job.channel_name,
            subscription=Itsm.model_validate(itsm),
            event_type=event_type,
            data=data,
            audit_seq=head.seq,
            audit_hash=head.hash,
        )

    def end_run(self, store: Store) -> None:
        """Sign the chain's head and record it outside the database (GCWM_HOME)."""
        key = self.key()
        if key is not None and self._head_file is not None:
            end_run(store, key, self._head_file, witness=enqueue_checkpoint)
