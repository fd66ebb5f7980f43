"""The machine's steps that start other `gcwm` processes on the same database and org: one frozen
(SIGSTOP) with a create in flight, taken over and thawed; one killed -9 mid-job and resumed; two
provisioning at once."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from gcwm.spec import parse_spec
from tests.model.base import (
    CREATES,
    HELD,
    HOLD_MS,
    THEN,
    VARIANTS,
    Frozen,
    ModelBase,
    channel_names,
    model_step,
    spec_text,
    variants,
)
from tests.model.world import USE_CASE_S
from tests.support.polling import wait_until


class ProcessSteps(ModelBase):
    """Other gcwm processes, as steps (only when the machine's `processes` is on)."""

    @precondition(lambda self: self.processes)
    @rule(
        channel=channel_names,
        variant=variants,
        write=st.sampled_from(["configuration", "deployment", "publish"]),
        fault=st.sampled_from(HELD),
        then=st.sampled_from((*THEN, "take over")),
    )
    @model_step
    def freeze_a_worker_mid_create(
        self, channel: str, variant: int, write: str, fault: str, then: str
    ) -> None:
        """`gcwm provision` in a process of its own is frozen (SIGSTOP, a VM pause) while its create is
        in flight (made, its answer held; or held before it is made); its lease runs out while it
        sleeps; meanwhile (`then`) an in-process worker takes its job over, a newer spec supersedes it,
        it is cancelled, or the channel destroyed."""
        if not self._alone():
            return
        method, path = CREATES[write]
        self.world.emulator.add_fault(method, path, fault, latency_ms=HOLD_MS[fault])
        process = self.world.start_provision(spec_text(channel, variant))
        wait_until(
            lambda: self._in_flight() or process.popen.poll() is not None,
            timeout_s=USE_CASE_S,
            what=f"`gcwm provision` of {channel} to reach its {write} create",
        )
        if not self._in_flight():  # refused, or it needed no such create and finished
            self.world.emulator.clear_rules()
            self._process_ended(process)
            self._adopt_jobs()
            return
        process.freeze()
        (job_id,) = self._adopt_jobs()
        self.frozen = Frozen(process, job_id, channel, fault)
        self._reached(f"worker frozen mid-{write} create ({fault})")
        if then == "take over":
            self._take_over()
        else:
            self._then(then, channel, variant, job_id)

    @precondition(lambda self: self.processes)
    @rule()
    @model_step
    def take_over_from_the_frozen_worker(self) -> None:
        """Once the frozen worker's lease has run out, an in-process worker takes its job over."""
        self._take_over()

    @precondition(lambda self: self.processes)
    @rule(release_first=st.booleans())
    @model_step
    def thaw_the_frozen_worker(self, release_first: bool) -> None:
        """SIGCONT: the frozen worker runs again, its held request answered (before or after it wakes).
        Whatever it finds, it must not write over the job's new owner."""
        if self.frozen is None:
            return
        process = self.frozen.process
        if release_first:
            self.world.emulator.release_held()
        process.thaw()
        if not release_first:
            self.world.emulator.release_held()
        self.world.emulator.clear_rules()
        self.frozen = None
        self._process_ended(process)
        self._reached(f"frozen worker thawed (answer released {'before' if release_first else 'after'})")

    @precondition(lambda self: self.processes)
    @rule(
        channel=channel_names,
        variant=variants,
        moment=st.sampled_from(["held create", "delayed create", "first step", "third step"]),
        write=st.sampled_from(["configuration", "deployment"]),
        resume=st.sampled_from(["later", "in-process", "gcwm jobs resume"]),
    )
    @model_step
    def kill_9_a_worker(self, channel: str, variant: int, moment: str, write: str, resume: str) -> None:
        """`gcwm provision` in a process of its own is killed with SIGKILL mid-job: with a create made but
        its answer held, with a create not made yet, or after its first or third recorded step; its job
        is resumed in-process, by `gcwm jobs resume`, or later."""
        if not self._alone():
            return
        method, path = CREATES[write]
        if moment.endswith("create"):
            fault = "commit_then_delay" if moment == "held create" else "latency"
            self.world.emulator.add_fault(method, path, fault, latency_ms=HOLD_MS[fault])
        known = set(self.jobs)
        steps = {"first step": 1, "third step": 3}.get(moment)
        process = self.world.start_provision(spec_text(channel, variant))

        def moment_came() -> bool:
            if steps is None:
                return bool(self._in_flight())
            mine = [j for j in self.world.store.list_jobs(limit=5) if j.id not in known]
            return any(len(self.world.store.job_steps(j.id)) >= steps for j in mine)

        wait_until(
            lambda: moment_came() or process.popen.poll() is not None,
            timeout_s=USE_CASE_S,
            what=f"the moment ({moment}) to kill `gcwm provision` of {channel}",
        )
        process.kill()
        self._reached(f"worker killed -9 at {moment}")
        self.world.emulator.clear_rules()
        self.world.emulator.release_held()
        self._process_ended(process, killed=True)
        left = [j for j in self._adopt_jobs() if not self.world.store.get_job(j).is_finished]
        if left and resume == "in-process":
            self._drive(left)
        elif left and resume == "gcwm jobs resume":
            self._process_ended(self.world.start_worker())

    @precondition(lambda self: self.processes)
    @rule(first=channel_names, second=channel_names, variant=variants)
    @model_step
    def two_processes_provision_at_once(self, first: str, second: str, variant: int) -> None:
        """`gcwm provision` in a second process while the in-process service provisions (the same
        channel, or another): two processes on one database and one org."""
        if self.hold is not None or self.frozen is not None:
            return
        process = self.world.start_provision(spec_text(first, variant))
        jobs = self._submit(parse_spec(spec_text(second, (variant + 1) % len(VARIANTS))))
        if jobs is not None:
            self._drive([j.id for j in jobs])
        self._process_ended(process)
        self._adopt_jobs()
        self._reached("two processes provisioned at once")
