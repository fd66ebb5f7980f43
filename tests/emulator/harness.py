"""What the emulator's tests drive: a running emulator's handle, its fast settings, and polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

import tests.support.http as test_http
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
        with test_http.client(base_url=self.url) as http:
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
        return test_http.client(base_url=self.url, headers=headers, timeout=10)

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        response = test_http.request(method, f"{self.url}/emulator/{path}", json=json)
        response.raise_for_status()
        return response.json()


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
