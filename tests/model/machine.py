"""The state machine: random interleavings of gcwm's use cases (here), Genesys's faults and people's
edits (`faults`) and other gcwm processes (`processes`), against one real emulator and one real
database per example, with the invariants of `tests.model.invariants` after every step and at every
quiescent point (`base`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from gcwm.errors import ChannelNotFound, JobError
from gcwm.provisioning import Role
from gcwm.spec import ChannelSpec, channel_key, parse_spec
from gcwm.store import Job
from tests.model import invariants
from tests.model.base import (
    INCIDENTS,
    KNOWN_OPEN,
    REACHED,
    STEP_SECONDS,
    Incident,
    channel_names,
    model_step,
    needs,
    picks,
    spec_text,
    subtract,
    variants,
)
from tests.model.faults import FaultSteps
from tests.model.observe import read_org, read_store
from tests.model.processes import ProcessSteps

__all__ = [
    "INCIDENTS",
    "KNOWN_OPEN",
    "REACHED",
    "STEP_SECONDS",
    "Incident",
    "ProvisioningMachine",
    "machine_for",
]


class ProvisioningMachine(FaultSteps, ProcessSteps):
    """gcwm provisioning channels of one org, as people, processes and Genesys's faults interleave."""

    # -- setup --------------------------------------------------------------------------------------
    @initialize(deployments=st.integers(1, 3), configurations=st.integers(1, 3))
    @model_step
    def org_limits(self, deployments: int, configurations: int) -> None:
        """The org's limits, 1 to 3 of each (`PUT /emulator/limits`)."""
        self.world.set_limits(deployments=deployments, configurations=configurations)

    # -- use cases ----------------------------------------------------------------------------------
    @rule(channel=channel_names, variant=variants, work=st.booleans())
    @model_step
    def provision(self, channel: str, variant: int, work: bool) -> None:
        """Provision a spec (new, changed, or superseding the channel's unfinished job). When nothing
        else is in flight, `gcwm provision`'s use case, with its outcome checked against the org;
        else the service's submit, worked in the background if `work`."""
        specs = parse_spec(spec_text(channel, variant))
        if work and not self._busy():
            self._provision_alone(specs[0])
            return
        jobs = self._submit(specs)
        if jobs is not None and work:
            self._drive([j.id for j in jobs])

    def _provision_alone(self, spec: ChannelSpec) -> None:
        store, before = self._read()
        record = store.channels.get(spec.key)
        recorded = (record.configuration_id, record.deployment_id) if record else (None, None)
        writes = self.world.writes()
        document = self._run(self.service.provision([spec]), "provision")
        (channel,) = document["channels"]
        sent = subtract(self.world.writes(), writes)
        need = needs(before, spec.name)
        over = [k for k in need if before.count(k) + 1 > before.limits[k]]
        self._reached(f"provision alone: {channel['outcome']}")
        if channel["outcome"] == "refused":
            assert over, f"{spec.name}: refused though the org has room for {need}: {channel['error']}"
            assert channel["error"]["error"] == "LimitExceeded", channel["error"]
            return
        assert not over, f"{spec.name}: admitted though {over} would exceed {before.limits}: {channel}"
        self.jobs.append(channel["jobId"])
        job = self.world.store.get_job(channel["jobId"])
        if self.faults:
            return  # a fault may fail it; the invariants still hold
        assert job.status == "succeeded", (
            f"{spec.name}: no fault armed, yet job {job.id} {job.status}: {job.error}"
        )
        _, after = self._read()
        problems = invariants.outcome(job, before, recorded, after, sent)
        assert not problems, "\n".join(problems)

    @rule(channel=channel_names, work=st.booleans())
    @model_step
    def destroy(self, channel: str, work: bool) -> None:
        """`gcwm destroy` of a channel (refused for one the store does not hold, or holds removed)."""
        quiet = not self._busy()
        record = self.world.store.get_channel(self.org_id, channel_key(channel))
        try:
            jobs: list[Job] = self._run(self.service.destroy([channel]), "destroy")
        except ChannelNotFound:
            self._reached("destroy: no such channel")
            if quiet:
                assert record is None or record.status == "removed", (
                    f"destroy {channel}: not found, yet {record}"
                )
            return
        if quiet:
            assert record is not None and record.status != "removed", (
                f"destroy {channel}: queued for {record}"
            )
        self.jobs += [j.id for j in jobs if j.id not in self.jobs]
        if not work:
            return
        self._drive([j.id for j in jobs])
        if quiet and not self.faults:
            (job,) = [self.world.store.get_job(j.id) for j in jobs]
            assert job.status == "succeeded", f"destroy {channel}: job {job.id} {job.status}: {job.error}"
            left = [o for o in read_org(self.world).objects if o.channel == channel_key(channel)]
            assert not [o for o in left if o.kind != "profile"], f"destroy {channel} left {left}"

    @rule(pick=picks)
    @model_step
    def cancel(self, pick: int) -> None:
        """`gcwm jobs cancel` of one of the jobs queued so far, in whatever state it is."""
        if not self.jobs:
            return
        job_id = self.jobs[pick % len(self.jobs)]
        was = self._status(job_id)
        quiet = not (self.background or self.world.processes)
        try:
            job: Job = self._run(self.service.cancel(job_id, role=Role.admin), "cancel")
        except JobError:
            assert self._status(job_id) in ("succeeded", "failed"), f"cancel {job_id} ({was}) refused"
            self._reached("cancel: refused (finished)")
            return
        self._reached(f"cancel of a {was} job: {job.status}")
        assert job.status in ("cancelled", "running"), f"cancel {job_id} ({was}) left it {job.status}"
        if quiet and was == "queued":
            assert job.status == "cancelled", f"cancel of queued job {job_id} left it {job.status}"

    @rule(pick=picks, work=st.booleans())
    @model_step
    def resume(self, pick: int, work: bool) -> None:
        """`gcwm jobs resume ID` of a failed or cancelled job: refused if a newer job of its channel
        superseded it, else queued again (and worked, if `work`)."""
        if not self.jobs:
            return
        job = self.world.store.get_job(self.jobs[pick % len(self.jobs)])
        if job.status not in ("failed", "cancelled"):
            return
        newer = [
            j
            for j in read_store(self.world).jobs_of(job.channel_name)
            if (j.created_at, j.id) > (job.created_at, job.id)
        ]
        try:
            self._run(self.service.requeue(job.id, role=Role.admin), "resume")
        except JobError as refused:
            assert newer, f"resume {job.id} refused, though no newer job of {job.channel_name}: {refused}"
            self._reached("resume: refused (superseded)")
            return
        self._reached(f"resume of a {job.status} job")
        assert not newer, f"resumed {job.id}, though newer jobs of its channel exist: {[j.id for j in newer]}"
        if work:
            self._drive([job.id])

    # -- quiescence -----------------------------------------------------------------------------------
    @rule()
    @model_step
    def settle(self) -> None:
        """A quiescent point: faults off, held answers released, frozen workers thawed, every job
        worked to its end; then the quiescent invariants."""
        self._settle()

    @invariant()
    @model_step
    def org_and_store_agree(self) -> None:
        """After every step: one configuration and one deployment per channel, slots held exactly by
        unfinished jobs, within the org's limits; no task of gcwm's died unseen."""
        assert not self.loop_errors, "\n".join(self.loop_errors)
        store, org = self._read()
        problems = invariants.always(org, store)
        assert not problems, "\n".join(problems) + self._evidence("\n".join(problems))

    def _evidence(self, problems: str) -> str:
        """What a broken invariant's jobs recorded, with times, and the tails of the worker processes'
        logs: a failure timing decides may not replay, so its report carries what tells how it came."""
        lines = []
        for job_id in sorted(set(re.findall(r"job ([0-9a-f-]{36})", problems))):
            for step in self.world.store.job_steps(job_id):
                lines.append(
                    f"  job {job_id[:8]} #{step.seq} {step.step} attempt {step.attempt} "
                    f"at {step.finished_at.isoformat()} {json.dumps(step.data)[:300]}"
                )
        for process in self.world.processes[-3:]:
            tail = process.log.read_text(errors="replace").splitlines()[-25:] if process.log.exists() else []
            lines.append(f"  worker {process.pid} ({process.log.name}):")
            lines += [f"    {line[:400]}" for line in tail]
        return "\nevidence:\n" + "\n".join(lines) if lines else ""


def machine_for(
    database: str, *, processes: bool = True, root: Path | None = None, skip: frozenset[str] = frozenset()
) -> type[ProvisioningMachine]:
    """The machine on one kind of database ("sqlite" or "postgresql"); see ProvisioningMachine's class
    attributes for the rest."""
    unknown = skip - KNOWN_OPEN.keys()
    if unknown:
        msg = f"no known open bug named {sorted(unknown)}; KNOWN_OPEN has {sorted(KNOWN_OPEN)}"
        raise ValueError(msg)
    return type(
        f"Provisioning{database.capitalize()}Machine",
        (ProvisioningMachine,),
        {"database": database, "processes": processes, "root": root, "skip": skip},
    )
