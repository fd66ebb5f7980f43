"""A job's progress as the dashboard says it: visible steps done of those its plan will take."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gcwm.provisioning import steps
from gcwm.provisioning.plan import Action, ChannelChange, ObjectChange
from gcwm.provisioning.progress import Progress, job_progress
from gcwm.store import Job, JobStep

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _job(kind: str = "provision") -> Job:
    return Job(
        id="job-1",
        batch_id="batch-1",
        org_id="org-1",
        channel_name="web",
        channel_key="web",
        kind=kind,
        status="running",
        spec={},
        actor="someone",
        correlation_id="c",
        attempts=1,
        lease_owner=None,
        lease_expires_at=None,
        error=None,
        result=None,
        created_at=NOW,
        updated_at=NOW,
        started_at=NOW,
        finished_at=None,
        cancel_requested=False,
    )


def _step(name: str, seq: int, data: dict[str, Any] | None = None) -> JobStep:
    return JobStep("job-1", name, seq, data or {}, 1.0, 1, NOW)


def _planned(configuration: ObjectChange, deployment: ObjectChange, profile: Action = Action.NOOP) -> JobStep:
    change = ChannelChange(
        channel="web",
        action=Action.UPDATE,
        configuration=configuration,
        deployment=deployment,
        supported_content=ObjectChange(action=profile),
        published_version="1",
    )
    return _step(steps.PLANNED, 1, change.document())


NEW = ObjectChange(action=Action.CREATE)
SAME = ObjectChange(action=Action.NOOP, id="x")


@pytest.mark.parametrize(
    ("planned", "total"),
    [
        (_planned(NEW, NEW, Action.CREATE), 6),  # + configuration created, published, profile, deployment
        (_planned(NEW, NEW), 5),  # no attachments: no profile step
        (_planned(SAME, SAME), 2),  # unchanged: planned, deployment_active
        (_planned(ObjectChange(action=Action.UPDATE, id="x"), SAME), 5),  # draft, publish, deployment moved
        (_planned(ObjectChange(action=Action.UPDATE, id="x", send_draft=False, publish=False), SAME), 2),
        (_planned(SAME, ObjectChange(action=Action.UPDATE, id="d")), 3),
    ],
)
def test_a_planned_jobs_total_counts_the_visible_steps_its_plan_takes(planned: JobStep, total: int) -> None:
    """Intent markers are not counted; the total follows what the plan will write."""
    taken = [planned, _step(steps.CONFIGURATION_CREATE_SENT, 2)]
    assert job_progress(_job(), taken) == Progress(1, total, steps.CONFIGURATION_CREATE_SENT)


def test_before_its_plan_a_provision_has_no_total_and_a_destroy_always_four() -> None:
    """A queued provision says it is planning; a destroy takes its four visible steps."""
    assert job_progress(_job(), []).describe() == "0 steps, planning"
    destroy = job_progress(_job("destroy"), [_step(steps.DESTROY_PLANNED, 1)])
    assert destroy.describe() == "1 of 4 steps"
