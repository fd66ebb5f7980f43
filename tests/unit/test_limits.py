"""Licence and capacity limits: at, under and over each one, and the local policy file."""

from __future__ import annotations

import pytest

from gcwm.errors import LimitExceeded, PolicyFileError
from gcwm.policy.limits import (
    CHANNELS_PER_ORG,
    CONFIGURATIONS_MAX,
    DEPLOYMENTS_MAX,
    SESSIONS_PER_CHANNEL,
    SESSIONS_PER_ORG,
    Counts,
    fits,
    limit_uses,
    refuse_if_exceeded,
)
from gcwm.policy.rules import LocalPolicy, parse_policy_file

ORG = {DEPLOYMENTS_MAX: 10, CONFIGURATIONS_MAX: 12}
POLICY = parse_policy_file(
    "limits: {channelsPerOrg: 8, maxConcurrentSessionsPerChannel: 100, maxConcurrentSessionsPerOrg: 500}\n",
    source="policy.yaml",
)


def _uses(
    in_use: Counts, adding: Counts, sessions: dict[str, int] | None = None, elsewhere: int = 0
) -> dict[str, bool]:
    uses = limit_uses(
        org_limits=ORG,
        in_use=in_use,
        adding=adding,
        policy=POLICY,
        sessions=sessions or {},
        sessions_elsewhere=elsewhere,
    )
    return {f"{u.key}{':' + u.channel if u.channel else ''}": u.exceeded for u in uses}


@pytest.mark.parametrize(
    ("in_use", "adding", "over"),
    [
        pytest.param(Counts(5, 5), Counts(2, 2), set(), id="under-every-limit"),
        pytest.param(Counts(6, 6), Counts(2, 2), set(), id="exactly-at-the-policy-ceiling"),
        pytest.param(Counts(7, 7), Counts(2, 2), {CHANNELS_PER_ORG}, id="over-the-policy-only"),
        pytest.param(Counts(8, 10), Counts(2, 2), {CHANNELS_PER_ORG}, id="at-deployments-and-configurations"),
        pytest.param(Counts(9, 9), Counts(2, 2), {CHANNELS_PER_ORG, DEPLOYMENTS_MAX}, id="over-deployments"),
        pytest.param(Counts(0, 11), Counts(0, 2), {CONFIGURATIONS_MAX}, id="over-configurations-alone"),
        pytest.param(Counts(10, 12), Counts(0, 0), set(), id="full-but-adding-nothing"),
    ],
)
def test_org_and_policy_limits_at_under_and_over(in_use: Counts, adding: Counts, over: set[str]) -> None:
    """A limit is passed only when the plan would take use above its value, not when it reaches it."""
    result = _uses(in_use, adding)
    assert {key for key, exceeded in result.items() if exceeded} == over


@pytest.mark.parametrize(("asked", "exceeded"), [(99, False), (100, False), (101, True)])
def test_sessions_per_channel_at_under_and_over(asked: int, exceeded: bool) -> None:
    """maxConcurrentSessions of each channel is held against the policy's per-channel ceiling."""
    assert _uses(Counts(), Counts(1, 1), {"web": asked})[f"{SESSIONS_PER_CHANNEL}:web"] is exceeded


@pytest.mark.parametrize(("elsewhere", "exceeded"), [(399, False), (400, False), (401, True)])
def test_sessions_summed_over_the_org_at_under_and_over(elsewhere: int, exceeded: bool) -> None:
    """The org's total counts the channels gcwm already knows plus this plan's."""
    assert _uses(Counts(), Counts(1, 1), {"web": 100}, elsewhere)[SESSIONS_PER_ORG] is exceeded


def test_a_refusal_names_the_limit_its_value_the_use_and_the_ask_and_how_many_fit() -> None:
    """A bulk file over a limit is refused whole, saying how many of its channels would fit."""
    uses = limit_uses(
        org_limits={DEPLOYMENTS_MAX: 3}, in_use=Counts(1, 1), adding=Counts(5, 5), policy=LocalPolicy(),
        sessions={}, sessions_elsewhere=0,
    )  # fmt: skip
    assert fits(uses) == 2
    with pytest.raises(LimitExceeded) as refused:
        refuse_if_exceeded(uses, source="bulk.yaml", channels=5)
    (finding,) = refused.value.findings
    assert (finding.location, finding.severity, finding.source) == (DEPLOYMENTS_MAX, "high", "bulk.yaml")
    assert "web.deployments.deployments.max is 3, 1 in use; the plan asks for 5 more" in finding.description
    assert "(6 in all): 2 of the 5 new channels would fit" in finding.description
    assert refused.value.message == f"refused before any write: {finding.description}; nothing was written"


def test_a_per_channel_ceiling_names_each_channel_once_and_says_nothing_about_fitting() -> None:
    """Thirty channels over maxConcurrentSessionsPerChannel: one finding each, a message that counts
    them instead of listing them, and no "would fit" (the file may create nothing)."""
    from gcwm.policy.rules import PolicyLimits

    policy = LocalPolicy(limits=PolicyLimits(max_concurrent_sessions_per_channel=200))
    sessions = {f"brand-{n:02}": 500 for n in range(30)}
    uses = limit_uses(
        org_limits={DEPLOYMENTS_MAX: 100}, in_use=Counts(30, 30), adding=Counts(0, 0), policy=policy,
        sessions=sessions, sessions_elsewhere=0,
    )  # fmt: skip
    with pytest.raises(LimitExceeded) as refused:
        refuse_if_exceeded(uses, source="brands.yaml", channels=30)
    assert sorted(f.channel for f in refused.value.findings) == sorted(sessions)
    assert refused.value.message == (
        "refused before any write: 30 channels ask for more maxConcurrentSessions than "
        f"{SESSIONS_PER_CHANNEL} (200) allows; nothing was written"
    )
    assert "fit" not in refused.value.message


def test_limits_the_org_does_not_report_are_not_checked() -> None:
    """No invented values: an org whose limits API omits a key is not held to a guess."""
    uses = limit_uses(
        org_limits={},
        in_use=Counts(999, 999),
        adding=Counts(1, 1),
        policy=LocalPolicy(),
        sessions={},
        sessions_elsewhere=0,
    )
    assert uses == []
    refuse_if_exceeded(uses)


def test_policy_file_errors_name_the_file_and_the_key() -> None:
    """A typo in the policy file is an error, never silently ignored."""
    with pytest.raises(PolicyFileError, match=r"policy.yaml: limits.channelsPerOrgg: unknown key"):
        parse_policy_file("limits: {channelsPerOrgg: 3}\n", source="policy.yaml")
    with pytest.raises(PolicyFileError, match=r"policy.yaml: blockingSeverities.0"):
        parse_policy_file("blockingSeverities: [fatal]\n", source="policy.yaml")
    with pytest.raises(PolicyFileError, match="not valid YAML"):
        parse_policy_file("limits: [\n", source="policy.yaml")


def test_an_empty_policy_file_means_the_defaults() -> None:
    """High and syntax findings block; no ceilings beyond Genesys's own."""
    policy = parse_policy_file("", source="policy.yaml")
    assert policy.blocking_severities == ["high", "syntax"]
    assert policy.limits.channels_per_org is None and not policy.allow_ip_domains
