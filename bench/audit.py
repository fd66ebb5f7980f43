"""Audit log benchmark: append and verify throughput, and what one append adds to a provisioning step.

On SQLite (a file in a temporary directory) and PostgreSQL (a fresh schema in GCWM_TEST_POSTGRES_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/test), it prints:

- append: entries/s through `gcwm.audit.record`, one transaction per entry as provisioning does (with
  the signing key, so every 1 000th entry also signs a checkpoint);
- verify: entries/s of `verify_store` over a log of --entries entries (bulk-inserted, correctly chained,
  a checkpoint every 1 000), best of three; target >= 100 000/s;
- overhead: a provisioning-like checkpoint transaction (tx.jobs.record_step + tx.channels.record_ids
  on a real, claimed job and a stored channel) with and without one audit append, run alternately;
  the median of each and the difference as a percentage; target < 10 %. The transaction is only part
  of a step's local time, so the percentage is an upper bound for the step. A third variant also
  queues a webhook notification with the append, as the transaction that ends a subscribed job does;
  per job: STEPS_PER_JOB step transactions (a created channel's), the last one also queueing.

    python bench/audit.py                      # both databases, 100 000 entries
    python bench/audit.py --entries 20000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gcwm.audit import (
    AuditEvent,
    AuditTargets,
    SigningKey,
    checkpoint,
    end_run,
    head_path,
    load_signing_key,
    record,
    verify_store,
)
from gcwm.audit.chain import GENESIS, seal
from gcwm.notify import enqueue
from gcwm.observability.logging import configure_logging
from gcwm.spec import Itsm
from gcwm.store import Store, connect
from gcwm.store.audit import AuditEntry, AuditRepository

POSTGRES_URL = os.environ.get("GCWM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
APPENDS = 2_000
OVERHEAD_ROUNDS = 1_000
#: Transactions of a job that creates a channel: 8 steps (planned, 3 sends, 3 answers, active), the finish.
STEPS_PER_JOB = 9


def _event(n: int) -> AuditEvent:
    return AuditEvent(
        action="step.done",
        actor="bench@example.com",
        org_id="org-1",
        targets=AuditTargets(
            channel=f"bench-{n % 50:04d}", deployment=str(uuid.UUID(int=n)), job=str(uuid.UUID(int=n))
        ),
        outcome="succeeded",
        correlation_id=uuid.UUID(int=n).hex,
        # As a step.done entry's: a float duration (the canonical writer's costlier case) and names.
        summary={"step": "deployment_created", "durationMs": 3.7 + n % 997 / 10, "specHash": f"{n:064x}"},
    )


@contextmanager
def _database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/gcwm.db"
        return
    base = sa.make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    schema = f"bench_{uuid.uuid4().hex}"
    admin = sa.create_engine(base, poolclass=sa.NullPool, connect_args={"connect_timeout": 5})
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _appends(store: Store, key: SigningKey, n: int) -> float:
    events = [_event(i) for i in range(n)]
    started = time.perf_counter()
    for event in events:
        with store.unit_of_work() as tx:
            record(tx, event, key=key)
    return n / (time.perf_counter() - started)


def _fill(store: Store, key: SigningKey, total: int) -> None:
    """Bulk-insert correctly chained entries up to `total`, signing a checkpoint every 1 000."""
    with store.unit_of_work() as tx:
        head = AuditRepository(tx.connection).head()
    seq, prev = (0, GENESIS) if head is None else head
    start = datetime.now(UTC)
    while seq < total:
        batch = []
        for n in range(seq + 1, min(total, (seq // 1000 + 1) * 1000) + 1):
            at = start + timedelta(microseconds=n)
            event = _event(n)
            body, prev = seal(n, at, prev, event.fields())
            batch.append(
                AuditEntry(
                    n, at, event.action, event.org_id, event.targets.channel, event.targets.job, body, prev
                )
            )
        with store.unit_of_work() as tx:
            AuditRepository(tx.connection).insert_many(batch)
            checkpoint(tx, key)
        seq = batch[-1].seq


def _verify(store: Store, key: SigningKey, entries: int, home: Path) -> float:
    end_run(store, key, head_path(home))  # verify is ok only with a head kept outside the database
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        result = verify_store(store, key.public_key, head_file=head_path(home))
        best = min(best, time.perf_counter() - started)
        assert result.ok and result.entries == entries, result.message
    return entries / best


def _overhead(store: Store, key: SigningKey, rounds: int) -> dict[str, float]:
    """Median milliseconds of a step's checkpoint transaction without and with one audit append."""
    spec = {"name": "bench-web", "allowedDomains": ["example.com"]}
    with store.unit_of_work() as tx:
        tx.channels.upsert_desired("org-1", "bench-web", "bench-web", spec, "ab" * 32)
        tx.jobs.enqueue(
            batch_id="bench",
            org_id="org-1",
            channel_name="bench-web",
            channel_key="bench-web",
            kind="provision",
            spec=spec,
            actor="bench",
            correlation_id="bench",
        )
    with store.unit_of_work() as tx:
        job = tx.jobs.claim_next("bench-worker", 3600)
    assert job is not None
    data = {"deploymentId": str(uuid.uuid4()), "created": True, "status": "Active"}
    subscription = Itsm.model_validate(
        {"type": "webhook", "url": "https://itsm.example.com/hook", "secretEnv": "BENCH_SECRET"}
    )
    times: dict[int, list[float]] = {0: [], 1: [], 2: []}  # plain, + audit, + audit and outbox
    events = [_event(i) for i in range(rounds * 3)]  # what the step knows already: not timed
    for i, event in enumerate(events):
        variant = i % 3
        started = time.perf_counter()
        with store.unit_of_work() as tx:
            tx.jobs.record_step(job.id, "bench-worker", f"step-{i}", data, 12.5)
            tx.channels.record_ids(
                "org-1", "bench-web", deployment_id=data["deploymentId"], deployment_status="Active"
            )
            if variant:
                head = record(tx, event, key=key)
            if variant == 2:
                enqueue(
                    tx,
                    org_id="org-1",
                    channel="bench-web",
                    subscription=subscription,
                    event_type="channel.provisioned",
                    data={"outcome": "created", "deployment": {"id": data["deploymentId"]}},
                    audit_seq=head.seq,
                    audit_hash=head.hash,
                )
        times[variant].append((time.perf_counter() - started) * 1000)
    without, with_, outbox = (statistics.median(times[v]) for v in (0, 1, 2))
    return {
        "withoutMs": without,
        "withMs": with_,
        "overheadPercent": (with_ - without) / without * 100,
        "withOutboxMs": outbox,
        "outboxOverheadPercent": (outbox - without) / without * 100,
        "jobOverheadPercent": ((STEPS_PER_JOB - 1) * with_ + outbox) / (STEPS_PER_JOB * without) * 100 - 100,
    }


