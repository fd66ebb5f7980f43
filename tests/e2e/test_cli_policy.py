"""Policy before any write, as users meet it: refusals naming each problem, and the tools that explain."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.e2e.conftest import run_gcwm
from tests.support.emulator import RunningEmulator

CHANNEL = """channels:
  - name: web
    routingQueue: Support
    inboundMessageFlow: Support Messaging Flow
    allowedDomains: {domains}
{extra}"""


def _spec(tmp_path: Path, *, domains: str = "[example.com]", extra: str = "") -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(CHANNEL.format(domains=domains, extra=extra))
    return path


def _untouched(emulator: RunningEmulator) -> None:
    """Nothing was written to the org: no object, and no write request at all."""
    writes = {op: n for op, n in emulator.stats()["byOperation"].items() if not op.startswith("GET")}
    assert writes == {}
    assert emulator.configurations() == [] and emulator.deployments() == []


@pytest.mark.parametrize(
    ("domains", "extra", "location", "words"),
    [
        pytest.param(
            "[shop.example.com, 'https://example.com/shop']", "", "allowedDomains[1]", "path", id="domain"
        ),
        pytest.param(
            "[example.com]",
            "    messenger:\n      homeScreen: {enabled: true, logoUrl: 'http://cdn.example.com/logo.png'}\n",
            "messenger.homeScreen.logoUrl",
            "https",
            id="http-logo",
        ),
        pytest.param(
            "[example.com]",
            "    security: {cspMode: template}\n",
            "csp script-src",
            "unsafe-inline",
            id="high-csp",
        ),
        pytest.param(
            "[example.com]",
            "    security: {sanitizeHtml: false}\n",
            "security.sanitizeHtml",
            "",
            id="xss-off",
        ),
    ],
)
def test_provision_refuses_before_any_write_naming_file_channel_and_field(
    gcwm_env: dict[str, str],
    emulator: RunningEmulator,
    tmp_path: Path,
    domains: str,
    extra: str,
    location: str,
    words: str,
) -> None:
    """A bad domain, an http: logo, a high CSP finding, XSS protection off: exit 3, named, org unchanged."""
    spec = _spec(tmp_path, domains=domains, extra=extra)
    text = run_gcwm(["provision", str(spec)], gcwm_env)
    result = run_gcwm(["provision", str(spec), "--output", "json"], gcwm_env)

    assert (text.code, result.code) == (3, 3)
    assert f"{spec}: channel 'web': {location}" in text.stderr
    (channel,) = result.json()["channels"]
    assert channel["outcome"] == "refused"
    blocking = [
        f for f in channel["findings"] if f["location"] == location and f["severity"] in ("high", "syntax")
    ]
    assert blocking and all(f["source"] == str(spec) and f["channel"] == "web" for f in blocking)
    assert any(words in f["description"] for f in blocking)
    _untouched(emulator)


def test_markup_in_a_label_is_removed_and_reported_not_silently(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The visitor sees plain text; the result says what was changed, and where."""
    extra = (
        "    messenger:\n      labels:\n"
        '        en-us: {MessengerHomeHeaderTitle: "<b>Hi</b><script>alert(1)</script> there"}\n'
    )
    result = run_gcwm(["provision", str(_spec(tmp_path, extra=extra)), "--output", "json"], gcwm_env)
    assert result.code == 0, result.stderr
    (channel,) = result.json()["channels"]
    (finding,) = [f for f in channel["findings"] if f["check"] == "html_markup_removed"]
    assert finding["location"] == "messenger.labels.en-us.MessengerHomeHeaderTitle"
    assert "'Hi there'" in finding["description"]
    (configuration,) = emulator.configurations()
    (labels,) = configuration["customI18nLabels"]
    assert labels["localizedLabels"] == [{"key": "MessengerHomeHeaderTitle", "value": "Hi there"}]


