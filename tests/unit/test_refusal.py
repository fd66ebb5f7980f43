"""Issue 24, items 1 and 6, where pure: a refused batch says each finding once (under its channel, or
once for the whole file or org), and the ITSM settings that could only fail hours later are spec
problems of the plan, every channel's at once."""

from __future__ import annotations

import json
from pathlib import Path

from gcwm.errors import Finding, LimitExceeded, PolicyViolation
from gcwm.notify import SecretSource, new_secret
from gcwm.policy import LocalPolicy
from gcwm.provisioning.checks import ChannelChecks, itsm_problems
from gcwm.provisioning.results import OrgRef, refusal_lines, refused_document
from gcwm.spec import ChannelSpec, parse_spec

ORG = OrgRef(id="org-1", name="org", target="https://api.example")


def _specs(count: int, itsm: str = "") -> list[ChannelSpec]:
    channels = "".join(
        f"  - name: brand-{n:02}\n    routingQueue: Support\n    inboundMessageFlow: Flow\n"
        f"    allowedDomains: [example.com]\n{itsm}"
        for n in range(count)
    )
    return parse_spec("channels:\n" + channels, source="brands.yaml")


def _domain(channel: str) -> Finding:
    return Finding(
        "domain_invalid", "high", "allowedDomains[0]", f"bad domain of {channel}", "brands.yaml", channel
    )


def test_each_finding_is_said_once_under_its_own_channel() -> None:
    """Thirty channels, two bad domains: the JSON gives each channel its own findings only, the text
    opens with the verdict and says each finding once."""
    specs = _specs(30)
    low = Finding("csp_hint", "low", "csp script-src", "a hint", "brands.yaml", "brand-03")
    checks = {
        s.key: ChannelChecks(s.name, "csp", [_domain(s.name)] if s.name in ("brand-07", "brand-12") else [])
        for s in specs
    }
    checks[specs[3].key] = ChannelChecks("brand-03", "csp", [low])
    refusal = PolicyViolation([_domain("brand-07"), _domain("brand-12")])

    document = refused_document(ORG, specs, checks, refusal)

    text = json.dumps(document)
    assert text.count("bad domain of brand-07") == 1 and text.count("bad domain of brand-12") == 1
    by_name = {c["name"]: c for c in document["channels"]}
    assert {c["outcome"] for c in by_name.values()} == {"refused"}
    assert [f["blocking"] for f in by_name["brand-07"]["findings"]] == [True]
    assert [f["blocking"] for f in by_name["brand-03"]["findings"]] == [False]
    assert by_name["brand-00"]["findings"] == [] and "findings" not in by_name["brand-00"]["error"]
    assert document["refusal"]["blocking"] == 2 and document["refusal"]["findings"] == []
    verdict, lines, others = refusal_lines(document)
    assert verdict == "provision refused: 2 blocking findings (2 channels); nothing was written"
    assert lines == [
        "brands.yaml: channel 'brand-07': allowedDomains[0]: [high] bad domain of brand-07",
        "brands.yaml: channel 'brand-12': allowedDomains[0]: [high] bad domain of brand-12",
    ]
    assert others == 1


def test_an_org_wide_limit_is_said_once_with_its_numbers_not_under_every_channel() -> None:
    """A limit on the org is the refusal's, once; no channel repeats it."""
    specs = _specs(3)
    limit = Finding(
        "limit_exceeded", "high", "web.deployments.deployments.max", "is 2, 1 in use: 1 of the 3 would fit",
        "brands.yaml",
    )  # fmt: skip
    document = refused_document(ORG, specs, {}, LimitExceeded([limit], "refused before any write"))
    assert json.dumps(document).count("1 of the 3 would fit") == 1
    assert [f["location"] for f in document["refusal"]["findings"]] == ["web.deployments.deployments.max"]
    verdict, lines, _ = refusal_lines(document)
    assert (
        verdict
        == "provision refused: 1 blocking finding (1 about the whole file or org); nothing was written"
    )
    assert lines == [
        "brands.yaml: web.deployments.deployments.max: [high] is 2, 1 in use: 1 of the 3 would fit"
    ]


def test_itsm_settings_that_could_only_fail_later_are_spec_problems_of_every_channel_at_once(
    tmp_path: Path,
) -> None:
    """An unset secret, a secret of the wrong shape and a ServiceNow target without `auth`, in three
    channels: three problems naming each field; a secret in GCWM_SECRETS_DIR counts as set."""

    def itsm(kind: str, name: str) -> str:
        return f"    itsm: {{type: {kind}, url: 'https://itsm.example.com', secretEnv: {name}}}\n"

    specs = [
        _specs(1, itsm("webhook", "GCWM_ITSM_UNSET"))[0].model_copy(update={"name": "unset"}),
        _specs(1, itsm("webhook", "GCWM_ITSM_HOOK"))[0].model_copy(update={"name": "wrong"}),
        _specs(1, itsm("servicenow", "GCWM_ITSM_SNOW"))[0].model_copy(update={"name": "snow"}),
    ]
    secrets = SecretSource(environ={"GCWM_ITSM_HOOK": "hunter2", "GCWM_ITSM_SNOW": "user:password"})
    found = itsm_problems(specs, source="f.yaml", policy=LocalPolicy(), secrets=secrets)
    assert [p.location for p in found] == [
        "channel 'unset': itsm.secretEnv",
        "channel 'wrong': itsm.secretEnv",
        "channel 'snow': itsm.auth",
    ]
    assert str(found[0]) == (
        "f.yaml: channel 'unset': itsm.secretEnv: the variable GCWM_ITSM_UNSET named by secretEnv is not set "
        "where gcwm runs (nor is GCWM_SECRETS_DIR set)"
    )
    assert "not a Standard Webhooks key" in found[1].problem and "hunter2" not in str(found)
    assert "basic (the secret is user:password), oauth" in found[2].problem
    (tmp_path / "itsm-unset").write_text(new_secret() + "\n")
    from_file = SecretSource(directory=tmp_path, environ={})
    assert itsm_problems(specs[:1], source="f.yaml", policy=LocalPolicy(), secrets=from_file) == []


def test_a_servicenow_secret_must_be_of_the_shape_its_auth_needs() -> None:
    """basic: user:password; oauth: client_id:client_secret; bearer: anything."""
    secrets = SecretSource(environ={"GCWM_ITSM_X": "just-a-token"})
    assert "user:password" in (secrets.problem("GCWM_ITSM_X", kind="servicenow", auth="basic") or "")
    assert "client_id:client_secret" in (
        secrets.problem("GCWM_ITSM_X", kind="servicenow", auth="oauth") or ""
    )
    assert "email:api_token" in (secrets.problem("GCWM_ITSM_X", kind="jira", auth=None) or "")
    assert secrets.problem("GCWM_ITSM_X", kind="servicenow", auth="bearer") is None
