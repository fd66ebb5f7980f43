"""The audit room: a tamper-evident log of every state change, and the tools that prove it intact.

Each change appends one entry in its own unit of work (`record`): canonical JSON (RFC 8785) chained
with SHA-256 (`chain`). Every N entries and at the end of each run the head is signed with Ed25519
(`checkpoints`, key from `keys`) and kept apart from the entries, and each run's final signed head is
also written outside the database (GCWM_HOME/audit-head.json) and handed to a witness the caller
wires in (gcwm.notify's `audit.checkpoint` event). `verify` walks the chain and names the first bad
entry, and fails closed: only a signed head over the last entry, vouched for outside the database,
makes the log intact; `export` writes JSON lines an outside verifier can check offline, and CEF for SIEMs.
`rotation` hands signing from one key to the next, so the newest key vouches for the ones before it.

Imports only gcwm.errors, gcwm.store, gcwm.observability (and gcwm.lazy) from gcwm.
"""

from typing import TYPE_CHECKING

from gcwm.lazy import lazy_exports

if TYPE_CHECKING:
    from gcwm.audit.chain import canonical, format_time
    from gcwm.audit.checkpoints import (
        SignedHead,
        Witness,
        check_signer,
        checkpoint,
        end_run,
        head_document,
        head_path,
        is_due,
        read_head,
        read_head_document,
    )
    from gcwm.audit.export import cef_line, entry_documents, verify_export, write_cef, write_jsonl
    from gcwm.audit.keys import (
        SigningKey,
        configured_public_key,
        key_id,
        load_public_key,
        load_signing_key,
        public_key_pem,
        read_signing_key,
    )
    from gcwm.audit.log import AuditEvent, AuditTargets, record, redact
    from gcwm.audit.rotation import RotationResult, rotate, rotate_configured
    from gcwm.audit.verify import KeptHead, VerifyResult, verify_chain, verify_store
    from gcwm.store.audit import AuditHead


# Each public name and the module that defines it.
_EXPORTS = {
    "AuditEvent": "gcwm.audit.log",
    "AuditHead": "gcwm.store.audit",
    "AuditTargets": "gcwm.audit.log",
    "KeptHead": "gcwm.audit.verify",
    "RotationResult": "gcwm.audit.rotation",
    "SignedHead": "gcwm.audit.checkpoints",
    "SigningKey": "gcwm.audit.keys",
    "VerifyResult": "gcwm.audit.verify",
    "Witness": "gcwm.audit.checkpoints",
    "canonical": "gcwm.audit.chain",
    "cef_line": "gcwm.audit.export",
    "check_signer": "gcwm.audit.checkpoints",
    "checkpoint": "gcwm.audit.checkpoints",
    "configured_public_key": "gcwm.audit.keys",
    "end_run": "gcwm.audit.checkpoints",
    "entry_documents": "gcwm.audit.export",
    "format_time": "gcwm.audit.chain",
    "head_document": "gcwm.audit.checkpoints",
    "head_path": "gcwm.audit.checkpoints",
    "is_due": "gcwm.audit.checkpoints",
    "key_id": "gcwm.audit.keys",
    "load_public_key": "gcwm.audit.keys",
    "load_signing_key": "gcwm.audit.keys",
    "public_key_pem": "gcwm.audit.keys",
    "read_head": "gcwm.audit.checkpoints",
    "read_head_document": "gcwm.audit.checkpoints",
    "read_signing_key": "gcwm.audit.keys",
    "record": "gcwm.audit.log",
    "redact": "gcwm.audit.log",
    "rotate": "gcwm.audit.rotation",
    "rotate_configured": "gcwm.audit.rotation",
    "verify_chain": "gcwm.audit.verify",
    "verify_export": "gcwm.audit.export",
    "verify_store": "gcwm.audit.verify",
    "write_cef": "gcwm.audit.export",
    "write_jsonl": "gcwm.audit.export",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "AuditEvent",
    "AuditHead",
    "AuditTargets",
    "KeptHead",
    "RotationResult",
    "SignedHead",
    "SigningKey",
    "VerifyResult",
    "Witness",
    "canonical",
    "cef_line",
    "check_signer",
    "checkpoint",
    "configured_public_key",
    "end_run",
    "entry_documents",
    "format_time",
    "head_document",
    "head_path",
    "is_due",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "public_key_pem",
    "read_head",
    "read_head_document",
    "read_signing_key",
    "record",
    "redact",
    "rotate",
    "rotate_configured",
    "verify_chain",
    "verify_export",
    "verify_store",
    "write_cef",
    "write_jsonl",
]
