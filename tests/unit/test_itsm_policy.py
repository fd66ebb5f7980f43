"""What a channel's `itsm:` may name before any write: the secret's variable (GCWM_ITSM_*, or listed by
the policy file; never gcwm's or Genesys's own) and the target's address (loopback only where the
policy file allows private targets)."""

from __future__ import annotations

from typing import Any

import pytest

from gcwm.errors import PolicyFileError, SpecError
from gcwm.policy import LocalPolicy, itsm_secret_refusal, parse_policy_file
from gcwm.provisioning.admission import site_needs
from gcwm.provisioning.checks import check_channel
from gcwm.provisioning.results import OrgRef
from gcwm.spec import ChannelSpec

NEEDS = site_needs(OrgRef(id="org-1", name="org", target="http://127.0.0.1:9", region="mypurecloud.ie"))


def _channel(**itsm: Any) -> ChannelSpec:
    fields = {"type": "webhook", "url": "https://itsm.example.com/hook", "secretEnv": "GCWM_ITSM_HOOK"}
    return ChannelSpec.model_validate(
        {
            "name": "support-web",
            "routingQueue": "Support",
            "inboundMessageFlow": "Support Messaging Flow",
            "allowedDomains": ["www.example.com"],
            "itsm": {**fields, **itsm},
        }
    )


def _findings(spec: ChannelSpec, policy: LocalPolicy | None = None) -> dict[str, str]:
    checks = check_channel(spec, source="specs/itsm.yaml", policy=policy or LocalPolicy(), needs=NEEDS)
    return {f.location: f.check for f in checks.findings if f.location.startswith("itsm")}


@pytest.mark.parametrize(
    ("name", "listed", "refused"),
    [
        ("GCWM_ITSM_WEBHOOK_SECRET", [], False),
        ("SNOW_CREDENTIALS", ["SNOW_CREDENTIALS"], False),
        ("SNOW_CREDENTIALS", [], True),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET", [], True),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET", ["GENESYSCLOUD_OAUTHCLIENT_SECRET"], True),
        ("GCWM_DATABASE_URL", ["GCWM_DATABASE_URL"], True),
        ("GCWM_ITSM", [], True),  # the prefix is GCWM_ITSM_, underscore included
        ("AWS_SECRET_ACCESS_KEY", [], True),
    ],
)
def test_secret_names_are_gcwm_itsm_ones_or_listed_but_never_gcwm_or_genesys_own(
    name: str, listed: list[str], refused: bool
) -> None:
    """GCWM_ITSM_* always; a listed name too; GENESYSCLOUD_* and other GCWM_* never, listed or not."""
    assert (itsm_secret_refusal(name, listed) is not None) is refused


def test_a_spec_naming_the_genesys_client_secret_is_a_spec_error_naming_secret_env() -> None:
    """The finding of the review (an operator's spec sending the Genesys secret out) stops at the spec."""
    with pytest.raises(SpecError) as caught:
        _findings(_channel(type="servicenow", auth="bearer", secretEnv="GENESYSCLOUD_OAUTHCLIENT_SECRET"))
    (problem,) = caught.value.problems
    assert (problem.source, problem.location) == ("specs/itsm.yaml", "channel 'support-web': itsm.secretEnv")
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in problem.problem and "GCWM_ITSM_" in problem.problem
    assert caught.value.exit_code == 2


def test_a_name_the_policy_file_lists_is_accepted_and_an_unlisted_one_is_not() -> None:
    """itsmSecretEnv is the administrator's list of further names a spec may use."""
    policy = parse_policy_file("itsmSecretEnv: [SNOW_CREDENTIALS]\n", source="policy.yaml")
    assert policy.itsm_secret_env == ["SNOW_CREDENTIALS"]
    assert _findings(_channel(secretEnv="SNOW_CREDENTIALS"), policy) == {}
    with pytest.raises(SpecError, match="itsmSecretEnv"):
        _findings(_channel(secretEnv="JIRA_TOKEN"), policy)


@pytest.mark.parametrize("name", ["GENESYSCLOUD_OAUTHCLIENT_SECRET", "GCWM_AUDIT_KEY_FILE", "lower_case"])
def test_the_policy_file_cannot_list_gcwm_or_genesys_variables(name: str) -> None:
    """Listing them is a policy file error, naming the entry: they are refused even if listed."""
    with pytest.raises(PolicyFileError, match=r"policy\.yaml: itsmSecretEnv\.0"):
        parse_policy_file(f"itsmSecretEnv: [{name}]\n", source="policy.yaml")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8090/webhook",
        "http://localhost:8090/webhook",
        "http://sink.localhost/webhook",
        "http://[::1]:8090/webhook",
        "http://2130706433/webhook",  # 127.0.0.1 written as one number
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
    ],
)
def test_a_loopback_or_private_target_is_a_finding_unless_the_policy_allows_private_targets(url: str) -> None:
    """Refused before any write, naming itsm.url; allowPrivateItsmTargets: true lets it through."""
    assert _findings(_channel(url=url)) == {"itsm.url": "itsm_target_not_public"}
    checks = check_channel(_channel(url=url), source="s.yaml", policy=LocalPolicy(), needs=NEEDS)
    (finding,) = [f for f in checks.findings if f.location == "itsm.url"]
    assert finding.severity == "high" and "allowPrivateItsmTargets: true" in finding.description
    assert finding in checks.blocking(LocalPolicy())
    allowing = parse_policy_file("allowPrivateItsmTargets: true\n", source="policy.yaml")
    assert _findings(_channel(url=url), allowing) == {}


def test_a_reserved_target_is_a_finding_even_where_private_ones_are_allowed() -> None:
    """Multicast, documentation and benchmarking ranges are never targets."""
    allowing = parse_policy_file("allowPrivateItsmTargets: true\n", source="policy.yaml")
    assert _findings(_channel(url="https://198.18.0.1/hook"), allowing) == {
        "itsm.url": "itsm_target_not_public"
    }


def test_a_public_target_by_name_or_address_is_no_finding() -> None:
    """Names are judged at delivery, on the addresses they resolve to then."""
    assert _findings(_channel(url="https://itsm.example.com/hook")) == {}
    assert _findings(_channel(url="https://93.184.216.34/hook")) == {}
