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
allowPrivateItsmTargets: false           # ITSM targets on loopback, private or link-local addresses
itsmSecretEnv: []                        # variables besides GCWM_ITSM_* a spec's secretEnv may name
```
Every key is optional; a missing file means these defaults. Parsing the text is pure; reading the
file is the caller's business.

The policy file is the administrator's, the spec the submitter's: a spec's `itsm.secretEnv` names
the variable whose value gcwm sends to the spec's target, so it may name only what the administrator
meant for that: `GCWM_ITSM_*` variables, and those `itsmSecretEnv` lists. gcwm's and Genesys's own
variables (`GCWM_*`, `GENESYSCLOUD_*`) are never ITSM secrets, and cannot be listed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from gcwm.errors import PolicyFileError

Severity = Literal["high", "syntax", "medium", "low", "info"]
_DEFAULT_BLOCKING: list[Severity] = ["high", "syntax"]

#: A spec's secretEnv may always name a variable with this prefix.
ITSM_SECRET_PREFIX = "GCWM_ITSM_"
#: gcwm's own settings and Genesys's credentials: never an ITSM secret, listed or not.
_RESERVED_PREFIXES = ("GCWM_", "GENESYSCLOUD_")
_VARIABLE = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def itsm_secret_refusal(name: str, listed: Collection[str]) -> str | None:
    """Why a spec's `itsm.secretEnv` may not name `name` (None if it may); `listed` is the policy
    file's itsmSecretEnv."""
    if name.startswith(ITSM_SECRET_PREFIX) and len(name) > len(ITSM_SECRET_PREFIX):
        return None
    if not name.startswith(_RESERVED_PREFIXES) and name in listed:
        return None
    said = f"{name} may not hold an ITSM secret: name a {ITSM_SECRET_PREFIX}* variable"
    if name.startswith(_RESERVED_PREFIXES):
        return said + " (GCWM_* and GENESYSCLOUD_* variables are gcwm's and Genesys's own settings)"
    return said + ", or one the policy file (GCWM_POLICY_FILE) lists under itsmSecretEnv"


def _listable(name: str) -> str:
    if not _VARIABLE.match(name):
        msg = f"{name!r} is not a variable name (A-Z, 0-9, _)"
        raise ValueError(msg)
    if name.startswith(_RESERVED_PREFIXES):
        msg = (
            f"{name} is one of gcwm's or Genesys's own variables (GCWM_*, GENESYSCLOUD_*), never an ITSM"
            f" secret; {ITSM_SECRET_PREFIX}* variables need no listing"
        )
        raise ValueError(msg)
    return name


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
    itsm_secret_env: list[Annotated[str, AfterValidator(_listable)]] = Field(default_factory=list)


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
            + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        )
        msg = f"{source}: {problems}"
        raise PolicyFileError(msg) from exc
