"""How one job writes to Genesys without ever doubling an object or hiding a retry.

- `create_once`: a create whose answer was lost (this run or a crashed one) is never sent again
  blind: the org is searched for what it made first (its marker, or a profile's name), and what is
  found is adopted. A create sent by an earlier claim of the job (a worker paused past its lease
  may still have it in flight) is looked up again once that request must have ended (its intent's
  time plus the sender's timeout) before it is sent anew; and every send (the transport's re-sends
  too) is immediately preceded by a write fenced by the lease that stamps the intent, so a worker
  that lost its job sends nothing more, and a takeover's wait counts from the last send.
- `update`: a 409 (a concurrent edit; the Terraform provider retries these, PRs #1473 and #1786) reads
  the object again and sends the update again, a bounded number of times; one that persists fails
  the step naming the conflict.
- `counting_retries`: the 400s Genesys answered to a write naming an object made seconds before (the
  transport retries them, shared/genesys/README.md "Corrections") become one of the job's notes.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from gcwm.errors import GenesysConflict, GenesysError, ProvisioningError
from gcwm.genesys import guarded_sends, is_outcome_unknown
from gcwm.observability.calls import Call, recording_calls
from gcwm.provisioning import steps
from gcwm.provisioning.checkpoints import Checkpoints
from gcwm.provisioning.steps import CreateIntent
from gcwm.store import Job, Store

log = structlog.get_logger(__name__)
_O = TypeVar("_O")
_T = TypeVar("_T")


class Writes:
    """One job's writes: creates sent once, updates that outlast a conflict, retries in its notes."""

    def __init__(
        self,
        checkpoints: Checkpoints,
        notes: list[str],
        *,
        attempts: int,
        settle_s: float,
        backoff_initial_s: float,
        backoff_max_s: float,
        marker: str,
        in_flight_s: float,
    ) -> None:
        self._cp = checkpoints
        self._notes = notes
        self._attempts = attempts
        self._settle_s = settle_s
        self._initial_s = backoff_initial_s
        self._max_s = backoff_max_s
        self._marker = marker
        self._in_flight_s = in_flight_s
        self.log = log

    async def create_once(
        self,
        intent_step: str,
        *,
        what: str,
        create: Callable[[], Awaitable[_O]],
        lookup: Callable[[float], Awaitable[_O | None]],
    ) -> tuple[_O, bool]:
        """Create, unless an earlier attempt (this run or a crashed one) already did; (object, adopted)."""
        if self._cp.has(intent_step):
            # An earlier attempt sent this create and got no answer it could record.
            if (existing := await self.settled(lookup)) is not None:
                return existing, True
            if (existing := await self._after_earlier_send(intent_step, lookup)) is not None:
                return existing, True
        else:
            await self._cp.record(intent_step, self._intent(in_flight=True))

        async def fence() -> None:
            # Right before each send, after every wait: fenced by the lease (a worker that lost its
            # job raises here and sends nothing), and stamped, so a takeover waits from this send.
            await self._cp.restamp(intent_step, self._intent(in_flight=True))

        for attempt in range(1, self._attempts + 1):
            try:
                with guarded_sends(fence):
                    async with self.counting_retries(what):
                        return await create(), False
            except GenesysError as exc:
                # The request has ended (its answer is what failed): a takeover need not wait for it.
                await self._cp.restamp(intent_step, self._intent(in_flight=False))
                if not is_outcome_unknown(exc) or attempt == self._attempts:
                    raise
                self.log.warning("create.outcome_unknown", error=exc.message, attempt=attempt)
                if (existing := await self.settled(lookup)) is not None:
                    return existing, True
                await self.back_off(attempt)
        raise AssertionError("unreachable: the last attempt re-raises")

    async def update(
        self, what: str, send: Callable[[], Awaitable[_T]], read: Callable[[], Awaitable[object]]
    ) -> _T:
        """Send an update; on a 409 read the object again and send it again (whole bodies: the read
        changes nothing gcwm sends, it waits out the other edit and shows the object is still there)."""
        for attempt in range(1, self._attempts + 1):
            try:
                async with self.counting_retries(what):
                    return await send()
            except GenesysConflict as exc:
                if attempt == self._attempts:
                    msg = f"{what}: Genesys answered 409 {attempt} times (a concurrent edit): {exc.message}"
                    raise ProvisioningError(msg, step=what) from exc
                self.log.warning("update.conflict", what=what, attempt=attempt, error=exc.message)
                await self.back_off(attempt)
                await read()
        raise AssertionError("unreachable: the last attempt raises")

    async def _after_earlier_send(
        self, intent_step: str, lookup: Callable[[float], Awaitable[_O | None]]
    ) -> _O | None:
        """A create an earlier claim sent may still be in flight (its worker paused past its lease, a
        VM pause, SIGSTOP): wait until it must have ended, carried out or not, and look again."""
        intent = self._cp.get(intent_step, CreateIntent)
        if not self._cp.from_earlier_attempt(intent_step) or intent is None or not intent.in_flight:
            return None
        wait_s = intent.in_flight_s - await self._cp.seconds_since(intent_step)
        if wait_s <= 0:
            return None
        self.log.info("create.waiting_for_earlier_send", seconds=round(wait_s, 1), step=intent_step)
        await asyncio.sleep(wait_s)
        return await self.settled(lookup)

    def _intent(self, *, in_flight: bool) -> CreateIntent:
        return CreateIntent(marker=self._marker, in_flight_s=self._in_flight_s, in_flight=in_flight)

    @asynccontextmanager
    async def counting_retries(self, what: str) -> AsyncIterator[None]:
        """Note the transient 400s the transport retried for this write (counted in metrics too)."""
        with recording_calls() as calls:
            try:
                yield
            finally:
                answers = calls.calls
                refused = Counter(c.status for c in answers)["400"]
                if refused:
                    outcome = "then accepted it" if _accepted(answers) else "and went on refusing"
                    self._notes.append(
                        f"{what}: Genesys answered 400 {refused} time(s) right after what it names was made "
                        f"(retried, as such a refusal clears by itself), {outcome}"
                    )

    async def settled(self, lookup: Callable[[float], Awaitable[_T | None]]) -> _T | None:
        # Listings may lag a write slightly: look twice, a moment apart, before concluding "not made".
        if (found := await lookup(time.monotonic())) is not None:
            return found
        await asyncio.sleep(self._settle_s)
        return await lookup(time.monotonic())

    async def back_off(self, attempt: int) -> None:
        await asyncio.sleep(min(self._max_s, self._initial_s * 2**attempt))


