"""`gcwm emulator`: serve the emulated Genesys Cloud API."""

from __future__ import annotations

from pathlib import Path

import typer

from gcwm.cli import app


@app.command()
def emulator(
    port: int = typer.Option(8080, help="port to listen on"),
    host: str = typer.Option("127.0.0.1", help="address to bind"),
    client_id: str = typer.Option("gcwm-local", help="OAuth client id the emulator accepts"),
    client_secret: str = typer.Option("gcwm-local-secret", help="OAuth client secret it accepts"),
    rate_limit: int = typer.Option(300, help="requests per minute per token (Genesys default 300)"),
    token_ttl: int = typer.Option(86400, help="access token lifetime in seconds"),
    activation_delay: float = typer.Option(1.0, help="seconds a deployment stays Pending"),
    fault_5xx_rate: float = typer.Option(0.0, help="share of API calls answered 502/503/504"),
    fault_429_rate: float = typer.Option(0.0, help="share of API calls that start a 429 burst"),
    commit_then_fail_rate: float = typer.Option(0.0, help="share of writes done but answered 5xx/reset"),
    latency_ms: float = typer.Option(0.0, help="latency added to every answer"),
    seed: int | None = typer.Option(None, help="seed for the fault draws (repeatable runs)"),
    state_file: Path | None = typer.Option(None, help="keep the org's state in this JSON file"),
    limit: list[str] = typer.Option(
        [], help="an org limit, repeatable: web.deployments.deployments.max=3 (or configuration.max)"
    ),
    server_defaults: bool = typer.Option(
        False, "--server-defaults", help="fill and normalise fields as Genesys does (Computed fields)"
    ),
    dependency_400s: int = typer.Option(
        0,
        "--dependency-400s",
        min=0,
        help="answer 400 to the first N publishes of each configuration and deployment creates per version",
    ),
) -> None:
    """Serve the emulated Genesys Cloud API (OAuth at POST /oauth/token on the same origin)."""
    from gcwm import render
    from gcwm.emulator import EmulatorConfig, serve

    config = EmulatorConfig(
        client_id=client_id,
        client_secret=client_secret,
        rate_limit_per_min=rate_limit,
        token_ttl_s=token_ttl,
        deployment_activation_delay_s=activation_delay,
        fault_5xx_rate=fault_5xx_rate,
        fault_429_rate=fault_429_rate,
        commit_then_fail_rate=commit_then_fail_rate,
        latency_ms=latency_ms,
        seed=seed,
        state_file=state_file,
        server_defaults=server_defaults,
        dependency_400s=dependency_400s,
    )
    try:
        config = config.with_limits(_parse_limits(limit))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--limit") from exc
    render.stderr().print(f"gcwm emulator: http://{host}:{port} (client id {client_id})")
    serve(config, host=host, port=port)


def _parse_limits(values: list[str]) -> dict[str, int]:
    """`--limit web.deployments.deployments.max=3`, repeatable -> {name: value}."""
    out: dict[str, int] = {}
    for text in values:
        name, _, number = text.partition("=")
        if not number.strip().isdigit():
            msg = f"--limit {text!r}: give NAME=N, e.g. web.deployments.deployments.max=3"
            raise typer.BadParameter(msg)
        out[name.strip()] = int(number)
    return out
