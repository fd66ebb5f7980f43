"""The local policy file's keys at their edges and its messages word for word (gcwm.policy.rules), and
which variables a spec's itsm.secretEnv may name."""

from __future__ import annotations

import pydantic
import pytest

from gcwm.errors import PolicyFileError
from gcwm.policy.rules import LocalPolicy, itsm_secret_refusal, parse_policy_file

RESERVED = (
    " may not hold an ITSM secret: name a GCWM_ITSM_* variable (GCWM_* and GENESYSCLOUD_* variables are"
    " gcwm's and Genesys's own settings)"
)


def _refusal(text: str) -> str:
    with pytest.raises(PolicyFileError) as caught:
        parse_policy_file(text, source="p.yaml")
    return caught.value.message


def test_every_severity_may_block() -> None:
    """blockingSeverities takes the five severities findings have, and nothing else."""
    text = "blockingSeverities: [high, syntax, medium, low, info]"
    assert parse_policy_file(text, source="p").blocking_severities == [
        "high",
        "syntax",
        "medium",
        "low",
        "info",
    ]
    assert _refusal("blockingSeverities: [bogus]") == (
        "p.yaml: blockingSeverities.0: Input should be 'high', 'syntax', 'medium', 'low' or 'info'"
    )


def test_limits_take_zero_channels_and_one_session_at_least() -> None:
    """channelsPerOrg may be 0 (no new channels); a session limit is at least 1."""
    text = "limits: {channelsPerOrg: 0, maxConcurrentSessionsPerChannel: 1, maxConcurrentSessionsPerOrg: 1}"
    limits = parse_policy_file(text, source="p").limits
    assert (limits.channels_per_org, limits.max_concurrent_sessions_per_channel) == (0, 1)
    assert limits.max_concurrent_sessions_per_org == 1
    assert _refusal("limits: {channelsPerOrg: -1}") == (
        "p.yaml: limits.channelsPerOrg: Input should be greater than or equal to 0"
    )
    # Every problem, joined with '; ', an unknown key said as such.
    assert _refusal(
        "limits: {maxConcurrentSessionsPerChannel: 0, maxConcurrentSessionsPerOrg: 0}\nbogus: 1"
    ) == (
        "p.yaml: limits.maxConcurrentSessionsPerChannel: Input should be greater than or equal to 1; "
        "limits.maxConcurrentSessionsPerOrg: Input should be greater than or equal to 1; bogus: unknown key"
    )


def test_allowed_regions_are_read() -> None:
    """A list of region hosts."""
    assert parse_policy_file("allowedRegions: [mypurecloud.ie]", source="p").allowed_regions == [
        "mypurecloud.ie"
    ]


def test_a_policy_is_frozen() -> None:
    """Read once, used by every check: nothing changes it on the way."""
    policy = parse_policy_file("", source="p")
    with pytest.raises(pydantic.ValidationError):
        policy.allow_ip_domains = True
    assert policy == LocalPolicy()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [", "p.yaml: not valid YAML: expected the node content, but found '<stream end>'"),
        ("- x", "p.yaml: expected a mapping of policy keys (limits, allowedRegions, ...)"),
        ("itsmSecretEnv: [lower]", "p.yaml: itsmSecretEnv.0: 'lower' is not a variable name (A-Z, 0-9, _)"),
        (
            "itsmSecretEnv: [GCWM_X]",
            "p.yaml: itsmSecretEnv.0: GCWM_X is one of gcwm's or Genesys's own variables (GCWM_*,"
            " GENESYSCLOUD_*), never an ITSM secret; GCWM_ITSM_* variables need no listing",
        ),
    ],
)
def test_a_bad_policy_file_is_refused_naming_the_file_and_key(text: str, message: str) -> None:
    """YAML errors by their problem, validation errors without pydantic's 'Value error, '."""
    assert _refusal(text) == message


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        ("GCWM_ITSM_X", None),
        ("MY_SECRET", None),  # listed
        ("GCWM_ITSM_", "GCWM_ITSM_" + RESERVED),  # the prefix alone names no variable of its own
        ("GENESYSCLOUD_X", "GENESYSCLOUD_X" + RESERVED),  # listed, but Genesys's own
        ("GCWM_DATABASE_URL", "GCWM_DATABASE_URL" + RESERVED),
        (
            "OTHER",
            "OTHER may not hold an ITSM secret: name a GCWM_ITSM_* variable, or one the policy file"
            " (GCWM_POLICY_FILE) lists under itsmSecretEnv",
        ),
    ],
)
def test_a_spec_may_name_gcwm_itsm_variables_and_listed_ones_never_reserved_ones(
    name: str, refusal: str | None
) -> None:
    """What itsm.secretEnv may name, and what it is told otherwise."""
    assert itsm_secret_refusal(name, ["MY_SECRET", "GENESYSCLOUD_X"]) == refusal