#: The intents of creates a job records before it sends one.
CREATE_INTENTS = (
    steps.CONFIGURATION_CREATE_SENT,
    steps.DEPLOYMENT_CREATE_SENT,
    steps.SUPPORTED_CONTENT_CREATE_SENT,
)


async def wait_for_earlier_creates(store: Store, job: Job) -> datetime | None:
    """Wait until no create another job of this channel sent can still be in flight (a job superseded
    or cancelled while its worker was paused past its lease, with a create on its way); the database
    time waited until, if any. What such a create makes is then in the org for this job to see
    (adopt, or remove), instead of landing after it as a second object of the channel."""
    recorded = await asyncio.to_thread(
        store.steps_of_channel, job.org_id, job.channel_key, list(CREATE_INTENTS), other_than=job.id
    )
    ends = [
        s.finished_at + timedelta(seconds=intent.in_flight_s)
        for s in recorded
        if (intent := CreateIntent.model_validate(s.data)).in_flight
    ]
    if not ends:
        return None
    until = max(ends)
    wait_s = (until - await asyncio.to_thread(store.database_now)).total_seconds()
    if wait_s > 0:
        log.info("job.waiting_for_an_earlier_jobs_create", job_id=job.id, seconds=round(wait_s, 1))
        await asyncio.sleep(wait_s)
    return until


def _accepted(calls: list[Call]) -> bool:
    return bool(calls) and calls[-1].status.startswith("2")
