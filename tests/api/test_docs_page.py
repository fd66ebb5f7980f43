"""The API's reference page over real HTTP: off unless `gcwm serve --docs`, and then served from the
package under the dashboard's CSP, loading nothing from another origin. /openapi.json is always there."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.support.service import RunningService, start_service


class _References(HTMLParser):
    """Every URL a page would load or link to (src, href, action, srcset...)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href", "action", "srcset", "data") and v]


def _assert_self_contained(page: httpx.Response) -> None:
    """No script, style or link of the page names another origin, and a strict CSP guards it."""
    references = _References()
    references.feed(page.text)
    assert references.urls, "the page links to nothing: not the page expected"
    assert all(url.startswith(("/", "#")) and not url.startswith("//") for url in references.urls), (
        references.urls
    )
    assert not re.search(r"(?i)\b(?:https?:)?//(?!127\.0\.0\.1)[a-z0-9.-]+\.[a-z]{2,}", page.text), (
        "a third-party origin appears in the page"
    )
    assert "cdn" not in page.text.lower()
    policy = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'none'"
    assert "'unsafe-inline'" not in policy and "http" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_docs_are_off_by_default_and_the_openapi_document_stays(service: RunningService) -> None:
    """Without --docs, /v1/docs (and FastAPI's other UI paths) answer 404; /openapi.json is served."""
    with service.client(None) as http:
        for path in ("/v1/docs", "/docs", "/redoc", "/v1/docs/oauth2-redirect"):
            assert http.get(path).status_code == 404, path
        document = http.get("/openapi.json")
    assert document.status_code == 200
    assert "/v1/channels" in document.json()["paths"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_docs_flag_serves_a_self_contained_page_under_a_strict_csp(
    gcwm_env: dict[str, str], tmp_path: Path, workers: str
) -> None:
    """`gcwm serve --docs` (one process or several): every operation listed, nothing from a CDN."""
    extra = ("--docs", "--workers", workers)
    with (
        start_service(gcwm_env, tmp_path, roles=(), extra_args=extra) as service,
        service.client(None) as http,
    ):
        page = http.get("/v1/docs")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        _assert_self_contained(page)
        operations = http.get("/openapi.json").json()["paths"]
        for path, methods in operations.items():
            for method in methods:
                assert f"{method.upper()} {path}" in page.text.replace("&#34;", '"'), (method, path)
        stylesheet = http.get("/static/dashboard.css")
        assert stylesheet.status_code == 200
        assert http.get("/docs").status_code == 404
