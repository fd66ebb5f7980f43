"""One example's world: a fresh emulated org, a fresh database, gcwm opened in-process on an event loop
of its own (so its jobs keep running between the machine's steps), and `gcwm jobs resume` processes
on the same database and emulator, which a step may freeze (SIGSTOP), thaw or kill -9."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Coroutine
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import stamina

import tests.support.http as test_http
from gcwm.bootstrap import App, open_app
from gcwm.emulator import EmbeddedEmulator, EmulatorConfig
from gcwm.settings import Settings
from gcwm.store import Store, connect
from tests.conftest import FAST, gcwm_command
from tests.integration.conftest import FAST_TIMEOUTS
from tests.support.databases import make_database_url
from tests.support.emulator import RunningEmulator

T = TypeVar("T")

DEPLOYMENTS = "/api/v2/webdeployments/deployments"
CONFIGS = "/api/v2/webdeployments/configurations"
PROFILES = "/api/v2/conversations/messaging/supportedcontent"
# The answers a harness read waits out: a fault a step injected may hit the harness's own reads.
_PASSING = {429, 500, 502, 503, 504}
# How long one use case run in-process may take before the machine calls it a hang.
USE_CASE_S = 60.0
# The lease of the `gcwm` worker processes: short, so a frozen one is taken over within the step.
PROCESS_LEASE_S = 1.0
# How long gcwm waits for one Genesys answer (GCWM_GENESYS_TIMEOUT_SECONDS): in-process, and in the
# worker processes (short: a takeover waits that long after a frozen worker's send before sending again).
GENESYS_TIMEOUT_S = 10.0
PROCESS_GENESYS_TIMEOUT_S = 4.0


class BackgroundLoop:
    """An event loop on a thread of its own: gcwm's jobs run on it while the machine's steps, on the
    calling thread, inject faults, read the org and wait for conditions."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="gcwm-model-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], *, timeout_s: float = USE_CASE_S, what: str = "") -> T:
        """Run `coro` on the loop and wait for its result; a hang past `timeout_s` is a failure."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            msg = f"{what or 'a use case'} did not return within {timeout_s:.0f} s (a hang)"
            raise AssertionError(msg) from None

    def spawn(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start `coro` on the loop and return at once (work that goes on between steps)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop_work(self) -> None:
        """Cancel whatever still runs on the loop and wait for the threads it handed work to (a
        database write in flight), so nothing of gcwm's touches the database afterwards."""

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.get_running_loop().shutdown_default_executor()

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(60)

    def close(self) -> None:
        """Stop the loop (after `stop_work`)."""
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(30)
        self.loop.close()


