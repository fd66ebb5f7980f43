"""API keys: made, listed, revoked and checked. A key is shown once; only its SHA-256 is stored.

A key is `gcwm_` and 256 random bits (URL-safe base64). With that much entropy a fast digest is as
strong as a slow password hash, and lets one indexed lookup find the key on every request.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from gcwm.api.roles import Principal
from gcwm.audit import AuditEvent, AuditTargets
from gcwm.observability.context import actor, correlation_id
from gcwm.provisioning import Evidence
from gcwm.provisioning.roles import Role
from gcwm.store import ApiKey, Store

KEY_PREFIX = "gcwm_"


def key_hash(token: str) -> str:
    """The stored form of a key (or a session token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(store: Store, evidence: Evidence, *, role: Role, name: str) -> tuple[ApiKey, str]:
    """Make a key; returns its record and the key itself, which is never stored or shown again."""
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    with store.unit_of_work() as tx:
        key = tx.api_keys.add(
            uuid.uuid4().hex,
            name=name,
            role=role.value,
            key_hash=key_hash(token),
            created_by=actor() or "unknown",
        )
        evidence.record(tx, _event("apikey.created", key))
    evidence.end_run(store)  # every command that appends signs the head before it exits (issue 23)
    return key, token


def revoke_key(store: Store, evidence: Evidence, ident: str) -> ApiKey:
    """Revoke a key and end the dashboard sessions opened with it."""
    with store.unit_of_work() as tx:
        key = tx.api_keys.revoke(ident)
        tx.dashboard_sessions.close_for_key(key.id)
        evidence.record(tx, _event("apikey.revoked", key))
    evidence.end_run(store)
    return key


def list_keys(store: Store) -> list[ApiKey]:
    with store.reading() as tx:
        return tx.api_keys.list()


def verify_key(store: Store, token: str) -> Principal | None:
    """The principal of a presented key, or None if it is unknown or revoked."""
    if not token.startswith(KEY_PREFIX):
        return None
    with store.reading() as tx:
        key = tx.api_keys.active_by_hash(key_hash(token))
    return None if key is None else Principal(key.id, key.name, Role(key.role))


def key_document(key: ApiKey) -> dict[str, object]:
    """A key as `gcwm keys list` and the API show it: never the key or its hash."""
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "createdBy": key.created_by,
        "createdAt": key.created_at.isoformat(),
        "revokedAt": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def _event(action: str, key: ApiKey) -> AuditEvent:
    # Keys belong to this gcwm installation, not to one Genesys org.
    return AuditEvent(
        action=action,
        actor=actor() or "unknown",
        org_id="",
        targets=AuditTargets(),
        outcome="succeeded",
        correlation_id=correlation_id(),
        # "principal": a field named after a key would be dropped as secret-named by the audit log.
        summary={"principal": key.id, "name": key.name, "role": key.role},
    )
