"""In-process gcwm wired to the emulator and a real database (SQLite file, or PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import stamina

from gcwm.bootstrap import App, open_app
from gcwm.provisioning import Timeouts
from gcwm.settings import Settings
from gcwm.spec import ChannelSpec, parse_spec
from gcwm.store import Job
from tests.support.databases import make_database_url
from tests.support.emulator import RunningEmulator

FAST_TIMEOUTS = Timeouts(
    poll_initial_s=0.03,
    poll_max_s=0.2,
    busy_poll_s=0.2,
    lookup_settle_s=0.1,
    deployment_active_s=20,
    rollback_s=2.0,
)


@pytest.fixture
def no_backoff() -> Iterator[None]:
    """Retries happen as in production, but without waiting: for tests of what is retried, not how long."""
    with stamina.set_testing(True, attempts=1_000, cap=True):  # cap: each call keeps its own attempts
        yield


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind (PostgreSQL skips, saying why, when unreachable)."""
    with make_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def transient_400_s() -> float:
    """How long a 400 on a write naming a fresh object is retried. Off here: these tests inject one
    400 as a refusal (to see a rollback); test_fidelity_provisioning turns the window on."""
    return 0.0


@pytest.fixture
def settings(
    emulator: RunningEmulator, database_url: str, tmp_path: Path, transient_400_s: float
) -> Settings:
    """Settings pointing gcwm at the emulator, as GCWM_GENESYS_BASE_URL would."""
    return Settings(
        GENESYSCLOUD_OAUTHCLIENT_ID=emulator.config.client_id,
        GENESYSCLOUD_OAUTHCLIENT_SECRET=emulator.config.client_secret,
        GENESYSCLOUD_REGION="us-east-1",
        GCWM_GENESYS_BASE_URL=emulator.url,
        GCWM_HOME=str(tmp_path / "home"),
        GCWM_DATABASE_URL=database_url,
        GCWM_REQUESTS_PER_MINUTE=6000,
        GCWM_CONCURRENCY=4,
        GCWM_LEASE_SECONDS=5,
        GCWM_TRANSIENT_400_SECONDS=transient_400_s,
        # A job after one whose create may be in flight waits out this request timeout: short, so
        # such tests take seconds (requests a test holds are released well within it).
        GCWM_GENESYS_TIMEOUT_SECONDS=6,
    )


Provision = Callable[..., Awaitable[list[Job]]]


@pytest.fixture
def provision(settings: Settings) -> Provision:
    """Run `provision` in-process through the service; returns the jobs, in spec order."""

    async def run(specs: list[ChannelSpec] | str) -> list[Job]:
        async with gcwm_app(settings) as app:
            parsed = parse_spec(specs) if isinstance(specs, str) else specs
            document = await app.service.provision(parsed)
            return [app.store.get_job(c["jobId"]) for c in document["channels"]]

    return run


@asynccontextmanager
async def gcwm_app(settings: Settings) -> AsyncIterator[App]:
    async with open_app(settings, timeouts=FAST_TIMEOUTS, announce=False) as app:
        yield app


def channel_yaml(
    name: str = "support-web", *, queue: str = "Support", flow: str = "Support Messaging Flow"
) -> str:
    return f"""
channels:
  - name: {name}
    routingQueue: {queue}
    inboundMessageFlow: {flow}
    allowedDomains: [example.com]
"""
