"""What the model-based machine is made of: its channels and specs, the faults it injects, the world
and state of one example, and the helpers its steps share (driving gcwm's workers, waiting for
conditions, quiescence). The steps themselves are in `machine` (use cases), `faults` and `processes`.

Steps never sleep a guessed time: each waits for a condition the emulator (held answers, delayed
requests) or the store (job status, lease expiry) reports, with a bound; a bound passed is a hang,
and a hang is a failure. The model is small: the jobs the machine queued (the store says how they
ended), which channel's in-process job has an answer held, which worker process is frozen, when each
channel was last edited behind gcwm's back, and which faults are armed.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine

from gcwm.errors import ChannelNotFound, JobError, LimitExceeded
from gcwm.provisioning import Role
from gcwm.spec import ChannelSpec, channel_key, parse_spec
from gcwm.store import Job
from tests.model import invariants
from tests.model.observe import OrgView, StoreView, hang_evidence, read_org, read_store
from tests.model.world import (
    CONFIGS,
    DEPLOYMENTS,
    PROCESS_LEASE_S,
    PROFILES,
    USE_CASE_S,
    WorkerProcess,
    World,
)
from tests.support.polling import wait_until

F = TypeVar("F", bound=Callable[..., Any])

CHANNELS = ("web-a", "web-b", "web-c")
# Four specs per channel: domains changed (a deployment update), a colour (a new configuration version),
# attachments (a supported content profile of the channel's own).
VARIANTS = {
    0: "    allowedDomains: [example.com]\n",
    1: "    allowedDomains: [example.com, shop.example.com]\n",
    2: (
        "    allowedDomains: [example.com]\n"
        "    messenger: {enabled: true, primaryColor: '#112233',\n"
        "                languages: [en-us], defaultLanguage: en-us}\n"
    ),
    3: (
        "    allowedDomains: [example.com]\n"
        "    messenger: {enabled: true, languages: [en-us], defaultLanguage: en-us,\n"
        "                fileUpload: {enabled: true, fileTypes: [image/png, application/pdf]}}\n"
    ),
}
# The writes whose answer a step holds back or loses: (method, path regex of the emulator's rule).
CREATES = {
    "configuration": ("POST", CONFIGS),
    "publish": ("POST", f"{CONFIGS}/[^/]+/versions/draft/publish"),
    "deployment": ("POST", DEPLOYMENTS),
    "profile": ("POST", PROFILES),
}
# Requests a burst of 429s or 5xx hits.
BURST_TARGETS = {
    **CREATES,
    "deployment update": ("PUT", f"{DEPLOYMENTS}/[^/]+"),
    "draft update": ("PUT", f"{CONFIGS}/[^/]+/versions/draft"),
    "deployment delete": ("DELETE", f"{DEPLOYMENTS}/[^/]+"),
    "configuration delete": ("DELETE", f"{CONFIGS}/[^/]+"),
    "deployment read": ("GET", f"{DEPLOYMENTS}/[^/]+"),
    "deployments listing": ("GET", DEPLOYMENTS),
    "drafts listing": ("GET", CONFIGS),
}
DELETES = {
    "deployment delete": ("DELETE", f"{DEPLOYMENTS}/[^/]+"),
    "configuration delete": ("DELETE", f"{CONFIGS}/[^/]+"),
}
# What happens while a request is in flight (held, or its worker frozen).
THEN = ("nothing", "supersede", "cancel", "destroy")
HELD = ("commit_then_delay", "latency")  # the request stays in flight until released
LOST = ("commit_then_fail", "commit_then_reset", "malformed_answer")  # made, its answer lost
# How long a held request waits if nobody releases it. A `latency` hold (the request not carried out
# yet) ends within the shortest sender's timeout (PROCESS_GENESYS_TIMEOUT_S): a request Genesys carries
# out at all, it carries out before its client gives up on it, which is what a takeover waits for.
HOLD_MS = {"commit_then_delay": 60_000.0, "latency": 3_000.0}
TAMPERS = (
    "delete deployment",
    "delete both",
    "edit domains",
    "edit draft",
    "break deployment",
    "copy marker",
)

#: What the steps reached, and the seconds each kind of step took, over every example run in this
#: process (bench/explore.py prints them).
REACHED: Counter[str] = Counter()
STEP_SECONDS: defaultdict[str, float] = defaultdict(float)

# Bugs the machine found that are not fixed yet, each with its xfail test in
# tests/integration/test_explore_regressions.py: name -> those tests. A machine asked to skip them (CI's,
# and `bench/explore.py --skip-known`) stays off their paths (a step checks `name in self.skip`), so the
# suite stays green and a search can look past them; delete an entry, and its checks, when its fix lands
# (its xfail test then passes, and xfail_strict says so). Empty: the one found so far (a job ended while
# its frozen worker's create was in flight; its successor did not wait for that create) is fixed.
KNOWN_OPEN: dict[str, tuple[str, ...]] = {}

channel_names = st.sampled_from(CHANNELS)
variants = st.sampled_from(sorted(VARIANTS))
picks = st.integers(min_value=0, max_value=63)


def spec_text(name: str, variant: int) -> str:
    return (
        "channels:\n"
        f"  - name: {name}\n"
        "    routingQueue: Support\n"
        "    inboundMessageFlow: Support Messaging Flow\n"
        f"{VARIANTS[variant]}"
    )


def spec_domains(job: Job) -> set[str]:
    return {d.lower() for d in ChannelSpec.model_validate(job.spec).allowed_domains}


@dataclass
class Hold:
    """An in-process job whose request the emulator holds: its channel waits until `release`."""

    channel: str
    job_id: str
    fault: str


@dataclass
class Frozen:
    """A worker process stopped (SIGSTOP) while its create was in flight."""

    process: WorkerProcess
    job_id: str
    channel: str
    fault: str


@dataclass(frozen=True)
class Incident:
    """A step that raised: the steps of its example so far, and what it raised. Hypothesis reports the
    failure it can shrink; an incident it cannot replay (timing decides) is kept here all the same."""

    steps: tuple[str, ...]
    error: str


#: Every incident of the examples run in this process (bench/explore.py prints them).
INCIDENTS: list[Incident] = []


def model_step(method: F) -> F:
    """Count and time the step, keep the example's history; remember a failure (as an incident, and so
    that teardown cleans up without a final check that would hide it)."""

    @functools.wraps(method)
    def run(self: ModelBase, *args: Any, **kwargs: Any) -> Any:
        REACHED[f"step {method.__name__}"] += 1
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(kwargs.items()))
        self.history.append(f"{method.__name__}({shown})")
        started = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        except BaseException as exc:
            if not self.failed:
                error = "".join(traceback.format_exception(exc))
                if "(a hang)" in error:
                    error += hang_evidence(self.world)
                INCIDENTS.append(Incident(tuple(self.history), error))
            self.failed = True
            raise
        finally:
            STEP_SECONDS[method.__name__] += time.perf_counter() - started

    return run  # type: ignore[return-value]


class ModelBase(RuleBasedStateMachine):
    """One example's world and model, and what the steps share; the steps are in the subclasses."""

    #: "sqlite" or "postgresql"; the runner sets these on a subclass.
    database: ClassVar[str] = "sqlite"
    #: Whether steps may start `gcwm` worker processes (the costly steps).
    processes: ClassVar[bool] = True
    #: Where each example's directory goes.
    root: ClassVar[Path | None] = None
    #: Known open bugs (KNOWN_OPEN's keys) whose paths the machine stays off.
    skip: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self.failed = False
        self.history: list[str] = []
        self.directory = Path(tempfile.mkdtemp(prefix="gcwm-model-", dir=self.root))
        try:
            self.world = World(self.database, self.directory)
        except BaseException as exc:
            INCIDENTS.append(Incident(("starting the world",), "".join(traceback.format_exception(exc))))
            raise
        self.loop_errors: list[str] = []
        self.world.loop.loop.set_exception_handler(self._unhandled)
        self.service = self.world.app.service
        self.org_id = self.world.app.org_id
        self.jobs: list[str] = []  # every job the machine queued, oldest first
        self.driven: set[str] = set()  # jobs an in-process worker was asked to finish
        self.background: list[Future[Any]] = []
        self.hold: Hold | None = None
        self.frozen: Frozen | None = None
        self.faults = False  # bursts or random faults armed since the last quiescent point
        self.tampered_at: dict[str, datetime] = {}
        self.counted: set[str] = set()  # jobs whose end REACHED has counted

    def _unhandled(self, _loop: Any, context: dict[str, Any]) -> None:
        self.loop_errors.append(f"{context.get('message')}: {context.get('exception')!r}")

    # -- reading and waiting ------------------------------------------------------------------------
    def _read(self) -> tuple[StoreView, OrgView]:
        store = read_store(self.world)  # first: see invariants._limits
        return store, read_org(self.world)

    def _busy(self) -> bool:
        """Anything in flight: unfinished jobs, held answers, worker processes, background work."""
        self._reap()
        return bool(
            self.hold
            or self.frozen
            or self.background
            or any(p.popen.poll() is None for p in self.world.processes)
            or self.world.store.unfinished_jobs(self.org_id)
        )

    def _reap(self) -> None:
        """Collect background work that ended; work that raised is a failure."""
        for future in [f for f in self.background if f.done()]:
            self.background.remove(future)
            future.result()  # run_jobs never raises: if it does, the machine says so

    def _run(self, coro: Any, what: str) -> Any:
        return self.world.loop.run(coro, what=what)

    def _submit(self, specs: list[ChannelSpec]) -> list[Job] | None:
        """Queue the specs as the service does; None if the org's limits refuse them."""
        try:
            jobs: list[Job] = self._run(self.service.submit(specs), "submit")
        except LimitExceeded:
            self._reached("submit refused by the org's limits")
            return None
        self.jobs += [j.id for j in jobs if j.id not in self.jobs]
        return jobs

    def _drive(self, job_ids: list[str], *, wait: bool = True) -> None:
        """An in-process worker works the org's queue until these jobs end (in the background); wait
        until each has ended or waits behind a held answer."""
        self.driven.update(job_ids)
        self.background.append(self.world.loop.spawn(self.service.run_jobs(job_ids)))
        if wait:
            self._wait_for(job_ids)

    def _wait_for(self, job_ids: list[str], *, timeout_s: float = USE_CASE_S) -> None:
        def settled() -> bool:
            for job_id in job_ids:
                job = self.world.store.get_job(job_id)
                if job.is_finished:
                    continue
                if self.hold is not None and job.channel_key == channel_key(self.hold.channel):
                    continue  # waits for the held answer
                return False
            return True

        wait_until(settled, timeout_s=timeout_s, what=f"jobs {job_ids} to end (a hang)")
        self._reap()

    def _finish_background(self) -> None:
        """Wait until the in-process workers working in the background are done (none waits on a
        held answer when this is called)."""
        deadline = time.monotonic() + USE_CASE_S
        while self.background:
            try:
                self.background[0].result(max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                msg = f"in-process workers still running {USE_CASE_S:.0f} s on (a hang)"
                raise AssertionError(msg) from None
            self._reap()

    def _alone(self) -> bool:
        """Bring the world to rest for a step that needs to know which job its fault hits: False (the
        step does nothing) while an answer is held or a worker frozen; else worker processes end,
        background work ends, and every unfinished job is worked to its end first."""
        if self.hold is not None or self.frozen is not None:
            return False
        for process in list(self.world.processes):
            self._process_ended(process)
        self._finish_background()
        unfinished = [j.id for j in self.world.store.unfinished_jobs(self.org_id)]
        if unfinished:
            self._drive(unfinished)
            self._finish_background()
        return True

    def _in_flight(self) -> int:
        stats = self.world.stats()
        return int(stats["heldAnswers"]) + int(stats["delayedRequests"])

    def _status(self, job_id: str) -> str:
        return self.world.store.get_job(job_id).status

    def _reached(self, what: str) -> None:
        REACHED[what] += 1

    def _held(self, job: Job, write: str, fault: str) -> bool:
        """Work the job in the background until its request is held (True), or it ended without
        making that request (False: the rule is dropped)."""
        self._drive([job.id], wait=False)
        wait_until(
            lambda: self._in_flight() or self.world.store.get_job(job.id).is_finished,
            timeout_s=USE_CASE_S,
            what=f"job {job.id} to send its {write} or end",
        )
        if not self._in_flight():
            self.world.emulator.clear_rules()
            self._wait_for([job.id])
            return False
        self.hold = Hold(job.channel_name, job.id, fault)
        self._reached(f"{write} held in flight ({fault})")
        return True

    def _then(self, then: str, channel: str, variant: int, job_id: str) -> None:
        """What happens while a job's request is in flight: a newer spec, a cancel, a destroy."""
        if then == "supersede":
            jobs = self._submit(parse_spec(spec_text(channel, (variant + 1) % len(VARIANTS))))
            if jobs is not None:
                self._drive([j.id for j in jobs])
        elif then == "cancel":
            try:
                self._run(self.service.cancel(job_id, role=Role.admin), "cancel")
            except JobError:
                assert self.world.store.get_job(job_id).status in ("succeeded", "failed")
        elif then == "destroy":
            try:
                jobs = self._run(self.service.destroy([channel]), "destroy")
            except ChannelNotFound:
                return
            self.jobs += [j.id for j in jobs if j.id not in self.jobs]
            self._drive([j.id for j in jobs])
        else:
            return
        self._reached(f"while in flight: {then}")

    def _take_over(self) -> None:
        """Wait until the frozen worker's lease has run out (the store's clock), then have an in-process
        worker work its job to the end."""
        if self.frozen is None or self.world.store.get_job(self.frozen.job_id).is_finished:
            return
        job_id = self.frozen.job_id

        def expired() -> bool:
            job = self.world.store.get_job(job_id)
            return job.is_finished or (
                job.lease_expires_at is not None and job.lease_expires_at < self.world.store.database_now()
            )

        wait_until(
            expired, timeout_s=PROCESS_LEASE_S + 10, what=f"the frozen worker's lease on {job_id} to run out"
        )
        self._drive([job_id])
        self._reached(f"frozen worker's job taken over: {self._status(job_id)}")

    def _adopt_jobs(self) -> list[str]:
        """Add the jobs other processes queued to the model's; their ids."""
        found = [j.id for j in read_store(self.world).jobs if j.id not in self.jobs]
        self.jobs += found
        return found

    def _process_ended(self, process: WorkerProcess, *, killed: bool = False) -> None:
        """Wait for a worker process to exit; one that crashed (a traceback) is a failure."""
        if not killed:
            wait_until(
                lambda: process.popen.poll() is not None,
                timeout_s=USE_CASE_S,
                what=f"worker process {process.pid} to exit (a hang); its output:\n{process.output()}",
            )
        output = process.output()
        assert "Traceback" not in output, f"worker process {process.pid} crashed:\n{output}"
        self.world.processes.remove(process)

    def _settle(self) -> None:
        self.world.emulator.clear_rules()
        self.world.emulator.set_faults(fault_5xx_rate=0.0, fault_429_rate=0.0, commit_then_fail_rate=0.0)
        self.world.emulator.release_held()
        self.hold = None
        if self.frozen is not None:
            self.frozen.process.thaw()
            self.frozen = None
        for process in list(self.world.processes):
            self._process_ended(process)
        pending = [j for j in self.driven if not self.world.store.get_job(j).is_finished]
        self._wait_for(sorted(pending))
        self._finish_background()
        # Jobs queued with no worker asked to finish them (submitted only, or left by a killed process).
        self._run(self.service.resume(), "resume of every unfinished job")
        self.faults = False
        store, org = self._read()
        for job in store.jobs:
            if job.id not in self.counted:
                self.counted.add(job.id)
                how = (job.result or {}).get("outcome") or (job.error or {}).get("error") or ""
                self._reached(f"job {job.kind} {job.status} {how}".strip())
        problems = invariants.quiescent(org, store, self.tampered_at, spec_domains)
        assert not problems, "\n".join(problems)

    def teardown(self) -> None:
        """The end of an example is a quiescent point too; then everything is stopped and removed
        (a failure to clean up never hides the failure that came first)."""
        try:
            if not self.failed:
                try:
                    self._settle()
                except BaseException:
                    self.failed = True
                    raise
        finally:
            try:
                self.world.close()
            except Exception:
                if not self.failed:
                    raise
            finally:
                shutil.rmtree(self.directory, ignore_errors=True)


def needs(org: OrgView, name: str) -> list[str]:
    """The kinds a provision of the channel creates, from what the org holds of it."""
    need = []
    if not org.of(name, "configuration"):
        need.append("configuration")
    deployments = org.of(name, "deployment")
    if not deployments or any(d.status == "Error" for d in deployments):
        need.append("deployment")
    return need


def subtract(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


def operation_of(write: str) -> str:
    """The emulator's name of a create's path (as in `GET /emulator/stats`'s byOperation)."""
    return {
        "configuration": CONFIGS,
        "publish": f"{CONFIGS}/{{configurationId}}/versions/draft/publish",
        "deployment": DEPLOYMENTS,
        "profile": PROFILES,
    }[write]
