"""One batch of work against one org: the snapshot jobs plan from, and the tools they share.

Caches live as long as a batch, never a process. A job plans from the batch's snapshot unless a job
of the same channel ended after that snapshot was taken: then what that job made may be missing
from it, so the org is observed again first. The batch a service keeps for its workers has a
`max_age_s`: a snapshot that old is dropped, with the specs it covered, and the org observed afresh.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime

import structlog

from gcwm.genesys import GenesysClient
from gcwm.provisioning.listings import ActivationWatcher, OrgListings
from gcwm.provisioning.observe import Observer, OrgSnapshot
from gcwm.provisioning.plan import ChannelChange, plan_channel
from gcwm.provisioning.tools import BatchTools, Timeouts
from gcwm.spec import ChannelSpec
from gcwm.store import Job, Store

log = structlog.get_logger(__name__)


class Batch:
    """Observes the org when needed and plans each job's channel; shares listings between jobs."""

    def __init__(
        self,
        client: GenesysClient,
        store: Store,
        org_id: str,
        timeouts: Timeouts,
        *,
        snapshot: OrgSnapshot | None = None,
        max_age_s: float | None = None,
    ) -> None:
        self._store = store
        self._max_age_s = max_age_s
        self._observed = time.monotonic()
        self._org_id = org_id
        self._observer = Observer(
            client,
            org_id,
            now=store.database_now,
            records=lambda keys: store.read(store.channels_of, org_id, keys),
            sessions=lambda: store.sessions_recorded(org_id),
        )

        def spacing(waiting: int) -> float:
            # One read answers every waiter: the more there are, the fewer reads they need.
            return min(timeouts.busy_poll_s, timeouts.poll_initial_s * max(1, waiting))

        listings = OrgListings(client, spacing=spacing)
        watcher = ActivationWatcher(
            listings, poll_initial_s=timeouts.poll_initial_s, poll_max_s=timeouts.poll_max_s
        )
        self.tools = BatchTools(client, listings, watcher, timeouts)
        self._snapshot = snapshot
        self._specs: dict[str, ChannelSpec] = {}
        self._lock = asyncio.Lock()
        self._refresh: asyncio.Task[None] | None = None
        self.observations = 0 if snapshot is None else 1

    async def observe(self, specs: Iterable[ChannelSpec]) -> OrgSnapshot:
        """Read the org now for these specs; later jobs of the batch plan from this snapshot."""
        async with self._lock:
            return await self._observe(list(specs))

    async def recent(self, specs: Iterable[ChannelSpec]) -> OrgSnapshot:
        """The batch's snapshot (new specs' queues and flows resolved into it, their records read) while
        it is younger than `max_age_s` or a fresher one is being read, else the org read now. What a service's
        submissions admit against: limits stay exact whatever its age, since slots made after it count
        as held (SlotRepository.counted); a submission never waits behind a read the workers started."""
        wanted = list(specs)
        snapshot = self._snapshot
        if snapshot is None:
            async with self._lock:
                snapshot = self._snapshot or await self._observe(wanted)
        stale = self._max_age_s is not None and time.monotonic() - self._observed > self._max_age_s
        if stale and not self._lock.locked() and self._refresh is None:
            # Read the org again behind the submission's back, not in its way (Genesys is paced).
            self._refresh = asyncio.create_task(self._reobserve())
        if all(snapshot.serves(s) for s in wanted):
            return snapshot
        extended = await self._observer.extend(snapshot, wanted)
        if self._snapshot is snapshot:  # unless a newer read replaced it meanwhile
            self._snapshot = extended
            # A new read resolves these specs' queues and flows again; records are read on demand.
            self._specs.update({s.key: s for s in wanted if not snapshot.covers(s)})
        return extended

    async def aclose(self) -> None:
        """Stop a background read still running (before the client and the store it uses close)."""
        refresh = self._refresh
        if refresh is not None:
            refresh.cancel()
            await asyncio.gather(refresh, return_exceptions=True)

    async def _reobserve(self) -> None:
        try:
            async with self._lock:
                if self._max_age_s is None or time.monotonic() - self._observed > self._max_age_s:
                    await self._observe(list(self._specs.values()))
        except Exception as exc:  # the next submission or plan reads again; nothing is lost
            log.warning("batch.refresh_failed", error=str(exc))
        finally:
            self._refresh = None

    async def plan(
        self, job: Job, spec: ChannelSpec, *, not_before: datetime | None = None
    ) -> tuple[ChannelChange, OrgSnapshot]:
        """The job's change, from a snapshot that cannot have missed an earlier job of its channel (and
        that snapshot, which the job's slots are admitted against)."""
        async with self._lock:
            snapshot = self._snapshot
            aged = self._max_age_s is not None and time.monotonic() - self._observed > self._max_age_s
            if aged:
                # Read again for this job; the aged snapshot stays in place until then, for the
                # submissions that admit against it (they must not wait behind this read).
                self._specs.clear()
            stale = (
                snapshot is None
                or aged
                or (not_before is not None and snapshot.observed_at < not_before)
                or await asyncio.to_thread(
                    self._store.finished_since,
                    job.org_id,
                    job.channel_key,
                    snapshot.observed_at,
                    other_than=job.id,
                )
            )
            if snapshot is None or stale:
                if snapshot is not None and not aged:
                    log.info(
                        "batch.observed_again", channel=spec.name, reason="a job of the channel ended since"
                    )
                snapshot = await self._observe([spec])
            elif not snapshot.serves(spec):
                if not snapshot.covers(spec):
                    self._specs[spec.key] = spec
                snapshot = self._snapshot = await self._observer.extend(snapshot, [spec])
        return plan_channel(spec, snapshot), snapshot

    async def _observe(self, specs: list[ChannelSpec]) -> OrgSnapshot:
        self._specs.update({s.key: s for s in specs})
        self._snapshot = await self._observer.observe(self._specs.values())
        self._observed = time.monotonic()
        self.observations += 1
        return self._snapshot
