"""Roles of API keys, ordered: a viewer reads; an operator also submits, cancels, resumes, retries;
an admin also deletes channels and manages keys."""

from __future__ import annotations

from dataclasses import dataclass

from gcwm.provisioning.roles import Role  # one ladder: the service decides who may act on a job


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id (the actor on jobs, logs and audit entries), name and role."""

    key_id: str
    name: str
    role: Role
