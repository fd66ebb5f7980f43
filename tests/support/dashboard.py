"""Driving the dashboard of a live `gcwm serve` over plain HTTP, as a browser's forms would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

import tests.support.http as test_http
from tests.support.service import RunningService

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@contextmanager
def logged_in(service: RunningService, role: str) -> Iterator[httpx.Client]:
    """A cookie-keeping client that logged in through the login form with the key of `role`."""
    with test_http.client(base_url=service.url, timeout=30) as client:
        login = client.get("/login")
        assert login.status_code == 200
        answer = client.post(
            "/login",
            data={"key": service.keys[role], "csrf": form_token(login.text)},
            headers={"Origin": origin(service)},
        )
        assert answer.status_code == 303, answer.text
        yield client


def origin(service: RunningService) -> str:
    """The Origin a browser sends with the dashboard's own forms."""
    return service.url
