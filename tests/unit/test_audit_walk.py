"""What verify says at the first row that does not fit, for each way a log can be tampered with, and
what it says of an intact one (gcwm.audit.verify on chains held in memory; issue 25)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gcwm.audit import KeptHead, SignedHead, SigningKey, verify_chain
from gcwm.audit.chain import GENESIS, seal
from gcwm.audit.checkpoints import sign_head
from gcwm.audit.keys import key_id
from gcwm.audit.verify import RecordedHead, VerifyResult, _ColumnCheck, _Problem
from gcwm.errors import ConfigError
from gcwm.store.audit import AuditHead, ChainRow

KEY = SigningKey(Ed25519PrivateKey.generate(), Path("trusted.pem"))
OTHER = SigningKey(Ed25519PrivateKey.generate(), Path("other.pem"))
START = datetime(2026, 11, 1, tzinfo=UTC)
UNSIGNED_ADVICE = (
    "appended since the head was last signed, or forged; read them with `gcwm audit show`, and only if they "
    "are genuine sign them with `gcwm audit sign`"
)
NO_HEAD_ADVICE = (
    "no head was recorded outside the database (a copy, a restore, a database this GCWM_HOME never signed,"
    " or "
    "a new one); pass --head FILE with a head kept elsewhere (`gcwm audit sign --output json`, or an "
    "audit.checkpoint event)"
)


def _chain(n: int, *, action: str = "job.queued", prev: str = GENESIS, start: int = 1) -> list[ChainRow]:
    rows = []
    for seq in range(start, start + n):
        fields = {"action": action, "orgId": "o", "targets": {}}
        body, prev = seal(seq, START + timedelta(seconds=seq), prev, fields)
        rows.append((seq, body, prev))
    return rows


ROWS = _chain(6)


def _signed(seq: int, key: SigningKey = KEY, rows: list[ChainRow] = ROWS) -> SignedHead:
    return sign_head(key, AuditHead(seq, rows[seq - 1][2]), START)


def _verify(rows: list[ChainRow], heads: list[SignedHead] | None = None, **kept: object) -> VerifyResult:
    """Checked against a checkpoint and a recorded head at seq 6 of the untampered chain."""
    recorded = RecordedHead(_signed(6), ROWS[0][2], "the head file")
    return verify_chain(
        rows, [_signed(6)] if heads is None else heads, KEY.public_key, recorded=recorded, **kept
    )  # type: ignore[arg-type]


def _renumbered(rows: list[ChainRow], by: int) -> list[ChainRow]:
    return [(seq + by, body, hash_) for seq, body, hash_ in rows]


def test_an_intact_log_says_how_many_entries_and_heads_and_what_vouches_for_its_end() -> None:
    """ok, every entry counted, the key named."""
    result = _verify(ROWS)
    assert (result.ok, result.entries, result.first_bad, result.reason) == (True, 6, None, None)
    assert result.signed_heads == 2
    assert result.message == (
        f"6 entries chain from the first; 2 signed heads match (key {key_id(KEY.public_key)}); the newest"
        " covers"
        " the last entry, and the head at seq 6 recorded in the head file vouches for the end"
    )
    assert result.to_dict() == {"ok": True, "entries": 6, "firstBad": None, "reason": None}


EDITED_3 = json.loads(ROWS[2][1]) | {"action": "forged"}
REPLACED_2 = seal(2, START, ROWS[0][2], {"action": "other", "orgId": "o", "targets": {}})


@pytest.mark.parametrize(
    ("rows", "first_bad", "reason", "message"),
    [
        pytest.param(ROWS[:2] + ROWS[3:], 3, "deleted", "entry 3 is missing", id="one-deleted"),
        pytest.param(ROWS[:2] + ROWS[4:], 3, "deleted", "entries 3..4 are missing", id="two-deleted"),
        pytest.param(
            ROWS[:2] + _renumbered(ROWS[3:], -1),
            3,
            "deleted",
            "entry 3 is missing (the later ones were renumbered)",
            id="deleted-renumbered",
        ),
        pytest.param(
            ROWS[:2] + _renumbered(ROWS[4:], -2),
            3,
            "deleted",
            "entries 3..4 are missing (the later ones were renumbered)",
            id="two-deleted-renumbered",
        ),
        pytest.param(
            [(0, ROWS[0][1], ROWS[0][2]), *ROWS],
            0,
            "inserted",
            "a row with seq 0 comes before the first entry",
            id="before-the-first",
        ),
        pytest.param(
            [*ROWS[:2], (3, ROWS[3][1], ROWS[3][2]), (4, ROWS[2][1], ROWS[2][2]), *ROWS[4:]],
            3,
            "reordered",
            "the row at seq 3 holds entry 4, and entry 3 is at seq 4",
            id="swapped",
        ),
        pytest.param(
            [
                *ROWS[:2],
                (3, ROWS[4][1], ROWS[4][2]),
                (4, ROWS[3][1], ROWS[3][2]),
                (5, ROWS[2][1], ROWS[2][2]),
            ],
            3,
            "reordered",
            "the row at seq 3 holds entry 5, and entry 3 is at seq 5",
            id="found-further-on",
        ),
        pytest.param(
            [*ROWS[:3], (4, ROWS[1][1], ROWS[1][2]), *_renumbered(ROWS[3:], 1)],
            4,
            "inserted",
            "the row at seq 4 repeats entry 2",
            id="repeated",
        ),
        pytest.param(
            [*ROWS[:3], (4, ROWS[0][1], ROWS[0][2]), *_renumbered(ROWS[3:], 1)],
            4,
            "inserted",
            "the row at seq 4 repeats entry 1",
            id="repeated-first",
        ),
        pytest.param(
            [*ROWS[:2], (3, "junk", "00" * 32), *_renumbered(ROWS[2:], 1)],
            3,
            "inserted",
            "the row at seq 3 does not belong: the entry after it follows seq 2",
            id="foreign-row",
        ),
        pytest.param(
            [*ROWS, (7, ROWS[1][1], "11" * 32)],
            2,
            "inserted",
            "rows 2..6 were inserted: the row at seq 7 holds entry 2",
            id="earlier-entry-again",
        ),
        pytest.param(
            [*ROWS, (7, ROWS[5][1], "11" * 32)],
            6,
            "inserted",
            "row 6 was inserted: the row at seq 7 holds entry 6",
            id="last-entry-again",
        ),
        pytest.param(
            [*ROWS[:2], (3, "junk", ROWS[2][2]), *ROWS[3:]],
            3,
            "edited",
            "the row at seq 3 does not hold an audit entry",
            id="not-an-entry",
        ),
        pytest.param(
            [*ROWS[:2], (3, json.dumps(EDITED_3), ROWS[2][2]), *ROWS[3:]],
            3,
            "edited",
            "the entry at seq 3 does not match its hash",
            id="edited-body",
        ),
        pytest.param(
            [ROWS[0], (2, *REPLACED_2), *ROWS[2:]],
            2,
            "edited",
            "the entry at seq 2 was replaced: the entry after it follows another hash",
            id="replaced-with-a-new-hash",
        ),
    ],
)
def test_the_first_row_that_does_not_fit_is_named_with_what_happened_there(
    rows: list[ChainRow], first_bad: int, reason: str, message: str
) -> None:
    """Deleted, reordered, inserted or edited, and where."""
    result = _verify(rows)
    assert (result.ok, result.first_bad, result.reason, result.message) == (False, first_bad, reason, message)
    assert result.entries == len(rows)  # every row read, past the first bad one too


def test_rows_are_counted_to_the_end_past_the_first_bad_one() -> None:
    """`entries` is every row read, not where the walk stopped."""
    assert _verify(ROWS[:2] + ROWS[3:]).entries == 5
    assert _verify([*ROWS[:2], (3, "junk", "00" * 32), *_renumbered(ROWS[2:], 1)]).entries == 7


def test_entries_rewritten_with_a_consistent_chain_are_named_from_the_last_head_that_matched() -> None:
    """A signed head at 2 still matches, the one at 6 does not: entries 3..6 were rewritten."""
    rewritten = ROWS[:2] + _chain(4, action="rewritten", prev=ROWS[1][2], start=3)
    result = _verify(rewritten, [_signed(2), _signed(6)])
    assert (result.first_bad, result.reason) == (3, "edited")
    assert result.message == "entries 3..6 were rewritten: entry 6 does not match the checkpoint at seq 6"


def test_a_log_cut_before_a_kept_head_is_truncated_even_when_empty() -> None:
    """The end the head someone kept vouches for is gone."""
    kept = [KeptHead(_signed(6), "w.json")]
    cut = _verify(ROWS[:4], [_signed(4)], kept=kept)
    assert (cut.first_bad, cut.reason, cut.entries) == (5, "truncated", 4)
    assert (
        cut.message == "the log ends at seq 4, before the head at seq 6 kept in w.json: entries were removed"
    )
    emptied = _verify([], [], kept=kept)
    assert (emptied.first_bad, emptied.reason) == (1, "truncated")
    assert (
        emptied.message == "the log is empty, before the head at seq 6 kept in w.json: entries were removed"
    )


def test_a_head_not_signed_by_the_trusted_key_is_a_bad_signature_naming_both_keys() -> None:
    """Another key's head names that key; a signature that does not verify names none."""
    trusted = key_id(KEY.public_key)
    other = _verify(ROWS, [_signed(6, OTHER)])
    assert (other.first_bad, other.reason) == (6, "bad signature")
    assert other.message == (
        f"the checkpoint at seq 6 is not signed by the trusted key {trusted} (it names key"
        f" {key_id(OTHER.public_key)})"
    )
    good = _signed(6)
    forged = SignedHead(good.seq, good.hash, good.at, good.key_id, _signed(5).signature)
    assert (
        _verify(ROWS, [forged]).message
        == f"the checkpoint at seq 6 is not signed by the trusted key {trusted}"
    )


