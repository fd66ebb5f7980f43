"""What the audit tests run in separate processes (spawned, so importable by name)."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from gcwm.audit import AuditEvent, AuditTargets, load_signing_key, record
from gcwm.store import Store, connect


def append_entries(
    url: str, worker_id: str, home: str, count: int, every: int, start: Any, results: Any
) -> None:
    """Append `count` entries, one transaction each; put (worker_id, their seqs) or (worker_id, error)."""
    try:
        engine = connect(url)
        try:
            store = Store(engine)
            key = load_signing_key(Path(home))
            start.wait(timeout=60)
            seqs = []
            for n in range(count):
                event = AuditEvent(
                    action="job.enqueued",
                    actor=worker_id,
                    org_id="org-1",
                    targets=AuditTargets(channel=f"{worker_id}-{n}"),
                    outcome="succeeded",
                    correlation_id=worker_id,
                )
                with store.unit_of_work() as tx:
                    seqs.append(record(tx, event, key=key, every=every).seq)
        finally:
            engine.dispose()
        results.put((worker_id, seqs))
    except BaseException:
        results.put((worker_id, traceback.format_exc()))
