"""A caller's last word before each request leaves: the transport awaits it after the request's turn
under the rate limit and its token, right before the request goes out, for every attempt."""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SendGuard = Callable[[], Awaitable[None]]

_GUARD: ContextVar[SendGuard | None] = ContextVar("gcwm_send_guard", default=None)


@contextmanager
def guarded_sends(guard: SendGuard) -> Iterator[None]:
    """Await `guard` before each attempt of the requests made in this block goes out, the transport's
    own re-sends (after a 429's Retry-After, a 503) included; what it raises is raised instead of
    sending. A create fences itself so at the moment it leaves, not before the waits that precede
    it: a worker frozen while it waited out a 429 sent its create once thawed, after its job had
    been taken over and created (found by the model-based search of issue 22)."""
    token = _GUARD.set(guard)
    try:
        yield
    finally:
        _GUARD.reset(token)


async def before_send() -> None:
    """Run the guard of the block this request is made in, if any."""
    if (guard := _GUARD.get()) is not None:
        await guard()