def run(kind: str, entries: int) -> dict[str, Any]:
    """All three measurements on one fresh database of this kind."""
    with tempfile.TemporaryDirectory() as tmp, _database(kind, Path(tmp)) as url:
        engine = connect(url)
        try:
            store = Store(engine)
            key = load_signing_key(Path(tmp) / "home")
            overhead = _overhead(store, key, OVERHEAD_ROUNDS)
            appends = _appends(store, key, APPENDS)
            _fill(store, key, entries)
            verify = _verify(store, key, entries, Path(tmp) / "home")
        finally:
            engine.dispose()
    return {"appendPerSecond": appends, "verifyPerSecond": verify, "entries": entries, **overhead}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the verified log")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging(level="warning")  # no line per checkpoint on stdout
    results: dict[str, Any] = {}
    for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
        try:
            results[kind] = run(kind, args.entries)
        except sa.exc.OperationalError as exc:
            results[kind] = {"skipped": f"cannot use {kind}: {str(exc.orig).splitlines()[0]}"}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for kind, r in results.items():
        if "skipped" in r:
            print(f"{kind:10s} skipped: {r['skipped']}")
            continue
        print(
            f"{kind:10s} append {r['appendPerSecond']:8.0f} entries/s (one transaction each)   "
            f"verify {r['verifyPerSecond']:9.0f} entries/s over {r['entries']} (target >= 100000)   "
            f"step transaction {r['withoutMs']:.3f} ms -> {r['withMs']:.3f} ms with an append: "
            f"+{r['overheadPercent']:.1f} % (target < 10 %); with a notification queued too "
            f"{r['withOutboxMs']:.3f} ms: +{r['outboxOverheadPercent']:.1f} %; per job of"
            f" {STEPS_PER_JOB} steps: +{r['jobOverheadPercent']:.1f} %"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
