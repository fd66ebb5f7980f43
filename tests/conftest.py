"""Fixtures shared by gcwm's integration and e2e tests: a real emulator, real databases."""

from __future__ import annotations

import compileall
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import gcwm
from gcwm.emulator import EmbeddedEmulator, EmulatorConfig
from tests.support.emulator import RunningEmulator

# Property tests run on a busy 2-core CI machine beside servers of other tests: what they check is
# correctness, not speed, so a slow draw (hypothesis builds its Unicode tables on first use) is no
# failure, and no single example has a deadline.
settings.register_profile("gcwm", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("gcwm")

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile gcwm's modules once, as installing a wheel does. An editable install under
    PYTHONDONTWRITEBYTECODE (set on CI's machine) has none, and each of the suite's hundreds of `gcwm`
    processes compiled every module again: a tenth of the end-to-end tests' CPU in a profile."""
    if not hasattr(session.config, "workerinput"):  # the controller, before xdist's workers start
        compileall.compile_dir(Path(gcwm.__file__).parent, quiet=1)


# Quick lifecycle so tests wait little, yet every Pending -> Active transition still happens.
FAST = {
    "config_activation_delay_s": 0.05,
    "deployment_activation_delay_s": 0.15,
    "deletion_delay_s": 0.05,
    "rate_limit_per_min": 100_000,
}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[RunningEmulator]:
    """A fresh emulated org on a free loopback port, with fast lifecycles."""
    config = EmulatorConfig(**FAST, state_file=tmp_path / "org.json")  # type: ignore[arg-type]
    with EmbeddedEmulator(config) as server:
        yield RunningEmulator(server.url, config)


@pytest.fixture
def gcwm_env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    """Environment for running the `gcwm` command against the emulator with its own database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    env.update(
        GENESYSCLOUD_OAUTHCLIENT_ID=emulator.config.client_id,
        GENESYSCLOUD_OAUTHCLIENT_SECRET=emulator.config.client_secret,
        GENESYSCLOUD_REGION="us-east-1",
        GCWM_GENESYS_BASE_URL=emulator.url,
        GCWM_HOME=str(tmp_path / "home"),
        GCWM_LOG_LEVEL="warning",
    )
    return env


def gcwm_command() -> list[str]:
    """How to run the installed `gcwm` (the console script next to this Python)."""
    script = Path(sys.executable).with_name("gcwm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gcwm.cli"]
