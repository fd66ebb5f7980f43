"""Verify's fail-closed rules on chains held in memory (issue 23, item 3), and the witness event's name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gcwm.audit import SignedHead, SigningKey, verify_chain
from gcwm.audit.chain import GENESIS, seal
from gcwm.audit.checkpoints import sign_head
from gcwm.audit.verify import RecordedHead
from gcwm.notify import subscribes
from gcwm.spec import Itsm
from gcwm.store.audit import AuditHead, ChainRow

KEY = SigningKey(Ed25519PrivateKey.generate(), Path("in-memory.pem"))
START = datetime(2026, 11, 1, tzinfo=UTC)


def _chain(n: int) -> list[ChainRow]:
    prev, rows = GENESIS, []
    for seq in range(1, n + 1):
        fields = {"action": "job.queued", "actor": "a", "orgId": "o", "targets": {}, "outcome": "queued"}
        body, prev = seal(seq, START + timedelta(seconds=seq), prev, fields)
        rows.append((seq, body, prev))
    return rows


def _signed(rows: list[ChainRow], seq: int) -> SignedHead:
    return sign_head(KEY, AuditHead(seq, rows[seq - 1][2]), START)


def _recorded(rows: list[ChainRow], seq: int) -> RecordedHead:
    return RecordedHead(_signed(rows, seq), rows[0][2], "the head file")


def test_a_chain_that_holds_together_with_nothing_signed_is_not_intact() -> None:
    """Anyone who can write the database can build a consistent chain: without a signed head, no."""
    result = verify_chain(_chain(5), [], KEY.public_key)

    assert (result.ok, result.first_bad, result.reason) == (False, 1, "unsigned")


def test_a_signed_tail_without_a_head_kept_outside_is_not_intact() -> None:
    """The database's own checkpoints cannot say the log ended there: something outside must."""
    rows = _chain(5)

    alone = verify_chain(rows, [_signed(rows, 5)], KEY.public_key, unrecorded="no record in H for D")
    recorded = verify_chain(rows, [_signed(rows, 5)], KEY.public_key, recorded=_recorded(rows, 5))

    assert (alone.ok, alone.first_bad, alone.reason) == (False, 6, "no head")
    assert "no record in H for D" in alone.message
    assert (recorded.ok, recorded.reason) == (True, None)


def test_entries_after_the_newest_signed_head_are_named_not_noted() -> None:
    """Item 8: the entries no head covers make verify fail, wherever the newest head is."""
    rows = _chain(8)

    result = verify_chain(rows, [_signed(rows, 5)], KEY.public_key, recorded=_recorded(rows, 5))

    assert (result.ok, result.first_bad, result.reason) == (False, 6, "unsigned")
    assert "entries 6..8 are not covered by a signed head (the newest covers seq 5)" in result.message


def test_a_kept_head_beyond_the_end_of_the_log_is_a_truncation() -> None:
    """A log cut back to an older signed head still ends before the head someone kept."""
    from gcwm.audit import KeptHead  # new with `verify --head` (imported here: the other tests predate it)

    rows = _chain(8)
    kept = KeptHead(_signed(rows, 8), "witness.json")

    result = verify_chain(
        rows[:5], [_signed(rows, 5)], KEY.public_key, recorded=_recorded(rows, 5), kept=[kept]
    )

    assert (result.ok, result.first_bad, result.reason) == (False, 6, "truncated")
    assert "the head at seq 8 kept in witness.json" in result.message


def test_a_head_kept_outside_without_its_checkpoint_in_the_database_is_named() -> None:
    """Every head kept outside was a checkpoint too: its row deleted is a finding, not a shrug."""
    rows = _chain(5)

    result = verify_chain(rows, [], KEY.public_key, recorded=_recorded(rows, 5))

    assert (result.ok, result.first_bad, result.reason) == (False, 5, "missing checkpoint")


def test_an_empty_log_with_no_head_kept_outside_is_not_intact() -> None:
    """Emptied, a log looks new: only a head kept outside can tell, so without one it fails."""
    result = verify_chain([], [], KEY.public_key)

    assert (result.ok, result.entries, result.reason) == (False, 0, "no head")


def test_a_channel_subscribes_to_the_witness_event_as_checkpoint() -> None:
    """`events: [checkpoint]` in a channel's itsm is what queues `audit.checkpoint` to its target."""
    itsm = Itsm.model_validate(
        {
            "type": "webhook",
            "url": "https://itsm.example.com/h",
            "secretEnv": "GCWM_ITSM_X",
            "events": ["checkpoint"],
        }
    )

    assert subscribes(itsm, "audit.checkpoint") and not subscribes(itsm, "channel.provisioned")