@dataclass
class WorkerProcess:
    """A `gcwm jobs resume` process working the org's queue; its output goes to files."""

    popen: subprocess.Popen[bytes]
    log: Path
    frozen: bool = False
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    def freeze(self) -> None:
        """SIGSTOP: the process keeps its leases and sockets but does nothing (a VM pause)."""
        os.kill(self.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen and self.popen.poll() is None:
            os.kill(self.pid, signal.SIGCONT)
        self.frozen = False

    def kill(self) -> None:
        """kill -9, and reap it (a zombie would still look alive to gcwm's reaper)."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(10)
        self.killed = True
        self.frozen = False

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@dataclass
class World:
    """Everything one example runs against; `close()` ends it all."""

    database: str
    root: Path
    emulator: RunningEmulator = field(init=False)
    settings: Settings = field(init=False)
    app: App = field(init=False)
    store: Store = field(init=False)  # the harness's own reads, on an engine of their own
    loop: BackgroundLoop = field(init=False)
    database_url: str = field(init=False)
    processes: list[WorkerProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stack = ExitStack()
        self._app_stack: AsyncExitStack | None = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        config = EmulatorConfig(**FAST, state_file=self.root / "org.json")  # type: ignore[arg-type]
        server = self._stack.enter_context(EmbeddedEmulator(config))
        self.emulator = RunningEmulator(server.url, config)
        self.database_url = self._stack.enter_context(make_database_url(self.database, self.root))
        # Retries happen as in production, without their waits (tests/integration/conftest.py).
        self._stack.enter_context(stamina.set_testing(True, attempts=1_000, cap=True))
        self.settings = Settings(
            GENESYSCLOUD_OAUTHCLIENT_ID=config.client_id,
            GENESYSCLOUD_OAUTHCLIENT_SECRET=config.client_secret,
            GENESYSCLOUD_REGION="us-east-1",
            GCWM_GENESYS_BASE_URL=self.emulator.url,
            GCWM_HOME=str(self.root / "home"),
            GCWM_DATABASE_URL=self.database_url,
            GCWM_REQUESTS_PER_MINUTE=6000,
            GCWM_CONCURRENCY=4,
            GCWM_LEASE_SECONDS=5,
            GCWM_TRANSIENT_400_SECONDS=0,
            GCWM_GENESYS_TIMEOUT_SECONDS=GENESYS_TIMEOUT_S,
        )
        self.loop = BackgroundLoop()
        self._stack.callback(self.loop.close)
        self.app = self.loop.run(self._open_app(), what="opening gcwm")
        self.store = Store(connect(self.database_url))
        self._stack.callback(self.store.engine.dispose)
        self._http = test_http.client(base_url=self.emulator.url, timeout=10)
        self._stack.callback(self._http.close)
        self._token: str | None = None

    async def _open_app(self) -> App:
        self._app_stack = AsyncExitStack()
        return await self._app_stack.enter_async_context(
            open_app(self.settings, timeouts=FAST_TIMEOUTS, announce=False)
        )

    async def _close_app(self) -> None:
        if self._app_stack is not None:
            await self._app_stack.aclose()

    def close(self) -> None:
        """Stop the worker processes and gcwm's work, close gcwm, stop the emulator, drop the database."""
        for process in self.processes:
            process.thaw()
            process.kill()
        try:
            if hasattr(self, "loop"):
                self.loop.stop_work()
                if self._app_stack is not None:
                    self.loop.run(self._close_app(), timeout_s=30, what="closing gcwm")
        finally:
            self._app_stack = None
            self._stack.close()

    # -- gcwm worker processes ----------------------------------------------------------------------
    def start_provision(self, spec: str) -> WorkerProcess:
        """`gcwm provision` of a spec, in a process of its own (which queues the job and works it)."""
        path = self.root / f"spec-{len(self.processes)}.yaml"
        path.write_text(spec)
        return self.start_gcwm("provision", str(path))

    def start_worker(self) -> WorkerProcess:
        """`gcwm jobs resume`: a process that finishes the org's unfinished jobs it may claim."""
        return self.start_gcwm("jobs", "resume")

    def start_gcwm(self, *args: str) -> WorkerProcess:
        """`gcwm ARGS --output json` against this world's database and emulator, with a short lease."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
        env.update(
            GENESYSCLOUD_OAUTHCLIENT_ID=self.emulator.config.client_id,
            GENESYSCLOUD_OAUTHCLIENT_SECRET=self.emulator.config.client_secret,
            GENESYSCLOUD_REGION="us-east-1",
            GCWM_GENESYS_BASE_URL=self.emulator.url,
            GCWM_HOME=str(self.settings.home),  # the same audit signing key as the in-process gcwm
            GCWM_DATABASE_URL=self.database_url,
            GCWM_LEASE_SECONDS=str(PROCESS_LEASE_S),
            GCWM_REQUESTS_PER_MINUTE="6000",
            GCWM_CONCURRENCY="2",
            GCWM_TRANSIENT_400_SECONDS="0",
            GCWM_GENESYS_TIMEOUT_SECONDS=str(PROCESS_GENESYS_TIMEOUT_S),
            GCWM_LOG_LEVEL="info",  # a failure's report quotes these logs (machine._evidence)
        )
        log = self.root / f"worker-{len(self.processes)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [*gcwm_command(), *args, "--output", "json"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = WorkerProcess(popen, log)
        self.processes.append(process)
        return process

    # -- the emulated org, as anyone with a token sees it --------------------------------------------
    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """The emulator's own admin API (never faulted)."""
        answer = self._http.request(method, f"/emulator/{path}", json=body)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def api(self, method: str, path: str, body: Any = None, *, ok_missing: bool = False) -> Any:
        """One public API call with a token of the harness's own, waiting out the faults a step
        injected (they hit the harness's requests too). None for a 404 when `ok_missing`."""
        for _ in range(50):
            try:
                answer = self._http.request(method, path, json=body, headers=self._auth())
            except httpx.TransportError:
                continue  # a reset injected into a write: send it again (writes here are idempotent)
            if answer.status_code in _PASSING:
                continue
            if answer.status_code == 404 and ok_missing:
                return None
            answer.raise_for_status()
            if not answer.content:
                return None
            try:
                return answer.json()
            except json.JSONDecodeError:
                continue  # a malformed answer a rule injected: ask again
        msg = f"{method} {path}: the emulator kept failing the harness's request"
        raise AssertionError(msg)

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            answer = self._http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(self.emulator.config.client_id, self.emulator.config.client_secret),
            )
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return {"Authorization": f"Bearer {self._token}"}

    def listing(self, path: str) -> list[dict[str, Any]]:
        """Every object of a listing (cursor or numbered pages), those being deleted left out."""
        out: list[dict[str, Any]] = []
        next_path: str | None = f"{path}?pageSize=100"
        page_number = 1
        while next_path:
            body = self.api("GET", next_path)
            out.extend(body.get("entities", []))
            if body.get("nextUri"):
                next_path = body["nextUri"]
            elif body.get("pageCount", 1) > page_number:
                page_number += 1
                next_path = f"{path}?pageSize=100&pageNumber={page_number}"
            else:
                next_path = None
        return [o for o in out if o.get("status") != "Deleting"]

    def stats(self) -> dict[str, Any]:
        return self.admin("GET", "stats")  # type: ignore[no-any-return]

    def writes(self) -> dict[str, int]:
        """Write requests the emulator answered so far, per operation."""
        by_operation: dict[str, int] = self.stats().get("byOperation", {})
        return {
            op: n
            for op, n in by_operation.items()
            if op.split(" ", 1)[0] in ("POST", "PUT", "DELETE", "PATCH")
        }

    def limits(self) -> dict[str, int]:
        raw = self.admin("GET", "limits")
        return {
            "deployment": int(raw["web.deployments.deployments.max"]),
            "configuration": int(raw["web.deployments.configuration.max"]),
        }

    def set_limits(self, *, deployments: int, configurations: int) -> None:
        self.admin(
            "PUT",
            "limits",
            {
                "web.deployments.deployments.max": deployments,
                "web.deployments.configuration.max": configurations,
            },
        )

    def wait_gone(self, path: str, *, timeout_s: float = 10.0) -> None:
        """Poll GET until the object answers 404 (a deletion passes through Deleting)."""
        deadline = time.monotonic() + timeout_s
        while self.api("GET", path, ok_missing=True) is not None:
            if time.monotonic() > deadline:
                msg = f"{path} still there {timeout_s:.0f} s after it was deleted"
                raise AssertionError(msg)
            time.sleep(0.02)
