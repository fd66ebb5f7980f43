"""Status through listings: every job of a batch waits for Active, and looks up lost creates, through
the org's listings, shared.

Genesys lists up to 300 drafts or deployments with their status per call, so one read answers every
job waiting on that kind of object. A job asks for a listing "fresher than" the moment it needs; a
read that started after that moment is reused, and reads of one kind are spaced apart, the more the
more jobs wait on them: one channel is looked at often, a bulk run about every two seconds, since
every read takes the place of a write under the rate limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, Literal, TypeVar

from gcwm.errors import ProvisioningError
from gcwm.genesys import GenesysClient
from gcwm.genesys.models import WebDeployment, WebDeploymentConfigurationVersion
from gcwm.provisioning.polling import ActivationClock

T = TypeVar("T", WebDeployment, WebDeploymentConfigurationVersion)
Kind = Literal["configuration draft", "deployment"]


class _Feed(Generic[T]):
    """One listing, read at most once per `spacing()` and shared by everyone who needs it."""

    def __init__(self, fetch: Callable[[], Awaitable[list[T]]], spacing: Callable[[int], float]) -> None:
        self._fetch: Callable[[], Awaitable[list[T]]] = fetch
        self._spacing = spacing  # seconds between reads, given how many are waiting for one
        self._waiting = 0
        self._last: tuple[float, dict[str, T]] | None = None  # (started at, objects by id)
        self._running: tuple[float, asyncio.Future[dict[str, T]]] | None = None
        self._last_start = float("-inf")

    async def read(self, fresher_than: float) -> dict[str, T]:
        """The listing as read by a call that started at or after `fresher_than`."""
        self._waiting += 1
        try:
            return await self._read(fresher_than)
        finally:
            self._waiting -= 1

    async def _read(self, fresher_than: float) -> dict[str, T]:
        while True:
            if self._last is not None and self._last[0] >= fresher_than:
                return self._last[1]
            if self._running is not None:
                started, future = self._running
                result = await asyncio.shield(future)  # one waiter giving up must not cancel the read
                if started >= fresher_than:
                    return result
                continue
            now = time.monotonic()
            start_at = max(now, self._last_start + self._spacing(self._waiting))
            if start_at > now:
                await asyncio.sleep(start_at - now)
                continue
            self._start(now)

    def _start(self, now: float) -> None:
        self._last_start = now
        self._running = (now, asyncio.ensure_future(self._read_all(now)))

    async def _read_all(self, started: float) -> dict[str, T]:
        # The read's own task settles the feed's state before anyone sees its result, so a waiter
        # looping back never finds a finished read still marked as running.
        try:
            result = {o.id: o for o in await self._fetch() if o.id}
            self._last = (started, result)
            return result
        finally:
            self._running = None


class OrgListings:
    """The org's configuration drafts and deployments, read on demand."""

    def __init__(self, client: GenesysClient, *, spacing: Callable[[int], float]) -> None:
        self.drafts = _Feed(client.list_configurations, spacing)
        self.deployments = _Feed(client.list_deployments, spacing)


class ActivationWatcher:
    """Waits until objects turn Active, looking where activation usually ends (learned per batch)."""

    def __init__(self, listings: OrgListings, *, poll_initial_s: float, poll_max_s: float) -> None:
        self._listings = listings
        self._poll_initial_s = poll_initial_s
        self._poll_max_s = poll_max_s
        self._clock = ActivationClock()

    async def draft_active(
        self, configuration_id: str, timeout_s: float
    ) -> WebDeploymentConfigurationVersion:
        """The configuration's draft once it is Active (only an Active draft can be published)."""
        return await self._until_active(
            "configuration draft", self._listings.drafts, configuration_id, timeout_s
        )

    async def deployment_active(self, deployment_id: str, timeout_s: float) -> WebDeployment:
        return await self._until_active("deployment", self._listings.deployments, deployment_id, timeout_s)

    async def _until_active(self, kind: Kind, feed: _Feed[T], object_id: str, timeout_s: float) -> T:
        started = time.monotonic()
        deadline = started + timeout_s
        # Right after a write the answer is Pending: the first look goes where activation usually ends.
        look_at = started + self._clock.first_delay(kind, self._poll_initial_s)
        delay = self._poll_initial_s
        while True:
            await asyncio.sleep(max(0.0, look_at - time.monotonic()))
            found = (await feed.read(fresher_than=look_at)).get(object_id)
            if found is not None and found.is_active:
                self._clock.observe(kind, time.monotonic() - started)
                return found
            if found is not None and found.is_broken:
                msg = f"{kind} {object_id} went to status Error in Genesys Cloud"
                raise ProvisioningError(msg, step=kind)
            # Not listed yet is read-after-write lag: Terraform waits through a 404 here too.
            status = found.status if found is not None else "not listed yet"
            now = time.monotonic()
            if now + delay > deadline:
                msg = f"{kind} {object_id} was still {status} after {timeout_s:.0f} s"
                raise ProvisioningError(msg, step=kind)
            look_at = now + delay
            delay = min(self._poll_max_s, delay * 1.25)
