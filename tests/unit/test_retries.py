"""Which Genesys failures are retried, and how long gcwm waits before the next try."""

from __future__ import annotations

import random
import time

import pytest

from gcwm.errors import (
    GenesysAuthError,
    GenesysBadRequest,
    GenesysConflict,
    GenesysError,
    GenesysNotFound,
    GenesysRateLimited,
    GenesysServerError,
    GenesysTransportError,
    GenesysUnavailable,
)
from gcwm.genesys.retries import BackoffHook, RetryPolicy

POLICY = RetryPolicy(backoff_base_s=0.5, backoff_cap_s=8.0, retry_after_jitter_s=0.5, retry_after_cap_s=60.0)


def _hook(*, resend_unknown: bool = True) -> BackoffHook:
    return BackoffHook(POLICY, resend_unknown=resend_unknown, rng=random.Random(1))


def test_429_waits_retry_after_plus_bounded_jitter() -> None:
    """Retry-After is honoured exactly, plus at most the jitter."""
    wait = _hook()(GenesysRateLimited("x", retry_after_s=7))
    assert isinstance(wait, float) and 7.0 <= wait <= 7.5


def test_429_wait_is_capped() -> None:
    """An absurd Retry-After is capped so one call cannot hang for hours."""
    assert _hook()(GenesysRateLimited("x", retry_after_s=3600)) == 60.0


def test_429_is_retried_even_for_creates() -> None:
    """A 429 was not executed, so resending a create is safe."""
    assert _hook(resend_unknown=False)(GenesysRateLimited("x", retry_after_s=1)) is not False


def test_unavailable_backs_off_with_full_jitter_under_a_growing_cap() -> None:
    """5xx waits are drawn from [0, base * 2^n], capped."""
    hook = _hook()
    waits = [hook(GenesysUnavailable("x", status=503)) for _ in range(8)]
    ceilings = [min(8.0, 0.5 * 2**n) for n in range(1, 9)]
    assert all(isinstance(w, float) and 0 < w <= c for w, c in zip(waits, ceilings, strict=True))


@pytest.mark.parametrize(
    "error",
    [
        GenesysBadRequest("x", status=400),
        GenesysAuthError("x", status=403),
        GenesysNotFound("x", status=404),
        GenesysServerError("x", status=500, operation="POST /api/v2/webdeployments/deployments"),
        GenesysServerError("x", status=501, operation="GET /api/v2/webdeployments/deployments"),
        GenesysConflict("x", status=409),
        GenesysError("x", status=408),
        GenesysError("x", status=422),
    ],
)
def test_other_errors_are_never_retried(error: GenesysError) -> None:
    """400 (outside a fresh object's window), 403, 404, 408, 409, a 500 on a write, 501 and the rest are
    final at the call."""
    assert _hook()(error) is False


def test_a_500_on_a_read_backs_off_like_a_503() -> None:
    """The official Go SDK retries reads on 5xx but 501 (shared/genesys/README.md, [S14])."""
    read = GenesysServerError("x", status=500, operation="GET /api/v2/webdeployments/deployments")
    wait = _hook()(read)
    assert isinstance(wait, float) and 0 < wait <= 1.0


def test_a_400_naming_a_fresh_object_is_retried_until_its_window_ends_even_for_a_create() -> None:
    """A 400 is a refusal (nothing was made), so a create may go again; never past the window."""
    refused = GenesysBadRequest("x", status=400)
    refused.retry_until = time.monotonic() + 0.3
    wait = _hook(resend_unknown=False)(refused)
    assert isinstance(wait, float) and 0 < wait <= 0.3
    refused.retry_until = time.monotonic() - 0.01
    assert _hook(resend_unknown=False)(refused) is False


def test_retry_after_is_honoured_up_to_180_seconds_by_default() -> None:
    """The Go SDK retries a 429 while Retry-After is at most 180 s; the old cap was 120."""
    hook = BackoffHook(RetryPolicy(retry_after_jitter_s=0.0), resend_unknown=True, rng=random.Random(1))
    assert hook(GenesysRateLimited("x", retry_after_s=170)) == 170.0
    assert hook(GenesysRateLimited("x", retry_after_s=600)) == 180.0


def test_lost_answer_on_a_create_is_not_resent_blind() -> None:
    """A timeout or 503 after sending a create goes back to the caller, who looks it up first."""
    hook = _hook(resend_unknown=False)
    assert hook(GenesysTransportError("x")) is False
    assert hook(GenesysUnavailable("x", status=503)) is False


def test_connect_failure_is_resent_even_for_a_create() -> None:
    """A request that never left cannot have created anything."""
    err = GenesysTransportError("x")
    err.request_sent = False
    assert _hook(resend_unknown=False)(err) is not False
