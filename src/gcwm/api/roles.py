"""Roles of API keys, ordered: a viewer reads; an operator also submits, cancels, resumes, retries;
an admin also deletes channels and manages keys."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id (the actor on jobs, logs and audit entries), name and role."""

    key_id: str
    name: str
    role: Role
