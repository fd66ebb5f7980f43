"""One DELETE, carried to its end: what destroy and rollback share.

A DELETE is idempotent in effect but not in its answer: sent again after a lost answer, it is answered
404 if the first one went through. So gcwm sends it itself (the transport never re-sends one) and
knows which 404 means "already gone before we asked" and which means "our earlier DELETE did it".
A 409 means the object is still in use (a configuration whose deployment is on its way out): it is
waited out until `conflict_deadline` (time.monotonic()).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from gcwm.errors import GenesysConflict, GenesysError, GenesysNotFound, is_transient
from gcwm.genesys import is_outcome_unknown

log = structlog.get_logger(__name__)


async def delete_until_done(
    send: Callable[[], Awaitable[None]],
    *,
    what: str,
    attempts: int,
    pause_s: float,
    max_pause_s: float,
    conflict_deadline: float,
) -> bool:
    """Delete one object; True if it existed when first asked (False: it was gone already).

    Raises the last GenesysError when the DELETE is refused, or still unknown after `attempts`
    sends, or still in use at `conflict_deadline`."""
    unknown = 0
    existed = False  # seen in use, or a DELETE of ours may have gone through
    while True:
        try:
            await send()
            return True
        except GenesysNotFound:
            return existed  # after a lost answer, a 404 says that DELETE went through
        except GenesysConflict:
            existed = True
            if time.monotonic() >= conflict_deadline:
                raise
        except GenesysError as exc:
            if not (is_outcome_unknown(exc) or is_transient(exc)):
                raise
            existed = True
            unknown += 1
            if unknown >= attempts:
                raise
            log.warning("delete.outcome_unknown", what=what, error=exc.message, attempt=unknown)
        await asyncio.sleep(min(max_pause_s, pause_s * 2**unknown))
