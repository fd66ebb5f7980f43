"""Fixtures for the emulator's own tests: real emulators on free ports, real HTTP clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from gcwm.emulator import EmbeddedEmulator
from tests.emulator.harness import FAST, Emulator


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
