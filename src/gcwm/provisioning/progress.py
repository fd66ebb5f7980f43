"""How far a job has got: the steps a person sees as progress (`steps.VISIBLE_STEPS`) done, out of
those its plan will take, so a page can say "3 of 6 steps" rather than "3 steps done".

The total follows the order `apply.ChannelApply.run` and `destroy.ChannelDestroy.run` take steps in;
a provision job's is known once its `planned` step is checkpointed (before that, None).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from gcwm.provisioning import steps
from gcwm.provisioning.plan import Action, ChannelChange
from gcwm.provisioning.roles import KIND_DESTROY
from gcwm.store import Job, JobStep

__all__ = ["Progress", "job_progress"]

# destroy_planned, deployment_gone, configuration_gone, supported_content_deleted: always all four.
_DESTROY_STEPS = 4


@dataclass(frozen=True)
class Progress:
    """Visible steps done, of how many (None until the job is planned), and the newest step taken."""

    done: int
    total: int | None
    latest: str

    def describe(self) -> str:
        """`3 of 6 steps`, or `1 step, planning` before the total is known."""
        if self.total is None:
            return f"{self.done} step{'' if self.done == 1 else 's'}, planning"
        return f"{self.done} of {self.total} steps"


def job_progress(job: Job, taken: Sequence[JobStep]) -> Progress:
    """How far `job` has got, from the steps it checkpointed (in order)."""
    done = sum(1 for s in taken if s.step in steps.VISIBLE_STEPS)
    latest = taken[-1].step if taken else ""
    total = _DESTROY_STEPS if job.kind == KIND_DESTROY else _provision_total(taken)
    # A plan read by an older gcwm may count differently: never show more done than the total.
    return Progress(done, None if total is None else max(total, done), latest)


def _provision_total(taken: Sequence[JobStep]) -> int | None:
    planned = next((s for s in taken if s.step == steps.PLANNED), None)
    if planned is None:
        return None
    try:
        change = ChannelChange.model_validate(planned.data)
    except ValidationError:
        return None
    return _planned_steps(change)


def _planned_steps(change: ChannelChange) -> int:
    total = 2  # planned, deployment_active
    config = change.configuration
    if config.action is Action.CREATE or (config.action is Action.UPDATE and config.send_draft):
        total += 1  # configuration_created / _updated
    republished = not (
        config.action is Action.NOOP or (config.action is Action.UPDATE and not config.publish)
    )
    total += republished  # configuration_published
    total += change.supported_content.action in (Action.CREATE, Action.UPDATE)  # supported_content_ready
    deployment = change.deployment.action
    if deployment in (Action.CREATE, Action.REPLACE, Action.UPDATE) or republished:
        total += 1  # deployment_created / _updated
    return total
