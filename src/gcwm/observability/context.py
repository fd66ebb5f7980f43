"""Who asked and which run this is: carried from the entry point down through contextvars."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

_correlation_id: ContextVar[str] = ContextVar("gcwm_correlation_id", default="")
_actor: ContextVar[str] = ContextVar("gcwm_actor", default="")


def new_correlation_id() -> str:
    """A fresh correlation id for one run of a command or one API request."""
    return uuid.uuid4().hex


def correlation_id() -> str:
    """The current correlation id ('' outside any request context)."""
    return _correlation_id.get()


def actor() -> str:
    """Who asked for the current work (a user, a service account, a job worker)."""
    return _actor.get()


def bind_request(*, actor: str, correlation_id: str | None = None) -> str:
    """Bind actor and correlation id, logs included, for the rest of the current task: an HTTP request
    runs in an asyncio task of its own, whose context ends with it (nothing to undo)."""
    cid = correlation_id or new_correlation_id()
    _correlation_id.set(cid)
    _actor.set(actor)
    structlog.contextvars.bind_contextvars(correlation_id=cid, actor=actor)
    return cid


@contextmanager
def request_context(*, actor: str, correlation_id: str | None = None) -> Iterator[str]:
    """Bind actor and correlation id for everything done inside, logs included."""
    cid = correlation_id or new_correlation_id()
    t1 = _correlation_id.set(cid)
    t2 = _actor.set(actor)
    with structlog.contextvars.bound_contextvars(correlation_id=cid, actor=actor):
        try:
            yield cid
        finally:
            _correlation_id.reset(t1)
            _actor.reset(t2)
