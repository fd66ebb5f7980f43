"""Fixtures for the emulator's own tests: real emulators on free ports, real HTTP clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import httpx
import pytest

from gcwm.emulator import EmbeddedEmulator, EmulatorConfig

T = TypeVar("T")
# Short lifecycles, so tests wait little, yet every Pending -> Active -> Deleting step still happens.
FAST = EmulatorConfig(
    config_activation_delay_s=0.05,
    deployment_activation_delay_s=0.1,
    deletion_delay_s=0.05,
)


@dataclass
class Emulator:
    """A running emulator: its URL, config and server (whose app state tests may read)."""

    url: str
    config: EmulatorConfig
    server: EmbeddedEmulator

    def token(self) -> str:
        with httpx.Client(base_url=self.url) as http:
            response = http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(self.config.client_id, self.config.client_secret),
            )
            response.raise_for_status()
            return str(response.json()["access_token"])

    def client(self, *, token: str | None = None) -> httpx.Client:
        """An httpx client logged in with a fresh token (or the given one)."""
        headers = {"Authorization": f"Bearer {token or self.token()}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/emulator/{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., Emulator]]:
    """Start emulators with FAST settings plus overrides; all are stopped after the test."""
    running: list[EmbeddedEmulator] = []

    def start(**overrides: Any) -> Emulator:
        config = replace(FAST, **overrides)
        server = EmbeddedEmulator(config).start()
        running.append(server)
        return Emulator(server.url, config, server)

    yield start
    for server in running:
        server.stop()


@pytest.fixture(scope="session")
def shared_server() -> Iterator[EmbeddedEmulator]:
    """One FAST emulator for the tests that need no special settings (uvicorn takes ~0.15 s to stop)."""
    with EmbeddedEmulator(FAST) as server:
        yield server


@pytest.fixture
def emulator(shared_server: EmbeddedEmulator) -> Emulator:
    """The shared emulator, reset to its seed: no objects, faults, stats or used rate budget."""
    running = Emulator(shared_server.url, FAST, shared_server)
    running.admin("POST", "reset")
    return running


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    """An httpx client logged in to the `emulator` fixture."""
    with emulator.client() as client:
        yield client


def wait_for(probe: Callable[[], T | None], *, timeout_s: float = 5.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy, or fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.01)
