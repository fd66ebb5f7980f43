"""A create whose answer was lost is looked up before it is sent again; the lookup never adopts an
object that is being deleted (issue 22, item 8). Its own emulator: deletions take long enough to be
seen in status Deleting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from gcwm.emulator import EmbeddedEmulator, EmulatorConfig
from gcwm.settings import Settings
from gcwm.spec import parse_spec
from tests.conftest import FAST
from tests.integration.conftest import channel_yaml, gcwm_app
from tests.support.emulator import RunningEmulator
from tests.support.polling import eventually

DEPLOYMENTS = "/api/v2/webdeployments/deployments"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[RunningEmulator]:
    config = EmulatorConfig(**{**FAST, "deletion_delay_s": 30.0}, state_file=tmp_path / "org.json")  # type: ignore[arg-type]
    with EmbeddedEmulator(config) as server:
        yield RunningEmulator(server.url, config)


async def test_a_lost_create_lookup_skips_an_object_being_deleted_and_makes_a_new_one(
    emulator: RunningEmulator, settings: Settings
) -> None:
    """The deployment create is carried out but its answer never comes (gcwm's request times out);
    meanwhile someone deletes what it made (status Deleting for a while). gcwm adopted it, waited for
    Active that never came and failed, leaving an orphan; now it passes it by and makes it anew."""
    emulator.add_fault("POST", f"{DEPLOYMENTS}$", "commit_then_delay", latency_ms=60_000)
    quick = settings.model_copy(update={"genesys_timeout_seconds": 2.0})
    async with gcwm_app(quick) as app:
        (job,) = await app.service.submit(parse_spec(channel_yaml()))
        work = asyncio.create_task(app.service.run_jobs([job.id]))
        await eventually(
            lambda: emulator.held_answers() == 1, timeout_s=10, what="the deployment made, its answer held"
        )
        (made,) = emulator.deployments()
        emulator.delete(f"{DEPLOYMENTS}/{made['id']}")  # before gcwm's request times out and it looks
        document = await work
    emulator.release_held()
    (channel,) = document["channels"]
    assert channel["outcome"] == "created", channel
    assert channel["deployment"]["id"] != made["id"]
    live = [d["id"] for d in emulator.deployments()]  # Deleting ones are left out
    assert live == [channel["deployment"]["id"]]
    assert emulator.calls(f"POST {DEPLOYMENTS}") == 2