def test_entries_no_signed_head_covers_are_named_with_what_covers_the_rest() -> None:
    """One entry or several; with no trusted checkpoint at all, that is said."""
    longer = ROWS + _chain(1, prev=ROWS[5][2], start=7)
    one = _verify(longer)
    assert (one.first_bad, one.reason) == (7, "unsigned")
    assert (
        one.message == f"entry 7 is not covered by a signed head (the newest covers seq 6): {UNSIGNED_ADVICE}"
    )
    none = verify_chain(ROWS, [], KEY.public_key)
    assert none.message == (
        "entries 1..6 are not covered by a signed head (there is no checkpoint from a trusted key in the "
        f"database and no head recorded outside it): {UNSIGNED_ADVICE}"
    )


def test_nothing_kept_outside_is_no_head_for_a_log_or_an_empty_one() -> None:
    """Where the log ends, or that it should be empty, is what nothing vouches for."""
    result = verify_chain(ROWS, [_signed(6)], KEY.public_key)
    assert (result.first_bad, result.reason) == (7, "no head")
    assert (
        result.message
        == f"nothing kept outside the database vouches for where the log ends: {NO_HEAD_ADVICE}"
    )
    assert result.to_dict() == {"ok": False, "entries": 6, "firstBad": 7, "reason": "no head"}
    empty = verify_chain([], [], KEY.public_key)
    assert empty.message == (
        f"nothing kept outside the database vouches for that the log should be empty: {NO_HEAD_ADVICE}"
    )


