"""What someone with write access to gcwm's database (and not its signing key) can do to the audit
log, for the tests that show verify catches it (issue 23). They use the published chain algorithm,
as such a person would."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gcwm.audit import AuditEvent, public_key_pem
from gcwm.audit.chain import CHAIN_KEYS, GENESIS, parse_time, seal
from gcwm.audit.keys import SigningKey
from gcwm.audit.rotation import ROTATED
from gcwm.store.audit import AuditEntry, AuditRepository


def rechain(engine: Engine, keep: Callable[[dict[str, Any]], bool]) -> int:
    """Keep the entries `keep` accepts (it may edit them), renumber and chain them again from the
    start, and delete every checkpoint. Returns how many entries are left."""
    with engine.begin() as c:
        bodies = [str(b) for (b,) in c.execute(sa.text("SELECT body FROM audit_entries ORDER BY seq"))]
        c.execute(sa.text("DELETE FROM audit_entries"))
        c.execute(sa.text("DELETE FROM audit_checkpoints"))
        repo = AuditRepository(c)
        prev, seq = GENESIS, 0
        for body in bodies:
            document = json.loads(body)
            if not keep(document):
                continue
            seq += 1
            at = parse_time(document["at"])
            fields = {k: v for k, v in document.items() if k not in CHAIN_KEYS}
            new_body, hash_ = seal(seq, at, prev, fields)
            targets = document["targets"]
            channel, job = targets.get("channel"), targets.get("job")
            repo.insert(
                AuditEntry(seq, at, document["action"], document["orgId"], channel, job, new_body, hash_)
            )
            prev = hash_
    return seq


def forged_rotation(retired: SigningKey) -> AuditEvent:
    """An `audit.key_rotated` entry naming a key nobody holds as the successor."""
    return AuditEvent(
        action=ROTATED,
        actor="mallory",
        org_id="",
        outcome="succeeded",
        correlation_id="forged",
        summary={
            "retired": {"fingerprint": retired.key_id, "pem": public_key_pem(retired.public_key)},
            "successor": {"fingerprint": "0123456789abcdef", "pem": "not a key"},
        },
    )


def copy_sqlite(url: str, to: Path) -> str:
    """Copy the SQLite database at `url` to the file `to` as a backup would (WAL included); its URL."""
    to.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    target = sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return f"sqlite:///{to}"
