"""Appending to the audit log inside the caller's unit of work.

`record(tx, event)` seals the next entry and inserts it in the transaction of the state change it
records, so the change and its entry commit together or not at all (gcwm.store.audit says how
concurrent appends take turns). Given the signing key, the entry that reaches a multiple of N also
gets its checkpoint in that same transaction.

An entry's time is the change's: the unit of work's database clock, read once per transaction (as
the job rows it changes are stamped). Seq, not time, orders the log: two changes committed at once
may hold times a transaction's length out of seq order.

The summary says what changed (the spec hash, the fields that changed), never a value that lets
someone act: `redact` drops every key whose name contains a secret-like word at any depth, and values
that are credentials by their form (`whsec_...`, `Bearer ...`). It matches words, not substrings, and
errs on the side of dropping: `channelKey` goes too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from gcwm.audit.chain import GENESIS, seal
from gcwm.audit.checkpoints import DEFAULT_EVERY, is_due, store_checkpoint
from gcwm.audit.keys import SigningKey
from gcwm.store import UnitOfWork
from gcwm.store.audit import AuditEntry, AuditHead, AuditRepository

_SECRET_WORDS = frozenset(
    {
        "apikey",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "key",
        "keys",
        "passphrase",
        "passwd",
        "password",
        "privatekey",
        "secret",
        "secrets",
        "token",
        "tokens",
    }
)
_SECRET_PREFIXES = ("whsec_", "bearer ", "basic ")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@dataclass(frozen=True, kw_only=True)
class AuditTargets:
    """What a change touched: the channel (by name) and the ids gcwm or Genesys gave its parts."""

    channel: str | None = None
    configuration: str | None = None
    deployment: str | None = None
    job: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The targets that are set."""
        given = {
            "channel": self.channel,
            "configuration": self.configuration,
            "deployment": self.deployment,
            "job": self.job,
        }
        return {name: value for name, value in given.items() if value}


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """One state change to record: who did what to which objects of which org, and how it ended."""

    action: str  # dotted, past tense: "job.enqueued", "configuration.created", "channel.provisioned"
    actor: str  # a CLI user, an API key id or a service
    org_id: str
    targets: AuditTargets = AuditTargets()
    outcome: str  # "succeeded", "failed", "refused", "cancelled"
    correlation_id: str
    summary: Mapping[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        """The entry's fields as written (camelCase, like every JSON gcwm prints); summary redacted."""
        return {
            "action": self.action,
            "actor": self.actor,
            "orgId": self.org_id,
            "targets": self.targets.to_dict(),
            "outcome": self.outcome,
            "correlationId": self.correlation_id,
            "summary": redact(self.summary),
        }


def record(
    tx: UnitOfWork, event: AuditEvent, *, key: SigningKey | None = None, every: int = DEFAULT_EVERY
) -> AuditHead:
    """Append the event in the caller's transaction and return the new head (seq, hash).

    With `key`, an entry whose seq is a multiple of `every` is checkpointed in the same transaction.
    """
    fields = event.fields()
    targets = event.targets
    at = tx.jobs.now()  # the change's time: the database's clock, read once per transaction

    def build(head: AuditHead | None) -> AuditEntry:
        seq, prev = (1, GENESIS) if head is None else (head.seq + 1, head.hash)
        body, hash_ = seal(seq, at, prev, fields)
        return AuditEntry(seq, at, event.action, event.org_id, targets.channel, targets.job, body, hash_)

    repo = AuditRepository(tx.connection)
    entry = repo.append(build)
    new = AuditHead(entry.seq, entry.hash)
    if key is not None and is_due(entry.seq, every):
        store_checkpoint(repo, key, new)
    return new


def redact(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `summary` without secret-named keys or credential-shaped values, at any depth."""
    return {
        str(name): _redact(value)
        for name, value in summary.items()
        if not _is_secret_name(str(name)) and not _is_credential(value)
    }


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redact(item) for item in value if not _is_credential(item)]
    return value


@lru_cache(maxsize=4096)  # the same few field names come back on every entry
def _is_secret_name(name: str) -> bool:
    return any(word.lower() in _SECRET_WORDS for word in _WORD.findall(name))


def _is_credential(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(_SECRET_PREFIXES)