def test_signed_heads_without_a_public_key_are_a_configuration_error() -> None:
    """Heads cannot be checked without the key: say how to pass one."""
    with pytest.raises(ConfigError) as caught:
        verify_chain(ROWS, [_signed(6)], None)
    assert caught.value.message == (
        "no public key to check the audit log's 1 signed heads with: pass --public-key FILE or set "
        "GCWM_AUDIT_KEY_FILE"
    )


def _search_row(row: ChainRow, **columns: object) -> tuple[object, ...]:
    entry = json.loads(row[1])
    found = {"at": entry["at"], "action": entry["action"], "org": "o", "channel": None, "job": None} | columns
    return (*row, found["at"], found["action"], found["org"], found["channel"], found["job"])


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        (
            "at",
            "2020-01-01T00:00:00.000000Z",
            "its time column says '2020-01-01T00:00:00.000000Z' and the entry '2026-11-01T00:00:02.000000Z'",
        ),
        ("action", "job.cancelled", "its action column says 'job.cancelled' and the entry 'job.queued'"),
        ("org", "p", "its org column says 'p' and the entry 'o'"),
        ("channel", "web", "its channel column says 'web' and the entry None"),
        ("job", "job-1", "its job column says 'job-1' and the entry None"),
    ],
)
def test_a_search_column_that_disagrees_with_its_entry_is_an_edit_naming_the_column(
    column: str, value: str, said: str
) -> None:
    """The first row whose columns differ is kept as the problem; the rows pass through unchanged."""
    check = _ColumnCheck()
    rows = [_search_row(ROWS[0]), _search_row(ROWS[1], **{column: value}), _search_row(ROWS[2], org="q")]
    assert list(check._compared(rows)) == ROWS[:3]  # type: ignore[arg-type]
    assert check.problem is not None
    assert (check.problem.first_bad, check.problem.reason) == (2, "edited")
    assert check.problem.message == (
        f"the row at seq 2 was edited outside its entry: {said}, so listings filtering on it "
        "(`gcwm audit show`, /v1/audit) would miss or misplace it"
    )


