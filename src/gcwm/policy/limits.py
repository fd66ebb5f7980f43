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
    """Raise LimitExceeded naming every limit the plan would pass, each once with its numbers: an
    org-wide limit says how many of the channels it would create fit; a per-channel one names its
    channel. `channels` is how many channels the file holds (some may exist already)."""
    over = [u for u in uses if u.exceeded]
    if not over:
        return
    findings = [
        Finding("limit_exceeded", "high", u.key, _describe(u, channels), source=source, channel=u.channel)
        for u in over
    ]
    said = [f.description for f in findings if not f.channel]
    per_channel = [u for u in over if u.channel]
    if per_channel:
        ceiling = per_channel[0]
        n = len(per_channel)
        said.append(
            f"{n} channel{'' if n == 1 else 's'} ask{'s' if n == 1 else ''} for more maxConcurrentSessions "
            f"than {ceiling.key} ({ceiling.value}) allows"
        )
    raise LimitExceeded(findings, "refused before any write: " + "; ".join(said) + "; nothing was written")


def fits(uses: list[LimitUse]) -> int | None:
    """How many new channels the org-wide limits leave room for (None if none of them applies)."""
    room = [u.value - u.in_use for u in uses if u.key in _COUNTS]
    return max(0, min(room)) if room else None


_COUNTS = (DEPLOYMENTS_MAX, CONFIGURATIONS_MAX, CHANNELS_PER_ORG)


def _describe(use: LimitUse, channels: int = 0) -> str:
    if use.key == SESSIONS_PER_CHANNEL:
        # The finding names the channel and the limit already: the numbers are what is left to say.
        return f"maxConcurrentSessions is {use.after}; the policy allows at most {use.value} per channel"
    asked = use.after - use.in_use
    said = (
        f"{use.key} is {use.value}, {use.in_use} in use; the plan asks for {asked} more ({use.after} in all)"
    )
    if use.key in _COUNTS:
        # Said only of a limit on how many objects there are, which creates alone can pass.
        room = max(0, use.value - use.in_use)
        said += f": {room} of the {asked} new channel{'' if asked == 1 else 's'} would fit"
        if channels > asked:
            said += f" (the other {channels - asked} of the file's {channels} channels create none)"
    return said
