"""Region names and hosts resolve to Genesys login and API origins."""

from __future__ import annotations

import pytest

from gcwm.errors import ConfigError
from gcwm.genesys import endpoints_for, resolve_region


@pytest.mark.parametrize(
    ("given", "host"),
    [
        ("us-east-1", "mypurecloud.com"),
        ("eu-west-1", "mypurecloud.ie"),
        ("mypurecloud.de", "mypurecloud.de"),
        ("api.usw2.pure.cloud", "usw2.pure.cloud"),
        ("AP-SOUTHEAST-2", "mypurecloud.com.au"),
    ],
)
def test_region_resolves_to_host(given: str, host: str) -> None:
    """AWS-style names and region hosts both work."""
    assert resolve_region(given) == host


def test_cloud_endpoints_use_login_and_api_hosts() -> None:
    """Login goes to login.<host>, calls to api.<host>."""
    e = endpoints_for("eu-west-1")
    assert (e.login_url, e.api_url) == ("https://login.mypurecloud.ie", "https://api.mypurecloud.ie")


def test_base_url_overrides_both_origins() -> None:
    """An emulator or gateway URL serves login and API alike."""
    e = endpoints_for("eu-west-1", "http://127.0.0.1:8080/")
    assert e.login_url == e.api_url == "http://127.0.0.1:8080"


def test_unknown_region_lists_the_known_ones() -> None:
    """A typo is a ConfigError naming what would be accepted."""
    with pytest.raises(ConfigError, match="eu-west-1"):
        resolve_region("eu-west-9")