def test_empty_columns_and_bodies_that_are_not_entries_are_no_column_problem() -> None:
    """'' and None are the same absent channel; a body that is not JSON is the walk's to judge."""
    check = _ColumnCheck()
    rows = [_search_row(ROWS[0], channel=""), (2, "junk", "00" * 32, None, "x", "o", None, None)]
    assert list(check._compared(rows)) == [ROWS[0], (2, "junk", "00" * 32)]  # type: ignore[arg-type]
    assert check.problem is None


def test_a_rewrite_is_counted_from_the_last_anchor_that_matched_with_every_row_read() -> None:
    """A checkpoint at 4 over entries rewritten from 3: entries 2..4 named (the last anchor that matched
    is the first entry's recorded hash), all six rows counted."""
    rewritten = ROWS[:2] + _chain(4, action="rewritten", prev=ROWS[1][2], start=3)
    result = _verify(rewritten, [_signed(4), _signed(6)])
    assert (result.first_bad, result.entries) == (2, 6)
    assert result.message == "entries 2..4 were rewritten: entry 4 does not match the checkpoint at seq 4"
    one = _verify(
        ROWS[:3] + _chain(3, action="rewritten", prev=ROWS[2][2], start=4), [_signed(3), _signed(4)]
    )
    assert one.message == "entry 4 was rewritten: entry 4 does not match the checkpoint at seq 4"


def test_a_log_rewritten_from_its_first_entry_is_named_from_entry_1() -> None:
    """Nothing before the first anchor matched: every entry up to it is suspect."""
    forged = _chain(6, action="forged")
    result = verify_chain(forged, [_signed(6)], KEY.public_key)
    assert (result.first_bad, result.reason) == (1, "edited")
    assert result.message == "entries 1..6 were rewritten: entry 6 does not match the checkpoint at seq 6"


def test_the_first_entry_recorded_outside_is_checked() -> None:
    """A head file's record of the first hash: a rebuilt first entry does not match it."""
    recorded = RecordedHead(_signed(6), "ab" * 32, "the head file")
    result = verify_chain(ROWS, [_signed(6)], KEY.public_key, recorded=recorded)
    assert (result.first_bad, result.reason) == (1, "edited")
    assert (
        result.message
        == "entry 1 was rewritten: entry 1 does not match the first entry recorded in the head file"
    )


def test_a_key_rotation_read_ahead_must_be_the_chains_entry_at_its_seq() -> None:
    """A rotation row whose hash the chain does not have anchors nothing: it is named."""
    result = _verify(ROWS, rotations=[(3, ROWS[2][1], "ff" * 32)])
    assert (result.first_bad, result.reason) == (2, "edited")
    assert result.message == "entries 2..3 were rewritten: entry 3 does not match the key rotation at seq 3"


def _rotated(retired: SigningKey, successor: SigningKey) -> list[ChainRow]:
    """Three entries, then `retired` hands signing to `successor` (an audit.key_rotated entry)."""
    from gcwm.audit.keys import public_key_pem

    rows = _chain(3)
    summary = {
        "retired": {"fingerprint": retired.key_id, "pem": public_key_pem(retired.public_key)},
        "successor": {"fingerprint": successor.key_id, "pem": public_key_pem(successor.public_key)},
    }
    fields = {"action": "audit.key_rotated", "orgId": "", "targets": {}, "summary": summary}
    body, hash_ = seal(4, START + timedelta(seconds=4), rows[2][2], fields)
    return [*rows, (4, body, hash_)]


def test_heads_of_a_key_the_trusted_one_succeeded_count_up_to_its_retirement() -> None:
    """The retired key's checkpoint before the rotation is trusted, and the message says so; its
    signature on a later head is refused, naming where it was retired."""
    rows = _rotated(OTHER, KEY)
    recorded = RecordedHead(_signed(4, rows=rows), rows[0][2], "the head file")
    heads = [_signed(3, OTHER, rows), _signed(4, KEY, rows)]
    result = verify_chain(rows, heads, KEY.public_key, recorded=recorded, rotations=[rows[3]])
    assert result.ok, result.message
    assert result.message == (
        f"4 entries chain from the first; 3 signed heads match (key {key_id(KEY.public_key)} and 1 it"
        " succeeded); the newest covers the last entry, and the head at seq 4 recorded in the head file"
        " vouches for the end"
    )
    late = [_signed(3, OTHER, rows), _signed(4, OTHER, rows)]
    refused = verify_chain(rows, late, KEY.public_key, recorded=recorded, rotations=[rows[3]])
    assert (refused.first_bad, refused.reason) == (4, "bad signature")
    assert refused.message == f"the checkpoint at seq 4 is signed by key {OTHER.key_id}, retired at seq 4"


