"""Regressions for what the model-based search (tests/model, bench/explore.py; issue 22) found, each a
plain, deterministic test over real HTTP and a real database, named for the bug. A test marked xfail
fails on today's code: when the fix lands, remove the mark (xfail_strict makes a fixed bug say so) and
the bug's entry in tests/model/machine.py's KNOWN_OPEN, whose path the model test stays off meanwhile.

Where a worker must be paused, it is a real `gcwm provision` process stopped with SIGSTOP, as a VM pause
stops it; where Genesys must carry out a request late, the emulator's `latency` rule holds it before it
is carried out, for less than its sender's timeout (a request Genesys carries out at all, it carries out
before its client gives up on it: the assumption of the takeover wait of issue 22, item 3)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gcwm.errors import LimitExceeded
from gcwm.provisioning import Role
from gcwm.provisioning.mapping import read_marker
from gcwm.settings import Settings
from gcwm.spec import parse_spec
from gcwm.store import Job, Store, connect
from tests.conftest import gcwm_command
from tests.integration.conftest import Provision, channel_yaml, gcwm_app
from tests.support.databases import make_database_url
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until

CONFIGS = "/api/v2/webdeployments/configurations"
# The frozen worker's lease runs out at once; its request is carried out HELD_MS after it was sent,
# well inside its sender's timeout; and well after a worker that does not wait for it has written.
LEASE_S = "1"
SENDER_TIMEOUT_S = "8"
HELD_MS = 4_000


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """One SQLite file: these bugs are in what gcwm does between Genesys's answers, not in SQL."""
    with make_database_url("sqlite", tmp_path) as url:
        yield url


class FrozenWorker:
    """`gcwm provision` of a spec in its own process, stopped (SIGSTOP) once its configuration create
    is on its way: the emulator holds the request, then carries it out while the worker sleeps."""

    def __init__(self, env: dict[str, str], spec: Path, emulator: RunningEmulator, store: Store) -> None:
        emulator.add_fault("POST", CONFIGS, "latency", latency_ms=HELD_MS)
        self.emulator = emulator
        self.process = subprocess.Popen(
            [*gcwm_command(), "provision", str(spec), "--output", "json"],
            env={**env, "GCWM_LEASE_SECONDS": LEASE_S, "GCWM_GENESYS_TIMEOUT_SECONDS": SENDER_TIMEOUT_S},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: emulator.delayed_requests() == 1, timeout_s=60, what="the create on its way")
        os.kill(self.process.pid, signal.SIGSTOP)
        (self.job,) = store.list_jobs(limit=5)
        wait_until(lambda: _lease_expired(store, self.job.id), timeout_s=30, what="its lease to run out")

    def carried_out(self) -> bool:
        """Whether Genesys has carried out the frozen worker's create by now."""
        return self.emulator.delayed_requests() == 0

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)
        self.process.wait(timeout=60)


@pytest.fixture
def frozen(
    gcwm_env: dict[str, str], emulator: RunningEmulator, database_url: str, tmp_path: Path
) -> Iterator[FrozenWorker]:
    """A worker provisioning `support-web`, frozen past its lease with its configuration create in
    flight, thawed at the end of the test."""
    store = Store(connect(database_url))
    spec = tmp_path / "spec.yaml"
    spec.write_text(channel_yaml())
    worker = FrozenWorker({**gcwm_env, "GCWM_DATABASE_URL": database_url}, spec, emulator, store)
    try:
        yield worker
    finally:
        if worker.process.poll() is None:
            worker.thaw()
        store.engine.dispose()


def _lease_expired(store: Store, job_id: str) -> bool:
    job = store.get_job(job_id)
    return job.lease_expires_at is not None and job.lease_expires_at < datetime.now(UTC)


def _configurations_of(emulator: RunningEmulator, channel: str) -> list[str]:
    """The ids of the live configurations whose gcwm marker names the channel."""
    return [
        c["id"]
        for c in emulator.configurations()
        if (marker := read_marker(c.get("description"))) is not None and marker.is_for(channel)
    ]


async def test_a_newer_spec_waits_for_the_create_a_frozen_worker_of_the_superseded_job_has_in_flight(
    frozen: FrozenWorker, provision: Provision, emulator: RunningEmulator
) -> None:
    """Found by bench/explore.py (freeze_a_worker_mid_create with `then='supersede'`). Worker A is
    frozen with its configuration create held; a corrected spec of the channel supersedes A's job and
    is provisioned in-process; then Genesys carries out A's create. The channel must have one
    configuration: the newer job must wait until A's create must have ended (A's timeout) and adopt
    what it made, as a takeover of A's own job does (issue 22, item 3)."""
    (newer,) = await provision(channel_yaml().replace("[example.com]", "[example.com, shop.example.com]"))
    assert newer.status == "succeeded" and newer.result is not None, newer.error
    wait_until(frozen.carried_out, timeout_s=30, what="Genesys to carry out the frozen worker's create")
    frozen.thaw()
    assert _configurations_of(emulator, "support-web") == [newer.result["configuration"]["id"]]


async def test_a_destroy_waits_for_the_create_a_frozen_worker_of_the_superseded_job_has_in_flight(
    frozen: FrozenWorker, settings: Settings, emulator: RunningEmulator
) -> None:
    """Found by bench/explore.py (freeze_a_worker_mid_create with `then='destroy'`). Worker A is frozen
    with its configuration create held; `gcwm destroy` of the channel supersedes A's job and runs;
    then Genesys carries out A's create. Nothing of the channel may be left: the destroy must wait
    until A's create must have ended before it lists what to remove."""
    async with gcwm_app(settings) as app:
        (job,) = await app.service.destroy(["support-web"])
        await app.service.run_jobs([job.id])
        destroyed: Job = app.store.get_job(job.id)
    assert destroyed.status == "succeeded", destroyed.error
    wait_until(frozen.carried_out, timeout_s=30, what="Genesys to carry out the frozen worker's create")
    frozen.thaw()
    assert _configurations_of(emulator, "support-web") == []


async def test_a_cancelled_jobs_create_still_on_its_way_keeps_its_slot_until_it_must_have_ended(
    frozen: FrozenWorker, settings: Settings, emulator: RunningEmulator
) -> None:
    """Found by bench/explore.py (a job ended while its create was on its way, then another channel was
    admitted at the limit and refused by Genesys with `limit.exceeded`). At a limit of one
    configuration, the frozen worker's job is cancelled while Genesys has yet to carry out its
    configuration create. Another channel asks for a configuration before that create lands: gcwm must
    count the create still on its way (the org may hold it any moment) and refuse the channel itself,
    not admit it for Genesys to refuse once the frozen worker's configuration is there."""
    emulator.set_limits({"web.deployments.configuration.max": 1})
    async with gcwm_app(settings) as app:
        cancelled = await app.service.cancel(frozen.job.id, role=Role.admin)
        assert cancelled.status == "cancelled"
        assert not frozen.carried_out() and emulator.configurations() == []
        with pytest.raises(LimitExceeded):
            await app.service.submit(parse_spec(channel_yaml("other-web")))
    wait_until(frozen.carried_out, timeout_s=30, what="Genesys to carry out the frozen worker's create")
    assert len(_configurations_of(emulator, "support-web")) == 1
