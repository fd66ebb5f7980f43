"""What Genesys Messenger needs from the Content-Security-Policy of a site that embeds it.

Facts from shared/genesys/README.md ("Messenger CSP", "Snippet", regions). Two shapes:
- narrow: the hosts Messenger actually contacts for region host D: scripts, frames and assets from
  `https://apps.D`, XHR to `https://api-cdn.D` and `https://api.D`, the WebSocket to
  `wss://webmessaging.D` (New Relic runs inside an apps.D iframe, so it needs nothing here);
- template: Genesys's published per-region template (`*.D` and its alias, New Relic, the region's S3
  bucket, and `'unsafe-inline'` for the inline snippet), as quoted in the README.
Against an emulator (or any base-URL override) Messenger loads from that one origin, so the same
builders take an origin instead of a region: one policy builder serves the cloud and the preview.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from gcwm.genesys.regions import REGION_HOSTS

Needs = dict[str, list[str]]

# Region host -> the snippet's environment (README, "Snippet"); prod-mxc1 and prod-apse1 are inferred
# there, edee1 is unknown.
ENVIRONMENTS = {
    "mypurecloud.com": "prod",
    "use2.us-gov-pure.cloud": "fedramp-use2-core",
    "usw2.pure.cloud": "prod-usw2",
    "cac1.pure.cloud": "prod-cac1",
    "sae1.pure.cloud": "prod-sae1",
    "mxc1.pure.cloud": "prod-mxc1",
    "mypurecloud.ie": "prod-euw1",
    "euw2.pure.cloud": "prod-euw2",
    "mypurecloud.de": "prod-euc1",
    "euc2.pure.cloud": "prod-euc2",
    "mec1.pure.cloud": "prod-mec1",
    "aps1.pure.cloud": "prod-aps1",
    "apse1.pure.cloud": "prod-apse1",
    "mypurecloud.com.au": "prod-apse2",
    "mypurecloud.jp": "prod-apne1",
    "apne2.pure.cloud": "prod-apne2",
    "apne3.pure.cloud": "prod-apne3",
}
# Regions whose template repeats every `*.D` entry for an alias domain (README, "Messenger CSP").
_ALIASES = {
    "mypurecloud.com": "use1.pure.cloud",
    "mypurecloud.ie": "euw1.pure.cloud",
    "mypurecloud.de": "euc1.pure.cloud",
    "mypurecloud.jp": "apne1.pure.cloud",
    "mypurecloud.com.au": "apse2.pure.cloud",
}
_NEW_RELIC = ["https://*.nr-data.net", "https://*.newrelic.com"]
_ASSET_DIRECTIVES = ("script-src", "frame-src", "img-src", "style-src", "font-src", "media-src")


def narrow_needs(region_host: str) -> Needs:
    """The exact sources Messenger of region host `region_host` needs, per directive."""
    apps = f"https://apps.{region_host}"
    needs: Needs = {directive: [apps] for directive in _ASSET_DIRECTIVES}
    needs["connect-src"] = [
        f"https://api.{region_host}",
        f"https://api-cdn.{region_host}",
        f"wss://webmessaging.{region_host}",
    ]
    return needs


def origin_needs(origin: str) -> Needs:
    """What Messenger needs when everything it loads comes from one origin (an emulator)."""
    parts = urlsplit(origin)
    base = f"{parts.scheme}://{parts.netloc}"
    socket = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
    needs: Needs = {directive: [base] for directive in _ASSET_DIRECTIVES}
    needs["connect-src"] = [base, socket]
    return needs


def template_needs(region_host: str) -> Needs:
    """Genesys's published CSP template for the region (README, "Messenger CSP")."""
    domains = [region_host] + ([_ALIASES[region_host]] if region_host in _ALIASES else [])
    stars = [f"https://*.{d}" for d in domains]
    return {
        "connect-src": [
            *_NEW_RELIC,
            f"https://{s3_bucket(region_host)}",
            *stars,
            *(f"wss://*.{d}" for d in domains),
        ],
        "script-src": ["'unsafe-inline'", *_NEW_RELIC, *stars],
        "img-src": list(stars),
        "media-src": list(stars),
        "object-src": list(stars),
        "child-src": list(stars),
    }


def s3_bucket(region_host: str) -> str:
    """The region's S3 bucket host Messenger uploads through (README, "Messenger CSP")."""
    environment = ENVIRONMENTS.get(region_host, f"prod-{region_host.split('.')[0]}")
    if environment == "prod":
        return "shyrka-prod.s3.amazonaws.com"
    if environment == "fedramp-use2-core":
        return "shyrka-fedramp-use2-core.s3-fips.us-east-2.amazonaws.com"
    aws_region = next((name for name, host in REGION_HOSTS.items() if host == region_host), "us-east-1")
    return f"shyrka-{environment}.s3.{aws_region}.amazonaws.com"
