"""`gcwm domains`, `gcwm csp` and `gcwm preview`: the policy tools, to see why gcwm accepts or refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gcwm.cli import Output, OutputOption, _run, app

if TYPE_CHECKING:
    from gcwm.settings import Settings


@app.command()
def domains(
    entries: list[str] = typer.Argument(..., metavar="DOMAIN...", help="allowedDomains entries to check"),
    output: Output = OutputOption,
) -> None:
    """Normalise allowedDomains entries as provisioning would, one result each; exit 1 if one is refused."""

    async def main(settings: Settings) -> list[dict[str, str]]:
        from gcwm.bootstrap import load_policy
        from gcwm.policy import check_domains

        policy = load_policy(settings)
        return [c.to_dict() for c in check_domains(entries, allow_ip=policy.allow_ip_domains)]

    results = _run(output, main)
    if output is Output.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            line = (
                f"{r['input']} -> {r['normalized']}" if "normalized" in r else f"{r['input']}: {r['error']}"
            )
            print(line)
    if any("error" in r for r in results):
        raise typer.Exit(1)


@app.command()
def csp(
    target: str = typer.Argument(..., metavar="FILE | evaluate", help="a channel spec, or `evaluate`"),
    policy_text: str | None = typer.Argument(None, metavar="[POLICY]", help="with `evaluate`: the policy"),
    region: str | None = typer.Option(
        None,
        metavar="HOST",
        help="the region whose Messenger the site loads (FILE: default GENESYSCLOUD_REGION, no "
        "credentials needed); with `evaluate`: also check what Messenger of this region needs",
    ),
    output: Output = OutputOption,
) -> None:
    """`gcwm csp FILE [--region HOST]`: per channel, the Content-Security-Policy header to paste and its
    findings, for the region the snippet loads Messenger from (no Genesys call is needed).
    `gcwm csp evaluate "POLICY" [--region HOST]`: the findings about any policy. Exit 1 if one blocks."""
    if target == "evaluate":
        _evaluate(policy_text, region, output)
        return

    async def main(settings: Settings) -> list[dict[str, Any]]:
        from gcwm.bootstrap import load_policy, open_app, site_region
        from gcwm.provisioning import OrgRef, review
        from gcwm.spec import load_spec

        specs = load_spec(Path(target))
        host = site_region(settings, region)
        if host is not None:
            policy = load_policy(settings)
            site = OrgRef(id="", name="", target=host, region=host)
            checked = review(specs, source=target, policy=policy, org=site)
        else:  # a gateway with no region: the org says which
            async with open_app(settings) as gcwm:
                policy = gcwm.service.policy
                checked = review(specs, source=target, policy=policy, org=gcwm.org)
        blocking = set(policy.blocking_severities)
        return [
            {
                "channel": c.channel,
                "csp": c.csp,
                "findings": [f.to_dict() for f in c.findings],
                "blocks": any(f.severity in blocking for f in c.findings),
            }
            for c in checked.channels.values()
        ]

    channels = _run(output, main)
    if output is Output.json:
        print(json.dumps({"channels": channels}, indent=2))
    else:
        for c in channels:
            print(f"{c['channel']}:\n  Content-Security-Policy: {c['csp']}")
            for f in c["findings"]:
                print(f"  [{f['severity']}] {f['location']}: {f['description']}")
    if any(c["blocks"] for c in channels):
        raise typer.Exit(1)


def _evaluate(text: str | None, region: str | None, output: Output) -> None:
    from gcwm.errors import ConfigError

    async def main(settings: Settings) -> dict[str, Any]:
        from gcwm.bootstrap import load_policy
        from gcwm.genesys import messenger, resolve_region
        from gcwm.policy.csp import parse
        from gcwm.policy.csp_allows import blocked_needs
        from gcwm.policy.csp_checks import evaluate

        if text is None:
            msg = "give the policy to evaluate: gcwm csp evaluate \"script-src ...; object-src 'none'\""
            raise ConfigError(msg)
        policy = parse(text)
        findings = evaluate(policy)
        if region:
            findings += blocked_needs(policy, messenger.narrow_needs(resolve_region(region)))
        blocking = set(load_policy(settings).blocking_severities)
        return {
            "policy": policy.serialize(),
            "findings": [
                {
                    "check": f.check,
                    "directive": f.location,
                    "severity": f.severity,
                    "description": f.description,
                }
                for f in findings
            ],
            "blocks": any(f.severity in blocking for f in findings),
        }

    result = _run(output, main)
    blocks = result.pop("blocks")
    if output is Output.json:
        print(json.dumps(result, indent=2))
    else:
        print(result["policy"])
        for f in result["findings"]:
            print(f"  [{f['severity']}] {f['directive']}: {f['description']}")
    if blocks:
        raise typer.Exit(1)


@app.command()
def preview(
    name: str = typer.Argument(..., help="a provisioned channel's name"),
    port: int = typer.Option(8765, min=1, max=65535, help="port on 127.0.0.1 to serve the page on"),
    policy_text: str | None = typer.Option(
        None, "--csp", help="serve under this policy instead of gcwm's (to try a site's own)"
    ),
) -> None:
    """Serve, on 127.0.0.1, a page that embeds the channel's snippet under the CSP gcwm proposes."""

    async def main(settings: Settings) -> None:
        from gcwm import render
        from gcwm.bootstrap import open_app
        from gcwm.preview import serve_preview_async

        async with open_app(settings, self_hosted_messenger=True) as gcwm:
            snippet, proposed = await gcwm.service.preview_material(name)

            def ready(url: str) -> None:
                render.stderr().print(f"gcwm preview: {url}", markup=False)
                render.stderr().print("open it in a browser; Ctrl-C stops the preview")

            await serve_preview_async(snippet, policy_text or proposed, port=port, ready=ready)

    _run(Output.text, main, interrupted="preview stopped")
