"""Who may do what to a job: roles of API keys, ordered, and the role each kind of job needs.

A viewer reads; an operator also submits, cancels, resumes and retries channel provisioning; an admin
also deletes channels (and manages keys). Resuming or cancelling a job needs the role that may submit
its kind: an operator cannot finish (or stop) an admin's delete. The CLI acts as an admin (whoever
runs it holds the database and the credentials)."""

from __future__ import annotations

from enum import StrEnum

from gcwm.errors import NotPermitted
from gcwm.store import Job

KIND_PROVISION = "provision"
KIND_DESTROY = "destroy"


class Role(StrEnum):
    viewer = "viewer"
    operator = "operator"
    admin = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what `needed` may."""
        return self.rank >= needed.rank


_RANKS = {Role.viewer: 0, Role.operator: 1, Role.admin: 2}
#: The role that may submit (and so resume or cancel) each kind of job.
KIND_ROLES = {KIND_PROVISION: Role.operator, KIND_DESTROY: Role.admin}


def require_role_for(job: Job, role: Role, action: str) -> None:
    """NotPermitted unless `role` may `action` (resume, cancel) this job's kind."""
    needed = KIND_ROLES.get(job.kind, Role.admin)
    if not role.allows(needed):
        msg = f"{action} job {job.id} ({job.kind} of channel {job.channel_name!r}) needs the {needed} role"
        raise NotPermitted(msg, required=needed.value)
