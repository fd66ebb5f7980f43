"""What an emulator run looks like: timings, limits, faults and where the org's state is kept."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

from gcwm.emulator.state import OrgLimits

FaultKind = Literal[
    "http500",
    "http502",
    "http503",
    "http504",
    "http429",
    "commit_then_fail",
    "commit_then_reset",
    "commit_then_delay",
    "malformed_answer",
    "latency",
    "http400",
    "http404",
    "http409",
]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))


@dataclass
class EmulatorConfig:
    """Settings of one emulated Genesys Cloud organisation; every field has a local default."""

    # Documented local defaults, so `gcwm` works against the emulator with no setup.
    client_id: str = "gcwm-local"
    client_secret: str = "gcwm-local-secret"
    # Genesys's default token lifetime is 24 h (shared/genesys/README.md, "OAuth client credentials").
    token_ttl_s: int = 86400
    # `client.credentials.token.rate.per.minute` = 300 (README, "Errors and rate limits").
    rate_limit_per_min: int = 300
    rate_window_s: float = 60.0
    config_activation_delay_s: float = 0.3
    deployment_activation_delay_s: float = 1.0
    deletion_delay_s: float = 0.2
    read_after_write_404_s: float = 0.0
    deployments_max: int = 1000
    configurations_max: int = 1000
    latency_ms: float = 0.0
    fault_5xx_rate: float = 0.0
    fault_429_rate: float = 0.0
    commit_then_fail_rate: float = 0.0
    # How long the "stall" variant of a random commit-then-fail waits before its 504 (emulator's own knob).
    stall_s: float = 2.0
    seed: int | None = None
    state_file: Path | None = None
    org_name: str = "gcwm-emulated-org"
    region_host: str = "mypurecloud.com"
    # Snippets load the emulator's stand-in Messenger from its own origin (as each request saw it)
    # instead of https://apps.{region_host}, so a browser can run them against the emulator.
    self_hosted_messenger: bool = False
    rules: list[FaultRule] = field(default_factory=list)  # targeted faults active from the start
    # Behave as Genesys does for the fields the Terraform provider marks Computed: fill what a
    # configuration write leaves out and normalise what it keeps (defaults.py names every value).
    server_defaults: bool = False
    # The first N publishes of each configuration and the first N deployment creates naming each
    # published version answer a transient 400, as right after a dependency was made (README).
    dependency_400s: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.state_file, str):  # a CLI or settings value given as text
            self.state_file = Path(self.state_file)
        for name in ("fault_5xx_rate", "fault_429_rate", "commit_then_fail_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                msg = f"{name} must be between 0 and 1, got {rate}"
                raise ValueError(msg)
        if self.deployments_max < 0 or self.configurations_max < 0:
            msg = "limits must be 0 or more"
            raise ValueError(msg)
        if self.dependency_400s < 0:
            msg = f"dependency_400s must be 0 or more, got {self.dependency_400s}"
            raise ValueError(msg)
        if self.rate_limit_per_min < 1 or self.rate_window_s <= 0:
            msg = "rate_limit_per_min must be at least 1 and rate_window_s above 0"
            raise ValueError(msg)

    def with_limits(self, values: dict[str, int]) -> EmulatorConfig:
        """This config with some org limits set, by full name (`web.deployments.deployments.max`)."""
        limits = OrgLimits(self.deployments_max, self.configurations_max).with_keys(values)
        return replace(
            self, deployments_max=limits.deployments_max, configurations_max=limits.configurations_max
        )


@dataclass
class FaultRule:
    """A targeted fault: the next `count` requests matching method and path get `fault`."""

    method: str
    path: str  # a regex, matched in full against the request path
    fault: FaultKind
    count: int = 1
    retry_after_s: int = 1
    latency_ms: float = 0  # the wait of `latency` (before the handler) and `commit_then_delay` (after)

    def __post_init__(self) -> None:
        if self.fault not in FAULT_KINDS:
            msg = f"fault {self.fault!r} is not one of {', '.join(sorted(FAULT_KINDS))}"
            raise ValueError(msg)
        if self.count < 1:
            msg = f"count must be at least 1, got {self.count}"
            raise ValueError(msg)
        try:
            re.compile(self.path)
        except re.error as exc:
            msg = f"path {self.path!r} is not a regular expression: {exc}"
            raise ValueError(msg) from exc

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is hit by this rule (`*` as method matches any method)."""
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return re.fullmatch(self.path, path) is not None
