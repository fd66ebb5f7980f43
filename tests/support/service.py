"""A live `gcwm serve` for tests: a real subprocess on a free port, its own GCWM_HOME and database.

Keys are made in the same GCWM_HOME and database through `gcwm keys create`'s use case (in this
process, to spare each test a command's start-up; `create_key` runs the command itself). The
server's stderr goes to a file whose tail is shown when it fails to start or to stop.

    from tests.support.service import start_service

    with start_service(env, tmp_path) as service:
        with service.client("operator") as http:
            http.post("/v1/channels", json=document)
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import tests.support.http as test_http
from gcwm.api import keys as api_keys
from gcwm.bootstrap import open_evidence, open_store
from gcwm.provisioning.roles import Role
from gcwm.settings import Settings
from tests.support.polling import wait_until

ROLES = ("viewer", "operator", "admin")


def gcwm_command() -> list[str]:
    """How to run the installed `gcwm` (the console script next to this Python)."""
    script = Path(sys.executable).with_name("gcwm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gcwm.cli"]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_gcwm(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*gcwm_command(), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def create_key(env: dict[str, str], role: str, name: str = "") -> str:
    """A new API key of `role`, made as an operator does, with `gcwm keys create`."""
    done = run_gcwm(env, "keys", "create", "--role", role, *(["--name", name] if name else []))
    assert done.returncode == 0, f"gcwm keys create failed ({done.returncode}): {done.stderr}"
    return done.stdout.strip()


@dataclass
class RunningService:
    """A running `gcwm serve`: where it listens, its home, environment and one API key per role."""

    url: str
    home: Path
    env: dict[str, str]
    stderr_path: Path
    process: subprocess.Popen[bytes]
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = "admin", **kwargs: Any) -> httpx.Client:
        """An httpx client on the service, sending the key of `role` (None: no key at all)."""
        headers = dict(kwargs.pop("headers", {}))
        if role is not None:
            headers["Authorization"] = f"Bearer {self.keys[role]}"
        return test_http.client(
            base_url=self.url, headers=headers, timeout=kwargs.pop("timeout", 30), **kwargs
        )

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def gcwm(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run another `gcwm` command on the same home and database (e.g. `keys revoke`)."""
        return run_gcwm(self.env, *args, timeout=timeout)

    def create_key(self, role: str, name: str = "") -> str:
        """A new key of `role`, made with `gcwm keys create` (works while the service runs)."""
        return create_key(self.env, role, name)

    def list_keys(self) -> list[dict[str, Any]]:
        """`gcwm keys list --output json`: every key's id, name, role and state (never the key)."""
        done = self.gcwm("keys", "list", "--output", "json")
        assert done.returncode == 0, done.stderr
        keys: list[dict[str, Any]] = json.loads(done.stdout)["keys"]
        return keys

    def key_id(self, role: str) -> str:
        """The id (the actor on jobs and audit entries) of the key this service made for `role`."""
        named = [k for k in self.list_keys() if k["name"] == f"test-{role}"]
        assert len(named) == 1, named
        return str(named[0]["id"])

    def stderr_tail(self, lines: int = 60) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return "(no stderr file)"
        return "\n".join(text.splitlines()[-lines:])


def service_env(base: dict[str, str], home: Path, database_url: str | None = None) -> dict[str, str]:
    """`base` with GCWM_HOME set to `home`, and GCWM_DATABASE_URL when a database other than the
    home's SQLite file is wanted."""
    env = dict(base)
    env["GCWM_HOME"] = str(home)
    env.setdefault("GCWM_LOG_LEVEL", "warning")
    if database_url is not None:
        env["GCWM_DATABASE_URL"] = database_url
    else:
        env.pop("GCWM_DATABASE_URL", None)
    return env


def clean_environment() -> dict[str, str]:
    """This process's environment without any GCWM_ or Genesys setting (the embedded emulator)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}


def make_key_in_process(env: dict[str, str], role: str, name: str) -> str:
    """A new key of `role` in the home and database `env` names (migrating the database and making
    the audit signing key on first use, as the command would)."""
    settings = Settings.model_validate(
        {k: v for k, v in env.items() if k.startswith("GCWM_")}  # the aliases are the variable names
    )
    store = open_store(settings)
    try:
        _, token = api_keys.create_key(store, open_evidence(settings), role=Role(role), name=name)
    finally:
        store.engine.dispose()
    return token


@contextmanager
def start_service(
    env: dict[str, str] | None,
    tmp_path: Path,
    *,
    database_url: str | None = None,
    roles: Sequence[str] = ROLES,
    extra_args: Sequence[str] = (),
    startup_timeout_s: float = 60.0,
) -> Iterator[RunningService]:
    """Start `gcwm serve` and wait until /healthz answers; stop it with SIGTERM and check it exits.

    `env` is the environment to run in (e.g. the `gcwm_env` fixture, which points at a test
    emulator); None means a clean one, so the service starts its embedded emulator. GCWM_HOME is
    always a fresh directory under `tmp_path`; `database_url` picks PostgreSQL instead of SQLite.
    """
    home = tmp_path / "service-home"
    home.mkdir(parents=True, exist_ok=True)
    full_env = service_env(clean_environment() if env is None else env, home, database_url)
    stderr_path = tmp_path / "gcwm-serve.stderr"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The keys are made in this process, through the same use case as `gcwm keys create` (whose own
    # test runs the command): a `gcwm` start-up per key would cost every API test seconds.
    keys = {role: make_key_in_process(full_env, role, f"test-{role}") for role in roles}
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [*gcwm_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    service = RunningService(url, home, full_env, stderr_path, process, keys=keys)
    try:
        _wait_healthy(service, startup_timeout_s)
        yield service
    finally:
        _stop(service)


def _wait_healthy(service: RunningService, timeout_s: float) -> None:
    def healthy() -> bool:
        if service.process.poll() is not None:
            msg = f"gcwm serve exited with {service.process.returncode}:\n{service.stderr_tail()}"
            raise AssertionError(msg)
        try:
            return test_http.get(f"{service.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, timeout_s=timeout_s, what=f"gcwm serve at {service.url}/healthz")
    except AssertionError as exc:
        msg = f"{exc}\n--- gcwm serve stderr ---\n{service.stderr_tail()}"
        raise AssertionError(msg) from None


def _stop(service: RunningService) -> None:
    process = service.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            msg = f"gcwm serve did not stop within 30 s of SIGTERM:\n{service.stderr_tail()}"
            raise AssertionError(msg) from None
    # SIGTERM is the ordinary way to stop a service: a graceful stop exits 0.
    assert process.returncode == 0, (
        f"gcwm serve exited with {process.returncode} after SIGTERM:\n{service.stderr_tail()}"
    )
