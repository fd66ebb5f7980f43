"""What a refusal over limits says, word for word, and the numbers it is made of (gcwm.policy.limits;
issue 25): each limit's key, its use as JSON, the per-channel count, the file's other channels."""

from __future__ import annotations

import dataclasses

import pytest

from gcwm.errors import Finding, LimitExceeded
from gcwm.policy.limits import (
    CHANNELS_PER_ORG,
    CONFIGURATIONS_MAX,
    DEPLOYMENTS_MAX,
    SESSIONS_PER_CHANNEL,
    SESSIONS_PER_ORG,
    Counts,
    LimitUse,
    fits,
    limit_uses,
    refuse_if_exceeded,
)
from gcwm.policy.rules import parse_policy_file

POLICY = parse_policy_file(
    "limits: {channelsPerOrg: 8, maxConcurrentSessionsPerChannel: 100, maxConcurrentSessionsPerOrg: 500}",
    source="p.yaml",
)
USES = limit_uses(
    org_limits={DEPLOYMENTS_MAX: 10, CONFIGURATIONS_MAX: 12},
    in_use=Counts(9, 9),
    adding=Counts(2, 2),
    policy=POLICY,
    sessions={"a": 150, "b": 120, "c": 50},
    sessions_elsewhere=300,
)


def _refusal(uses: list[LimitUse], **options: object) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as caught:
        refuse_if_exceeded(uses, **options)  # type: ignore[arg-type]
    return caught.value


def test_limits_are_named_as_genesys_and_the_policy_file_name_them() -> None:
    """`namespace.key` for the org's, `policy.limits.<key>` for the policy file's."""
    assert (DEPLOYMENTS_MAX, CONFIGURATIONS_MAX) == (
        "web.deployments.deployments.max",
        "web.deployments.configuration.max",
    )
    assert (CHANNELS_PER_ORG, SESSIONS_PER_CHANNEL, SESSIONS_PER_ORG) == (
        "policy.limits.channelsPerOrg",
        "policy.limits.maxConcurrentSessionsPerChannel",
        "policy.limits.maxConcurrentSessionsPerOrg",
    )


def test_each_use_is_one_json_object_naming_its_channel_only_when_it_has_one() -> None:
    """key, value, inUse, after (channel for a per-channel limit), in the order of the limits."""
    assert [u.to_dict() for u in USES] == [
        {"key": DEPLOYMENTS_MAX, "value": 10, "inUse": 9, "after": 11},
        {"key": CONFIGURATIONS_MAX, "value": 12, "inUse": 9, "after": 11},
        {"key": CHANNELS_PER_ORG, "value": 8, "inUse": 9, "after": 11},
        {"key": SESSIONS_PER_CHANNEL, "value": 100, "inUse": 0, "after": 150, "channel": "a"},
        {"key": SESSIONS_PER_CHANNEL, "value": 100, "inUse": 0, "after": 120, "channel": "b"},
        {"key": SESSIONS_PER_CHANNEL, "value": 100, "inUse": 0, "after": 50, "channel": "c"},
        {"key": SESSIONS_PER_ORG, "value": 500, "inUse": 300, "after": 620},
    ]


def test_a_refusal_names_every_limit_passed_once_with_its_numbers() -> None:
    """Org-wide limits say how many new channels fit and what the file's other channels do; the
    per-channel ones are counted once in the message and each a finding naming its channel."""
    refused = _refusal(USES, source="f.yaml", channels=5)
    assert refused.message == (
        "refused before any write: web.deployments.deployments.max is 10, 9 in use; the plan asks for 2 more"
        " (11 in all): 1 of the 2 new channels would fit (the other 3 of the file's 5 channels create none);"
        " policy.limits.channelsPerOrg is 8, 9 in use; the plan asks for 2 more (11 in all): 0 of the 2 new"
        " channels would fit (the other 3 of the file's 5 channels create none); policy.limits."
        "maxConcurrentSessionsPerOrg is 500, 300 in use; the plan asks for 320 more (620 in all); 2 channels"
        " ask for more maxConcurrentSessions than policy.limits.maxConcurrentSessionsPerChannel (100) allows;"
        " nothing was written"
    )
    assert refused.findings[2] == Finding(
        "limit_exceeded",
        "high",
        SESSIONS_PER_CHANNEL,
        "maxConcurrentSessions is 150; the policy allows at most 100 per channel",
        source="f.yaml",
        channel="a",
    )
    assert [(f.check, f.location, f.channel) for f in refused.findings] == [
        ("limit_exceeded", DEPLOYMENTS_MAX, ""),
        ("limit_exceeded", CHANNELS_PER_ORG, ""),
        ("limit_exceeded", SESSIONS_PER_CHANNEL, "a"),
        ("limit_exceeded", SESSIONS_PER_CHANNEL, "b"),
        ("limit_exceeded", SESSIONS_PER_ORG, ""),
    ]


def test_one_channel_over_is_said_in_the_singular_and_a_file_of_new_channels_adds_nothing() -> None:
    """`1 channel asks`, `0 of the 1 new channel would fit`; no word of other channels."""
    policy = parse_policy_file("limits: {maxConcurrentSessionsPerChannel: 100}", source="p")
    uses = limit_uses(
        org_limits={DEPLOYMENTS_MAX: 3},
        in_use=Counts(3, 0),
        adding=Counts(1, 1),
        policy=policy,
        sessions={"a": 150},
        sessions_elsewhere=0,
    )
    assert _refusal(uses, channels=1).message == (
        "refused before any write: web.deployments.deployments.max is 3, 3 in use; the plan asks for 1 more"
        " (4 in all): 0 of the 1 new channel would fit; 1 channel asks for more maxConcurrentSessions than"
        " policy.limits.maxConcurrentSessionsPerChannel (100) allows; nothing was written"
    )
    # The same file's one channel, already counted among the new ones: nothing more to say.
    assert "the other" not in _refusal(uses[:1], channels=1).message


def test_room_is_counted_from_each_count_limit_and_never_below_zero() -> None:
    """`fits` takes the tightest of the limits on how many objects there are; None when none applies."""
    assert fits(USES) == 0
    assert fits([LimitUse(DEPLOYMENTS_MAX, 10, 7, 9), LimitUse(CONFIGURATIONS_MAX, 12, 10, 12)]) == 2
    assert fits([LimitUse(SESSIONS_PER_ORG, 500, 100, 200)]) is None


def test_counts_start_at_zero_and_uses_are_frozen() -> None:
    """Nothing in the org, nothing added; a use cannot be changed after it was measured."""
    assert Counts() == Counts(deployments=0, configurations=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        USES[0].after = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Counts().deployments = 1  # type: ignore[misc]
