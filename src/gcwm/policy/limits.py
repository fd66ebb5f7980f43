"""Licence and capacity: would a plan go past the org's limits or the local policy's ceilings?

Inputs are numbers the caller gathered: the org's `web.deployments` limits (`deployments.max`,
`configuration.max`, from Genesys's limits API), what the org holds (from its listings, plus slots
that queued jobs hold and the listings cannot show yet), and what the plan adds. Each limit is named
as `namespace.key` (Genesys's) or `policy.limits.<key>` (the policy file's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gcwm.errors import Finding, LimitExceeded
from gcwm.policy.rules import LocalPolicy

DEPLOYMENTS_MAX = "web.deployments.deployments.max"
CONFIGURATIONS_MAX = "web.deployments.configuration.max"
CHANNELS_PER_ORG = "policy.limits.channelsPerOrg"
SESSIONS_PER_CHANNEL = "policy.limits.maxConcurrentSessionsPerChannel"
SESSIONS_PER_ORG = "policy.limits.maxConcurrentSessionsPerOrg"


@dataclass(frozen=True)
class Counts:
    """Web messaging objects: in the org, or to be added by a plan."""

    deployments: int = 0
    configurations: int = 0


@dataclass(frozen=True)
class LimitUse:
    """One limit: its value, what is in use, and what there would be after the plan."""

    key: str
    value: int
    in_use: int
    after: int
    channel: str = ""  # for a per-channel limit

    @property
    def exceeded(self) -> bool:
        # Only what the plan adds can pass a limit: an org already over it may still be updated.
        return self.after > self.value and self.after > self.in_use

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "key": self.key,
            "value": self.value,
            "inUse": self.in_use,
            "after": self.after,
        }
        if self.channel:
            out["channel"] = self.channel
        return out


def limit_uses(
    *,
    org_limits: Mapping[str, int],
    in_use: Counts,
    adding: Counts,
    policy: LocalPolicy,
    sessions: Mapping[str, int],
    sessions_elsewhere: int,
) -> list[LimitUse]:
    """Every limit that applies, with its use before and after the plan.

    `sessions` is maxConcurrentSessions per channel of the plan; `sessions_elsewhere` the sum over
    the org's other channels gcwm knows."""
    uses = [
        LimitUse(key, org_limits[key], held, held + added)
        for key, held, added in (
            (DEPLOYMENTS_MAX, in_use.deployments, adding.deployments),
            (CONFIGURATIONS_MAX, in_use.configurations, adding.configurations),
        )
        if key in org_limits
    ]
    ceilings = policy.limits
    if ceilings.channels_per_org is not None:
        uses.append(
            LimitUse(
                CHANNELS_PER_ORG,
                ceilings.channels_per_org,
                in_use.deployments,
                in_use.deployments + adding.deployments,
            )
        )
    if ceilings.max_concurrent_sessions_per_channel is not None:
        per = ceilings.max_concurrent_sessions_per_channel
        uses += [LimitUse(SESSIONS_PER_CHANNEL, per, 0, n, channel) for channel, n in sessions.items()]
    if ceilings.max_concurrent_sessions_per_org is not None:
        total = sessions_elsewhere + sum(sessions.values())
        uses.append(
            LimitUse(SESSIONS_PER_ORG, ceilings.max_concurrent_sessions_per_org, sessions_elsewhere, total)
        )
    return uses


def refuse_if_exceeded(uses: list[LimitUse], *, source: str = "", channels: int = 0) -> None:
    """Raise LimitExceeded naming every limit the plan would pass, and how many channels would fit."""
    over = [u for u in uses if u.exceeded]
    if not over:
        return
    findings = [
        Finding(
            "limit_exceeded",
            "high",
            u.key,
            _describe(u),
            source=source,
            channel=u.channel,
        )
        for u in over
    ]
    fit = fits(uses)
    message = "refused before any write: " + "; ".join(f.description for f in findings)
    if channels > 1 and fit is not None:
        message += f". Of the {channels} channels, {fit} would fit; nothing was written"
    raise LimitExceeded(findings, message)


def fits(uses: list[LimitUse]) -> int | None:
    """How many new channels the org-wide limits leave room for (None if none of them applies)."""
    room = [
        u.value - u.in_use for u in uses if u.key in (DEPLOYMENTS_MAX, CONFIGURATIONS_MAX, CHANNELS_PER_ORG)
    ]
    return max(0, min(room)) if room else None


def _describe(use: LimitUse) -> str:
    if use.key == SESSIONS_PER_CHANNEL:
        return f"{use.key} is {use.value}; channel {use.channel!r} asks for maxConcurrentSessions {use.after}"
    asked = use.after - use.in_use
    return (
        f"{use.key} is {use.value}, {use.in_use} in use; the plan asks for {asked} more ({use.after} in all)"
    )
