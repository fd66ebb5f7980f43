"""Everything one emulator app holds, built once per app and kept in `app.state` (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from gcwm.emulator.auth import TokenStore
from gcwm.emulator.config import EmulatorConfig
from gcwm.emulator.faults import FaultInjector, dependency_error
from gcwm.emulator.holds import HeldReleases
from gcwm.emulator.lifecycle import Timings
from gcwm.emulator.operations import OperationIndex
from gcwm.emulator.ratelimit import RateLimiter
from gcwm.emulator.schema import ApiSubset, load_subset
from gcwm.emulator.state import OrgLimits, OrgState
from gcwm.emulator.stats import Stats


@dataclass
class Runtime:
    """One emulated organisation and the machinery around it."""

    config: EmulatorConfig
    subset: ApiSubset
    state: OrgState
    tokens: TokenStore
    limiter: RateLimiter
    faults: FaultInjector
    stats: Stats
    operations: OperationIndex
    releases: HeldReleases

    @property
    def timings(self) -> Timings:
        return self.state.timings

    def refuse_if_too_soon(self, dependency: str, message: str, entity_id: str) -> None:
        """Answer the transient 400 of the `dependency_400s` knob when this write is one of the
        first ones naming `dependency`; nothing has been done yet when it is raised."""
        if self.faults.is_too_soon(dependency):
            self.stats.count_dependency_400()
            raise dependency_error(message, entity_id)


def build_runtime(config: EmulatorConfig) -> Runtime:
    subset = load_subset()
    timings = Timings(
        config_activation_s=config.config_activation_delay_s,
        deployment_activation_s=config.deployment_activation_delay_s,
        deletion_s=config.deletion_delay_s,
        read_after_write_404_s=config.read_after_write_404_s,
    )
    limits = OrgLimits(config.deployments_max, config.configurations_max)
    return Runtime(
        config=config,
        subset=subset,
        state=OrgState(timings, limits, config.state_file),
        tokens=TokenStore(config.token_ttl_s),
        limiter=RateLimiter(config.rate_limit_per_min, config.rate_window_s),
        faults=FaultInjector(config),
        stats=Stats(),
        operations=OperationIndex(subset),
        releases=HeldReleases(),
    )


def runtime_of(request: HTTPConnection) -> Runtime:
    """The runtime of the app serving `request` (an HTTP request or a WebSocket)."""
    runtime = request.app.state.emulator
    assert isinstance(runtime, Runtime)
    return runtime