def test_the_deployment_gets_the_normalised_domains_without_duplicates(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """`HTTPS://Shop.Example.com/`, `shop.example.com.` and `bücher.example` as Genesys receives them."""
    domains = "['HTTPS://Shop.Example.com/', 'shop.example.com.', 'bücher.example', 'example.com:443']"
    result = run_gcwm(["provision", str(_spec(tmp_path, domains=domains))], gcwm_env)
    assert result.code == 0, result.stderr
    (deployment,) = emulator.deployments()
    assert deployment["allowedDomains"] == ["shop.example.com", "xn--bcher-kva.example", "example.com"]


def test_domains_command_answers_one_object_per_input_in_order(gcwm_env: dict[str, str]) -> None:
    """`gcwm domains` neither de-duplicates nor reorders, and exits 1 when any entry is refused."""
    good = run_gcwm(
        ["domains", "Example.COM", "example.com", "*.alice.github.io", "--output", "json"], gcwm_env
    )
    assert good.code == 0
    assert good.json() == [
        {"input": "Example.COM", "normalized": "example.com"},
        {"input": "example.com", "normalized": "example.com"},
        {"input": "*.alice.github.io", "normalized": "*.alice.github.io"},
    ]
    bad = run_gcwm(["domains", "co.uk", "example.com", "--output", "json"], gcwm_env)
    assert bad.code == 1
    assert [set(r) for r in bad.json()] == [{"input", "error"}, {"input", "normalized"}]
    assert "public suffix" in bad.json()[0]["error"]


def test_csp_evaluate_gives_findings_and_exit_1_when_one_blocks(gcwm_env: dict[str, str]) -> None:
    """Any policy, evaluated: the strict shape passes; 'unsafe-inline' alone is high and blocks."""
    strict = (
        "script-src 'nonce-r4nd0mR4nd0mR4nd0mR4nd0m' 'strict-dynamic' https: 'unsafe-inline'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
    )
    passed = run_gcwm(["csp", "evaluate", strict, "--output", "json"], gcwm_env)
    assert passed.code == 0, passed.stdout
    assert set(passed.json()) == {"policy", "findings"}
    loose = run_gcwm(["csp", "evaluate", "script-src 'unsafe-inline'", "--output", "json"], gcwm_env)
    assert loose.code == 1
    assert {"check", "directive", "severity", "description"} == set(loose.json()["findings"][0])
    assert any(f["severity"] == "high" and f["directive"] == "script-src" for f in loose.json()["findings"])


def test_csp_evaluate_with_a_region_names_what_messenger_would_lose(gcwm_env: dict[str, str]) -> None:
    """A site policy without the region's WebSocket host would break the widget: said, and blocking."""
    policy = (
        "script-src 'nonce-r4nd0mR4nd0mR4nd0mR4nd0m' 'strict-dynamic' https: 'unsafe-inline'; "
        "object-src 'none'; base-uri 'none'; connect-src https://api.mypurecloud.ie https://api-cdn.mypurecloud.ie"
    )
    result = run_gcwm(["csp", "evaluate", policy, "--region", "eu-west-1", "--output", "json"], gcwm_env)
    assert result.code == 1
    blocked = [f for f in result.json()["findings"] if f["check"] == "messenger_source_blocked"]
    assert [f["directive"] for f in blocked] == ["connect-src"]
    assert "wss://webmessaging.mypurecloud.ie" in blocked[0]["description"]


def test_csp_for_a_spec_prints_the_header_to_paste_per_channel(
    gcwm_env: dict[str, str], tmp_path: Path
) -> None:
    """A nonce policy with 'strict-dynamic' and the hosts Messenger needs, nothing blocking."""
    result = run_gcwm(["csp", str(_spec(tmp_path)), "--output", "json"], gcwm_env)
    assert result.code == 0, result.stderr
    (channel,) = result.json()["channels"]
    assert (
        "'strict-dynamic'" in channel["csp"]
        and "'nonce-REPLACE_WITH_A_FRESH_NONCE_PER_RESPONSE'" in channel["csp"]
    )
    assert "object-src 'none'" in channel["csp"]
    assert not channel["blocks"]


def test_a_bulk_file_over_the_limit_is_refused_whole_saying_how_many_fit(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """Twenty channels for five free slots: none is made; the limit is said once, with its numbers
    and that five would fit, in the JSON's refusal and in the text."""
    emulator._admin("PUT", "limits", {"web.deployments.deployments.max": 5})
    result = run_gcwm(["provision", str(EXAMPLES / "bulk.yaml"), "--output", "json"], gcwm_env)
    assert result.code == 3
    document = result.json()
    channels = document["channels"]
    assert len(channels) == 20 and {c["outcome"] for c in channels} == {"refused"}
    (limit,) = document["refusal"]["findings"]
    assert limit["location"] == "web.deployments.deployments.max" and limit["blocking"] is True
    assert (
        "is 5, 0 in use; the plan asks for 20 more (20 in all): 5 of the 20 new channels would fit"
        in (limit["description"])
    )
    assert all(f["check"] != "limit_exceeded" for c in channels for f in c["findings"])
    text = run_gcwm(["provision", str(EXAMPLES / "bulk.yaml")], gcwm_env)
    assert text.code == 3
    assert text.stderr.count("5 of the 20 new channels would fit") == 1
    _untouched(emulator)


def test_the_proposed_csp_is_recorded_with_the_channel(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """What gcwm proposed for the site stays with the channel, for the audit trail and later runs."""
    result = run_gcwm(["provision", str(_spec(tmp_path)), "--output", "json"], gcwm_env)
    assert result.code == 0, result.stderr
    (channel,) = result.json()["channels"]
    db = Path(gcwm_env["GCWM_HOME"]) / "gcwm.db"
    (stored,) = sqlite3.connect(db).execute("select proposed_csp from channels where name = 'web'").fetchone()
    assert stored == channel["csp"] and "'strict-dynamic'" in stored


def test_plan_shows_what_provision_would_refuse_and_exits_1(gcwm_env: dict[str, str], tmp_path: Path) -> None:
    """The plan carries the findings and the limits, and a blocking finding makes it an error."""
    spec = _spec(tmp_path, domains="['*.co.uk']")
    result = run_gcwm(["plan", str(spec), "--output", "json"], gcwm_env)
    assert result.code == 1
    document = result.json()
    (finding,) = [f for f in document["findings"] if f["check"] == "domain_invalid"]
    assert (finding["location"], finding["severity"]) == ("allowedDomains[0]", "high")
    assert {u["key"] for u in document["limits"]} >= {"web.deployments.deployments.max"}


def test_a_job_that_rolls_back_gives_its_slot_back(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """One free slot; a refused deployment rolls the channel back, and the next run gets the slot."""
    emulator._admin("PUT", "limits", {"web.deployments.deployments.max": 1})
    emulator.add_fault("POST", "/api/v2/webdeployments/deployments", "http400")
    gcwm_env = {**gcwm_env, "GCWM_TRANSIENT_400_SECONDS": "0"}  # the injected 400 is a refusal
    spec = _spec(tmp_path)
    first = run_gcwm(["provision", str(spec), "--output", "json"], gcwm_env)
    assert first.code == 3 and first.json()["channels"][0]["outcome"] == "failed"
    again = run_gcwm(["provision", str(spec), "--output", "json"], gcwm_env)
    assert again.code == 0, again.stdout
    assert len(emulator.deployments()) == 1
