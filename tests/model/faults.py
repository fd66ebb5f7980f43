"""The machine's steps that make Genesys misbehave or change behind gcwm's back: a create's or delete's
request held in flight or its answer lost, 429/5xx/400/409 bursts, random faults, objects edited or
deleted in the org, the org's limits raised."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from gcwm.provisioning.mapping import read_marker
from gcwm.spec import channel_key, parse_spec
from tests.model.base import (
    BURST_TARGETS,
    CREATES,
    DELETES,
    HELD,
    HOLD_MS,
    LOST,
    TAMPERS,
    THEN,
    ModelBase,
    channel_names,
    model_step,
    operation_of,
    spec_text,
    subtract,
    variants,
)
from tests.model.observe import read_org
from tests.model.world import CONFIGS, DEPLOYMENTS


class FaultSteps(ModelBase):
    """Genesys's faults and people's edits, as steps."""

    # -- answers held back or lost --------------------------------------------------------------------
    @rule(
        channel=channel_names,
        variant=variants,
        write=st.sampled_from(sorted(CREATES)),
        fault=st.sampled_from(HELD + LOST),
        then=st.sampled_from(THEN),
    )
    @model_step
    def provision_with_an_answer_held_or_lost(
        self, channel: str, variant: int, write: str, fault: str, then: str
    ) -> None:
        """Provision while one create's request is held in flight (`commit_then_delay`: made, answer
        held; `latency`: not made yet) until `release_held` or quiescence, and meanwhile (`then`) a
        newer spec supersedes the job, it is cancelled, or the channel destroyed; or the create is made
        with its answer lost (a 500, a reset, an HTML page), which gcwm looks up before sending again."""
        if not self._alone():
            return
        method, path = CREATES[write]
        self.world.emulator.add_fault(method, path, fault, latency_ms=HOLD_MS.get(fault, 0.0))
        jobs = self._submit(parse_spec(spec_text(channel, variant)))
        if jobs is None:
            self.world.emulator.clear_rules()
            return
        (job,) = jobs
        if fault in HELD:
            if self._held(job, f"{write} create", fault):
                self._then(then, channel, variant, job.id)
            return
        writes = self.world.writes()
        self._drive([job.id])
        self._reached(f"{write} create answer lost ({fault})")
        self.world.emulator.clear_rules()
        if not self.faults:
            done = self.world.store.get_job(job.id)
            assert done.status == "succeeded", (
                f"{write} answer lost ({fault}): job {job.id} {done.status}: {done.error}"
            )
            sent = subtract(self.world.writes(), writes).get(f"{method} {operation_of(write)}", 0)
            assert sent <= 1, f"{write} create sent {sent} times after its answer was lost ({fault})"

    @rule(
        channel=channel_names,
        write=st.sampled_from(sorted(DELETES)),
        fault=st.sampled_from(HELD + LOST),
        then=st.sampled_from(THEN),
    )
    @model_step
    def destroy_with_an_answer_held_or_lost(self, channel: str, write: str, fault: str, then: str) -> None:
        """Destroy a channel (provisioned first if need be) while one DELETE is held in flight, and
        meanwhile (`then`) the channel is provisioned again, the destroy cancelled, or destroyed again;
        or with a DELETE carried out and its answer lost."""
        if not self._alone():
            return
        record = self.world.store.get_channel(self.org_id, channel_key(channel))
        if record is None or record.status == "removed":
            document = self._run(self.service.provision(parse_spec(spec_text(channel, 0))), "provision")
            self.jobs += [c["jobId"] for c in document["channels"] if c.get("jobId")]
            if document["channels"][0]["outcome"] in ("refused", "failed", "cancelled"):
                return
        method, path = DELETES[write]
        self.world.emulator.add_fault(method, path, fault, latency_ms=HOLD_MS.get(fault, 0.0))
        (job,) = self._run(self.service.destroy([channel]), "destroy")
        self.jobs.append(job.id)
        if fault in HELD:
            if self._held(job, write, fault):
                self._then(then, channel, 0, job.id)
            return
        self._drive([job.id])
        self._reached(f"{write} answer lost ({fault})")
        self.world.emulator.clear_rules()
        if not self.faults:
            done = self.world.store.get_job(job.id)
            assert done.status == "succeeded", (
                f"{write} answer lost ({fault}): destroy {job.id} {done.status}: {done.error}"
            )

    @rule(wait=st.booleans())
    @model_step
    def release_held(self, wait: bool) -> None:
        """Genesys answers at last: every held answer is sent and delayed request let through (and the
        jobs waiting on it are waited for, if `wait`)."""
        if self.hold is None:
            return
        self.world.emulator.release_held()
        self.world.emulator.clear_rules()
        self.hold = None
        if wait:
            self._wait_for(sorted(j for j in self.driven if not self.world.store.get_job(j).is_finished))

    # -- Genesys misbehaving, and people editing the org ----------------------------------------------
    @rule(
        request=st.sampled_from(sorted(BURST_TARGETS)),
        status=st.sampled_from(["http400", "http409", "http429", "http500", "http502", "http503", "http504"]),
        count=st.integers(1, 4),
    )
    @model_step
    def burst(self, request: str, status: str, count: int) -> None:
        """The next `count` requests to `request` are answered 429 (Retry-After 1), a 5xx, or a 400 or
        409 (a refusal: the job rolls back what it made)."""
        method, path = BURST_TARGETS[request]
        if method == "GET" and status in ("http400", "http409"):
            status = "http503"  # a refusal is a write's answer; the harness's own reads pass 5xx only
        self.world.emulator.add_fault(method, path, status, count=count, retry_after_s=1)
        self.faults = True

    @rule(on=st.booleans(), seed=st.integers(0, 2**16))
    @model_step
    def random_faults(self, on: bool, seed: int) -> None:
        """Random 5xx (10 %), 429 bursts (5 %) and commit-then-fail (5 %) on every API call, or none."""
        rate = 1.0 if on else 0.0
        self.world.emulator.set_faults(
            fault_5xx_rate=0.1 * rate,
            fault_429_rate=0.05 * rate,
            commit_then_fail_rate=0.05 * rate,
            stall_s=0.2,
            seed=seed,
        )
        self.faults = self.faults or on

    @rule(channel=channel_names, how=st.sampled_from(TAMPERS))
    @model_step
    def edit_behind_gcwms_back(self, channel: str, how: str) -> None:
        """Someone in the Genesys admin UI deletes the channel's deployment (or it and its
        configuration), edits its domains or draft, Genesys puts it in status Error, or text with
        another channel's marker is pasted into its description. Not while an in-process worker runs
        (its batch's snapshot of the org could predate the edit: see the README's "Observe")."""
        if self.hold is not None:
            return
        self._finish_background()
        org = read_org(self.world)
        deployments = [o for o in org.of(channel, "deployment")]
        configurations = [o for o in org.of(channel, "configuration")]
        api = self.world.api
        if how in ("delete deployment", "delete both") and deployments:
            for d in deployments:
                api("DELETE", f"{DEPLOYMENTS}/{d.id}", ok_missing=True)
            if how == "delete both":
                for d in deployments:
                    self.world.wait_gone(f"{DEPLOYMENTS}/{d.id}")
                for c in configurations:
                    api("DELETE", f"{CONFIGS}/{c.id}", ok_missing=True)
        elif how == "edit domains" and deployments:
            body = api("GET", f"{DEPLOYMENTS}/{deployments[0].id}")
            body["allowedDomains"] = [*body.get("allowedDomains", []), "edited.example.org"]
            api("PUT", f"{DEPLOYMENTS}/{deployments[0].id}", body)
        elif how == "edit draft" and configurations:
            path = f"{CONFIGS}/{configurations[0].id}/versions/draft"
            draft = api("GET", path)
            draft["languages"] = ["en-us", "de"]
            draft["defaultLanguage"] = "de"
            api("PUT", path, draft)
        elif how == "break deployment" and deployments:
            self.world.emulator.break_deployment(deployments[0].id)
        elif how == "copy marker" and deployments:
            other = [o for o in org.objects if o.kind == "deployment" and o.channel != channel_key(channel)]
            if not other:
                return
            body = api("GET", f"{DEPLOYMENTS}/{deployments[0].id}")
            body["description"] = f"{other[0].body.get('description')} {body.get('description') or ''}"
            api("PUT", f"{DEPLOYMENTS}/{deployments[0].id}", body)
            after = read_marker(api("GET", f"{DEPLOYMENTS}/{deployments[0].id}")["description"])
            assert after is not None and after.is_for(channel)
        else:
            return
        self._reached(f"edited behind gcwm's back: {how}")
        self.tampered_at[channel_key(channel)] = self.world.store.database_now()

    @rule(deployments=st.integers(1, 3), configurations=st.integers(1, 3))
    @model_step
    def raise_limits(self, deployments: int, configurations: int) -> None:
        """The org's limits go up (a licence bought). Never down: jobs admitted under the old limits, and
        the service's snapshot of the limits (up to 5 s old), would go over them without any fault of
        gcwm's."""
        now = self.world.limits()
        self.world.set_limits(
            deployments=max(deployments, now["deployment"]),
            configurations=max(configurations, now["configuration"]),
        )