def test_a_truncation_says_more_than_a_bad_signature_at_the_same_seq() -> None:
    """At one position a truncation ranks before a signature problem."""
    kept = [KeptHead(_signed(5), "w.json")]
    result = _verify(ROWS[:4], [_signed(4), _signed(5, OTHER)], kept=kept)
    assert (result.first_bad, result.reason) == (5, "truncated")


def _with_columns(
    rows: list[ChainRow], column_row: int, heads: list[SignedHead] | None = None, **column: object
) -> VerifyResult:
    """The store's road (verify_store) without a store: the search columns checked on the way."""
    from gcwm.audit.verify import _verify as verify_with_columns

    check = _ColumnCheck()
    search = [_search_row(row, **(column if seq == column_row else {})) for seq, row in enumerate(rows, 1)]
    recorded = RecordedHead(_signed(6), ROWS[0][2], "the head file")
    return verify_with_columns(
        check._compared(search),  # type: ignore[arg-type]
        [_signed(6)] if heads is None else heads,
        KEY.public_key,
        recorded=recorded,
        rotations=(),
        kept=(),
        unrecorded="",
        columns=check,
    )


def test_a_column_edit_is_named_and_a_broken_chain_at_the_same_row_says_more() -> None:
    """Alone, the edited column is the problem; with the chain broken at that row, the chain is."""
    alone = _with_columns(ROWS, 3, channel="web")
    assert (alone.first_bad, alone.reason) == (3, "edited")
    assert "its channel column says 'web'" in alone.message
    repeated = [*ROWS[:3], (4, ROWS[1][1], ROWS[1][2]), *_renumbered(ROWS[3:], 1)]
    both = _with_columns(repeated, 4, org="p")
    assert (both.first_bad, both.reason) == (4, "inserted")
    reordered = [*ROWS[:2], (3, ROWS[3][1], ROWS[3][2]), (4, ROWS[2][1], ROWS[2][2]), *ROWS[4:]]
    swapped = _with_columns(reordered, 3, org="p")
    assert (swapped.first_bad, swapped.reason) == (3, "reordered")


def test_a_target_that_is_not_an_object_has_no_channel_or_job() -> None:
    """`targets` of another type reads as empty: a channel column then disagrees with it."""
    check = _ColumnCheck()
    entry = json.loads(ROWS[0][1])
    body = json.dumps(entry | {"targets": ["web"]})
    row = (1, body, ROWS[0][2], entry["at"], entry["action"], "o", "web", None)
    list(check._compared([row]))  # type: ignore[list-item]
    assert (
        check.problem is not None
        and "its channel column says 'web' and the entry None" in check.problem.message
    )
    matching = (
        1,
        json.dumps(entry | {"targets": {"channel": "web", "job": "j"}}),
        ROWS[0][2],
        entry["at"],
        entry["action"],
        "o",
        "web",
        "j",
    )
    fresh = _ColumnCheck()
    list(fresh._compared([matching]))  # type: ignore[list-item]
    assert fresh.problem is None


def test_a_column_edit_says_more_than_a_bad_signature_at_the_same_seq() -> None:
    """Rank: an edited row before a head that is not the trusted key's."""
    result = _with_columns(ROWS, 6, heads=[_signed(6, OTHER)], org="p")
    assert (result.first_bad, result.reason) == (6, "edited")


def test_the_column_named_is_the_first_that_differs() -> None:
    """Channel agrees, job does not: the job column is named."""
    check = _ColumnCheck()
    entry = json.loads(ROWS[0][1]) | {"targets": {"channel": "web", "job": "j"}}
    row = (1, json.dumps(entry), ROWS[0][2], entry["at"], entry["action"], "o", "web", "k")
    list(check._compared([row]))  # type: ignore[list-item]
    assert check.problem is not None and "its job column says 'k' and the entry 'j'" in check.problem.message


def test_results_and_heads_are_frozen_values() -> None:
    """What verify hands back cannot be changed on the way to the printer."""
    result = _verify(ROWS)
    recorded = RecordedHead(_signed(6), ROWS[0][2], "f")
    kept = KeptHead(_signed(6), "w.json")
    problem = _Problem(1, 0, "edited", "m")
    for value, name in ((result, "ok"), (recorded, "first"), (kept, "source"), (problem, "rank")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, None)
