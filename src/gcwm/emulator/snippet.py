"""The deployment snippet a website pastes, in the form every public copy has (README, "Snippet")."""

from __future__ import annotations

# Environment per region host, from Genesys's CSP page as quoted in shared/genesys/README.md.
# prod-mxc1 and prod-apse1 are inferred there; edee1 is unknown (see environment_for).
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

# Exact whitespace of Genesys's snippet string is unconfirmed; this is the README's form.
_TEMPLATE = "\n".join(
    (
        '<script type="text/javascript" charset="utf-8">',
        "  (function (g, e, n, es, ys) {",
        "    g['_genesysJs'] = e;",
        "    g[e] = g[e] || function () { (g[e].q = g[e].q || []).push(arguments) };",
        "    g[e].t = 1 * new Date();",
        "    g[e].c = es;",
        "    ys = document.createElement('script'); ys.async = 1; ys.src = n; ys.charset = 'utf-8'; "
        "document.head.appendChild(ys);",
        "  })(window, 'Genesys', '{origin}/genesys-bootstrap/genesys.min.js', {",
        "    environment: '{environment}',",
        "    deploymentId: '{deployment_id}'",
        "  });",
        "</script>",
    )
)


def environment_for(region_host: str) -> str:
    """The snippet's `environment` for a region host.

    Emulator choice for hosts the README does not map (e.g. edee1.eusc-pure.cloud): `prod-` and
    the host's first label, the pattern most regions follow."""
    return ENVIRONMENTS.get(region_host) or f"prod-{region_host.split('.')[0]}"


def render_snippet(region_host: str, deployment_id: str, *, origin: str | None = None) -> str:
    """The snippet of a deployment; its bootstrap script comes from `https://apps.{region_host}`, or
    from `origin` (scheme://host:port) when the emulator serves Messenger itself."""
    return (
        _TEMPLATE.replace("{origin}", origin or f"https://apps.{region_host}")
        .replace("{environment}", environment_for(region_host))
        .replace("{deployment_id}", deployment_id)
    )
