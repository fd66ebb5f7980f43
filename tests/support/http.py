"""HTTP clients for the tests' helpers, sharing one TLS context.

httpx builds a TLS context for every client it makes, loading the whole CA bundle (tens of
milliseconds of CPU), even for a plain http:// URL. Helpers that poll a server or call the emulator's
admin API made one per call: a profile of the suite found a fifth of its CPU there, taken from the
servers being waited for."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

_TLS = ssl.create_default_context()


def client(**kwargs: Any) -> httpx.Client:
    """An httpx.Client with the shared TLS context (kwargs as httpx.Client's)."""
    return httpx.Client(verify=_TLS, **kwargs)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request on a client of its own (kwargs as httpx.Client.request's, and `timeout`)."""
    with client(timeout=kwargs.pop("timeout", 10)) as http:
        return http.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return request("GET", url, **kwargs)
