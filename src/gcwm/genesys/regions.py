"""Genesys Cloud regions: AWS-style names and region hosts (shared/genesys/README.md, SDK region list)."""

from __future__ import annotations

from dataclasses import dataclass

from gcwm.errors import ConfigError

# AWS-style region name -> region host. The API host is "api." + host, the login host "login." + host.
REGION_HOSTS: dict[str, str] = {
    "us-east-1": "mypurecloud.com",
    "us-east-2": "use2.us-gov-pure.cloud",
    "us-west-2": "usw2.pure.cloud",
    "ca-central-1": "cac1.pure.cloud",
    "sa-east-1": "sae1.pure.cloud",
    "mx-central-1": "mxc1.pure.cloud",
    "eu-west-1": "mypurecloud.ie",
    "eu-west-2": "euw2.pure.cloud",
    "eu-central-1": "mypurecloud.de",
    "eu-central-2": "euc2.pure.cloud",
    "eusc-de-east-1": "edee1.eusc-pure.cloud",
    "me-central-1": "mec1.pure.cloud",
    "ap-south-1": "aps1.pure.cloud",
    "ap-southeast-1": "apse1.pure.cloud",
    "ap-southeast-2": "mypurecloud.com.au",
    "ap-northeast-1": "mypurecloud.jp",
    "ap-northeast-2": "apne2.pure.cloud",
    "ap-northeast-3": "apne3.pure.cloud",
}


@dataclass(frozen=True)
class Endpoints:
    """Where to log in and where to call the API."""

    login_url: str
    api_url: str
    region_host: str | None

    @property
    def is_cloud(self) -> bool:
        return self.region_host is not None


def resolve_region(region: str) -> str:
    """Turn a region host (`mypurecloud.ie`) or AWS-style name (`eu-west-1`) into the region host."""
    value = region.strip().lower().removeprefix("https://").rstrip("/")
    value = value.removeprefix("api.").removeprefix("login.")
    if value in REGION_HOSTS:
        return REGION_HOSTS[value]
    if value in REGION_HOSTS.values():
        return value
    names = ", ".join(sorted(REGION_HOSTS))
    msg = (
        f"unknown Genesys Cloud region {region!r}: "
        f"give a region host such as mypurecloud.ie or one of {names}"
    )
    raise ConfigError(msg)


def endpoints_for(region: str | None, base_url: str | None = None) -> Endpoints:
    """Login and API origins: a base-URL override (emulator, gateway) wins over the region."""
    host = resolve_region(region) if region else None
    if base_url:
        origin = base_url.rstrip("/")
        if not origin.startswith(("http://", "https://")):
            msg = f"GCWM_GENESYS_BASE_URL must start with http:// or https://, got {base_url!r}"
            raise ConfigError(msg)
        return Endpoints(login_url=origin, api_url=origin, region_host=host)
    if host is None:
        msg = "no Genesys Cloud region: set GENESYSCLOUD_REGION or GCWM_GENESYS_BASE_URL"
        raise ConfigError(msg)
    return Endpoints(login_url=f"https://login.{host}", api_url=f"https://api.{host}", region_host=host)
