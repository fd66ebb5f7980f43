"""gcwm against an emulator that answers as Genesys documents (issue 21): the configurations listing
holds drafts only, the server fills and normalises fields (`server_defaults`), a write naming an
object made moments before may get a 400 (`dependency_400s`), and attachments go through supported
content profiles. Real HTTP, real databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gcwm.emulator import EmbeddedEmulator, EmulatorConfig
from gcwm.settings import Settings
from tests.conftest import FAST
from tests.integration.conftest import Provision, gcwm_app
from tests.support.emulator import RunningEmulator

CONFIGS = "/api/v2/webdeployments/configurations"
DEPLOYMENTS = "/api/v2/webdeployments/deployments"
PUBLISH = f"POST {CONFIGS}/{{configurationId}}/versions/draft/publish"
VERSIONS = f"GET {CONFIGS}/{{configurationId}}/versions"
PROFILES = "/api/v2/conversations/messaging/supportedcontent"


@pytest.fixture
def transient_400_s() -> float:
    """The retry window of a 400 on a write naming a fresh object is on, as in production."""
    return 10.0


@pytest.fixture
def dependency_400s() -> int:
    """How many publishes and deployment creates per dependency the org refuses first (a test
    parametrizes this to change it)."""
    return 0


@pytest.fixture
def emulator(dependency_400s: int, tmp_path: Path) -> Iterator[RunningEmulator]:
    """An org that fills and normalises what it stores, as Genesys does."""
    config = EmulatorConfig(
        **FAST,  # type: ignore[arg-type]
        state_file=tmp_path / "org.json",
        server_defaults=True,
        dependency_400s=dependency_400s,
    )
    with EmbeddedEmulator(config) as server:
        yield RunningEmulator(server.url, config)


def channels(count: int, *, colour: str = "#FF4F1F", attachments: str = "") -> str:
    queues = ["Support", "Sales", "Billing", "Technical Support", "Returns", "VIP"]
    out = ["channels:"]
    for i in range(count):
        queue = queues[i % len(queues)]
        out += [
            f"  - name: web-{i:02d}",
            f"    routingQueue: {queue}",
            f"    inboundMessageFlow: {queue} Messaging Flow",
            f"    allowedDomains: [Shop{i:02d}.example.com, www.example.com]",
            "    messenger:",
            f"      primaryColor: '{colour}'",
            "      languages: [en-us, fr]",
            "      defaultLanguage: en-us",
        ]
        if attachments:
            out.append(attachments)
    return "\n".join(out) + "\n"


PDF_AND_PNG = (
    "      fileUpload: {enabled: true, fileTypes: [application/pdf, image/png], maxFileSizeKB: 20480}"
)


def writes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    changed = {op: n - before.get(op, 0) for op, n in after.items()}
    return {op: n for op, n in changed.items() if n and not op.startswith(("GET", "POST /oauth"))}


async def test_twenty_channels_converge_and_an_unchanged_rerun_writes_nothing_in_few_calls(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """The server lower-cases colours and sorts domains and fills Messenger's defaults: none of that is
    a change, the live version is never read from the drafts listing, and a re-run makes 0 writes and
    at most 10 calls (the login included)."""
    jobs = await provision(channels(20, colour="#AB12EF", attachments=PDF_AND_PNG))
    assert {j.result["outcome"] for j in jobs if j.result} == {"created"}, [j.error for j in jobs]
    stored = emulator.api("GET", f"{CONFIGS}/{jobs[0].result['configuration']['id']}/versions/1")
    assert stored["messenger"]["styles"]["primaryColor"] == "#ab12ef"  # the server normalised it
    before = emulator.stats()
    again = await provision(channels(20, colour="#AB12EF", attachments=PDF_AND_PNG))
    after = emulator.stats()
    assert {j.result["outcome"] for j in again if j.result} == {"unchanged"}
    assert writes(before["byOperation"], after["byOperation"]) == {}
    assert after["requests"] - before["requests"] <= 10, after["byOperation"]
    assert after["byOperation"].get(VERSIONS, 0) == before["byOperation"].get(VERSIONS, 0)


async def test_a_colour_change_publishes_version_2_and_moves_the_deployment_there_never_to_draft(
    provision: Provision, emulator: RunningEmulator
) -> None:
    await provision(channels(1))
    (job,) = await provision(channels(1, colour="#000000"))
    assert job.result["outcome"] == "updated" and job.result["configuration"]["version"] == "2"
    (deployment,) = emulator.deployments()
    assert deployment["configuration"]["version"] == "2"
    before = emulator.stats()["byOperation"]
    (rerun,) = await provision(channels(1, colour="#000000"))
    assert rerun.result["outcome"] == "unchanged"
    assert writes(before, emulator.stats()["byOperation"]) == {}


async def test_a_draft_edited_behind_gcwms_back_is_planned_as_such_and_put_back_without_publishing(
    provision: Provision, emulator: RunningEmulator, settings: Settings
) -> None:
    (job,) = await provision(channels(1))
    config_id = job.result["configuration"]["id"]
    draft = emulator.api("GET", f"{CONFIGS}/{config_id}/versions/draft")
    draft["messenger"]["styles"]["primaryColor"] = "#00ff00"
    emulator.api("PUT", f"{CONFIGS}/{config_id}/versions/draft", draft)
    async with gcwm_app(settings) as app:
        report = await app.service.plan(_specs(channels(1)))
    (change,) = report.plan.changes
    assert [(f.path, f.old, f.new) for f in change.fields] == [
        ("configuration.draft.messenger.styles.primaryColor", "#00ff00", "#FF4F1F")
    ]
    assert any("not published" in note for note in change.notes)
    before = emulator.stats()["byOperation"]
    (fixed,) = await provision(channels(1))
    assert fixed.result["configuration"]["version"] == "1"
    sent = writes(before, emulator.stats()["byOperation"])
    assert sent == {f"PUT {CONFIGS}/{{configurationId}}/versions/draft": 1}, sent
    draft = emulator.api("GET", f"{CONFIGS}/{config_id}/versions/draft")
    assert draft["messenger"]["styles"]["primaryColor"] == "#ff4f1f"


async def test_a_lost_publish_answer_is_adopted_by_reading_the_versions(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """The publish is carried out but its answer is a 500: gcwm reads the versions, finds "2", and
    never publishes again."""
    await provision(channels(1))
    emulator.add_fault("POST", f"{CONFIGS}/[^/]+/versions/draft/publish", "commit_then_fail")
    before = emulator.stats()["byOperation"]
    (job,) = await provision(channels(1, colour="#000000"))
    after = emulator.stats()["byOperation"]
    assert job.status == "succeeded", job.error
    assert after[PUBLISH] - before.get(PUBLISH, 0) == 1
    assert after[VERSIONS] > before.get(VERSIONS, 0)
    assert job.result["configuration"]["version"] == "2"
    assert any(
        "publish of configuration" in n and "answer to the request was lost" in n for n in job.result["notes"]
    )
    (deployment,) = emulator.deployments()
    assert deployment["configuration"]["version"] == "2"


@pytest.mark.parametrize("dependency_400s", [1])
async def test_a_400_right_after_a_dependency_was_made_is_retried_not_rolled_back(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """The first publish and the first deployment create of every channel are answered 400: every
    channel is Active, nothing was rolled back, one configuration and one deployment each."""
    jobs = await provision(channels(3))
    assert [j.status for j in jobs] == ["succeeded"] * 3, [j.error for j in jobs]
    assert emulator.stats()["dependency400s"] == 6
    assert len(emulator.configurations()) == 3 and len(emulator.deployments()) == 3
    by_op = emulator.stats()["byOperation"]
    assert by_op[f"POST {DEPLOYMENTS}"] == 6 and by_op[f"POST {CONFIGS}"] == 3
    assert by_op.get(f"DELETE {CONFIGS}/{{configurationId}}", 0) == 0
    notes = jobs[0].result["notes"]
    assert any(n.startswith("publish: Genesys answered 400 1 time") for n in notes), notes
    assert any(n.startswith("deployment create: Genesys answered 400 1 time") for n in notes), notes


async def test_attachments_get_a_profile_its_deployment_names_updated_in_place_and_destroyed(
    provision: Provision, emulator: RunningEmulator, settings: Settings
) -> None:
    (job,) = await provision(channels(1, attachments=PDF_AND_PNG))
    (profile,) = [p for p in emulator.profiles() if p["name"] == "web-00 (gcwm)"]
    assert [m["type"] for m in profile["mediaTypes"]["allow"]["inbound"]] == ["application/pdf", "image/png"]
    (deployment,) = emulator.deployments()
    assert deployment["supportedContent"]["id"] == profile["id"]
    version = emulator.api("GET", f"{CONFIGS}/{job.result['configuration']['id']}/versions/1")
    modes = version["messenger"]["fileUpload"]["modes"]
    assert modes == [{"fileTypes": ["image/png"], "maxFileSizeKB": 10240}]  # never application/pdf
    # Another list of types: the same profile, changed in place.
    narrower = PDF_AND_PNG.replace("[application/pdf, image/png]", "[application/pdf]")
    (changed,) = await provision(channels(1, attachments=narrower))
    assert changed.status == "succeeded", changed.error
    (same,) = [p for p in emulator.profiles() if p["name"] == "web-00 (gcwm)"]
    assert same["id"] == profile["id"]
    assert [m["type"] for m in same["mediaTypes"]["allow"]["inbound"]] == ["application/pdf"]
    async with gcwm_app(settings) as app:
        (queued,) = await app.service.destroy(["web-00"])
        document = await app.service.run_jobs([queued.id])
    assert document["channels"][0]["outcome"] == "destroyed", document
    assert [p["name"] for p in emulator.profiles() if p["name"].endswith("(gcwm)")] == []
    assert emulator.deployments() == [] and emulator.configurations() == []


def _specs(text: str) -> list[Any]:
    from gcwm.spec import parse_spec

    return parse_spec(text)
