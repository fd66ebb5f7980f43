"""How the emulator runs: its public names, the embedded server, the foreground server, concurrency."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading

import httpx
import pytest

import gcwm.emulator
from gcwm.emulator import EmbeddedEmulator, EmulatorConfig
from tests.emulator.harness import Emulator, wait_for
from tests.emulator.steps import CONFIGS, configuration_body


def test_public_names() -> None:
    """The package exports exactly what other rooms code against."""
    assert gcwm.emulator.__all__ == ["EmbeddedEmulator", "EmulatorConfig", "FaultRule", "create_app", "serve"]


def test_config_refuses_impossible_values() -> None:
    """Rates outside 0..1 and an empty budget fail at construction."""
    with pytest.raises(ValueError, match="fault_5xx_rate"):
        EmulatorConfig(fault_5xx_rate=1.5)
    with pytest.raises(ValueError, match="rate_limit_per_min"):
        EmulatorConfig(rate_limit_per_min=0)
    with pytest.raises(ValueError, match="fault"):
        gcwm.emulator.FaultRule(method="GET", path="/x", fault="http418")  # type: ignore[arg-type]


def test_embedded_emulator_binds_loopback_and_stops() -> None:
    """start() serves on 127.0.0.1 and a free port; stop() frees it; the context manager does both."""
    with EmbeddedEmulator() as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{server.url}/emulator/stats").status_code == 200
        port = server.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/emulator/stats")


async def test_concurrent_creates_get_distinct_ids_and_all_are_listed(emulator: Emulator) -> None:
    """40 creates at once: 40 objects, every one listed once across cursor pages, while another
    thread reads the state."""
    state = emulator.server.app.state.emulator.state
    counts: list[tuple[int, int]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            counts.append(state.live_counts())

    watcher = threading.Thread(target=watch)
    watcher.start()
    token = emulator.token()
    try:
        async with httpx.AsyncClient(
            base_url=emulator.url, headers={"Authorization": f"Bearer {token}"}
        ) as api:
            answers = await asyncio.gather(
                *(api.post(CONFIGS, json=configuration_body(f"c{i}")) for i in range(40))
            )
            ids = [a.json()["id"] for a in answers]
            listed: list[str] = []
            page = (await api.get(CONFIGS, params={"pageSize": 7})).json()  # 6 pages
            while True:
                listed += [c["id"] for c in page["entities"]]
                if "nextUri" not in page:
                    break
                page = (await api.get(page["nextUri"])).json()
    finally:
        stop.set()
        watcher.join()
    assert len(set(ids)) == 40
    assert sorted(listed) == sorted(ids)
    assert counts and all(0 <= c <= 40 for c, _ in counts)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_in_the_foreground() -> None:
    """serve() (behind `gcwm emulator`) answers on the given host and port until stopped."""
    port = _free_port()
    code = (
        "from gcwm.emulator import EmulatorConfig, serve; "
        f"serve(EmulatorConfig(client_id='cli'), host='127.0.0.1', port={port})"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:

        def answers() -> int | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/emulator/stats").status_code
            except httpx.TransportError:
                return None

        assert wait_for(answers, timeout_s=20, what="serve() to listen") == 200
        token = httpx.post(
            f"http://127.0.0.1:{port}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("cli", "gcwm-local-secret"),
        )
        assert token.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_gcwm_emulator_takes_server_defaults_and_dependency_400s() -> None:
    """`gcwm emulator --server-defaults --dependency-400s 3` starts with both behaviours on."""
    port = _free_port()
    args = ["emulator", "--port", str(port), "--server-defaults", "--dependency-400s", "3"]
    process = subprocess.Popen(
        [sys.executable, "-c", "from gcwm.cli import main; main()", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def faults() -> dict[str, object] | None:
            try:
                answer: dict[str, object] = httpx.get(f"{base}/emulator/faults").json()
            except httpx.TransportError:
                return None
            return answer

        assert wait_for(faults, timeout_s=20, what="gcwm emulator to listen")["dependency_400s"] == 3
        token = httpx.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("gcwm-local", "gcwm-local-secret"),
        ).json()["access_token"]
        body = {"name": "cli", "messenger": {"styles": {"primaryColor": "#ABCDEF"}}}
        made = httpx.post(f"{base}{CONFIGS}", json=body, headers={"Authorization": f"Bearer {token}"}).json()
        assert made["messenger"]["styles"]["primaryColor"] == "#abcdef"
        assert made["messenger"]["enabled"] is False
    finally:
        process.terminate()
        process.wait(timeout=10)
