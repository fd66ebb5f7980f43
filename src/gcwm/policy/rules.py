"""The local policy: an organisation's own rules, stricter than Genesys's (GCWM_POLICY_FILE, YAML).

```yaml
limits:
  channelsPerOrg: 50                     # web deployments in the org, at most
  maxConcurrentSessionsPerChannel: 200   # each channel's maxConcurrentSessions, at most
  maxConcurrentSessionsPerOrg: 2000      # summed over the org's channels gcwm knows, at most
allowedRegions: [mypurecloud.ie]         # region hosts (or AWS-style names) gcwm may provision into
requiredCspMode: narrow                  # every channel's security.cspMode must be this
blockingSeverities: [high, syntax]       # findings of these severities refuse provisioning
allowIpDomains: false                    # IP literals in allowedDomains
allowPrivateItsmTargets: false           # (ITSM callbacks, later) private addresses as targets
```
Every key is optional; a missing file means these defaults. Parsing the text is pure; reading the
file is the caller's business.
"""

from __future__ import annotations

from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from gcwm.errors import PolicyFileError

Severity = Literal["high", "syntax", "medium", "low", "info"]
_DEFAULT_BLOCKING: list[Severity] = ["high", "syntax"]


class _Rules(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class PolicyLimits(_Rules):
    channels_per_org: int | None = Field(default=None, ge=0)
    max_concurrent_sessions_per_channel: int | None = Field(default=None, ge=1)
    max_concurrent_sessions_per_org: int | None = Field(default=None, ge=1)


class LocalPolicy(_Rules):
    """What the local policy file says (all optional)."""

    limits: PolicyLimits = Field(default_factory=PolicyLimits)
    allowed_regions: list[str] | None = None
    required_csp_mode: Literal["narrow", "template"] | None = None
    blocking_severities: list[Severity] = Field(default_factory=lambda: _DEFAULT_BLOCKING.copy())
    allow_ip_domains: bool = False
    allow_private_itsm_targets: bool = False


def parse_policy_file(text: str, *, source: str) -> LocalPolicy:
    """The policy in `text` (YAML); a PolicyFileError names `source`, the key and the problem."""
    try:
        data: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        msg = f"{source}: not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise PolicyFileError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{source}: expected a mapping of policy keys (limits, allowedRegions, ...)"
        raise PolicyFileError(msg)
    try:
        return LocalPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(str(p) for p in e["loc"])
            + ": "
            + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"])
            for e in exc.errors()
        )
        msg = f"{source}: {problems}"
        raise PolicyFileError(msg) from exc
