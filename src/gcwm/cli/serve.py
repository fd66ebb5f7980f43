"""`gcwm serve` and `gcwm keys create|list|revoke`."""

from __future__ import annotations

import json
import signal
import sys
from typing import TYPE_CHECKING

import typer

from gcwm.cli import Output, OutputOption, _run, _store_only, app
from gcwm.provisioning.roles import Role

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gcwm.settings import Settings
    from gcwm.store import Store

keys_app = typer.Typer(
    help="API keys of `gcwm serve`: create (shown once), list, revoke.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="port to listen on"),
    workers: int = typer.Option(1, min=1, max=32, help="processes serving the port, each working jobs too"),
    docs: bool = typer.Option(False, "--docs", help="also serve the API's reference page at /v1/docs"),
) -> None:
    """Serve the HTTP API, /metrics and the dashboard, and work the org's jobs in this process.

    Credentials as for `provision` (none: the embedded emulator). Replicas on one PostgreSQL
    (GCWM_DATABASE_URL) share the jobs through leases; so do the processes of --workers N."""
    if workers > 1:
        _run(
            Output.text,
            lambda settings: _serve_processes(settings, host, port, workers, docs),
            interrupted="stopped",
        )
        return

    async def main(settings: Settings) -> None:
        import uvicorn

        from gcwm.bootstrap import open_runtime

        async with open_runtime(settings) as runtime:
            from gcwm.api.app import create_app

            config = uvicorn.Config(
                create_app(runtime, docs=docs),
                host=host,
                port=port,
                log_level=settings.log_level,
                access_log=False,
                server_header=False,
                lifespan="on",
            )
            server = uvicorn.Server(config)
            # uvicorn stops gracefully on SIGTERM, then raises the signal again to "exit as expected";
            # with the default action that kills the process before the runtime is closed (emulator,
            # database pool). A no-op handler lets the stop finish here and exit 0.
            signal.signal(signal.SIGTERM, lambda *_: None)
            print(
                f"gcwm: serving http://{host}:{port}/ (dashboard), /v1 (API), {'/v1/docs, ' if docs else ''}"
                "/metrics; Ctrl-C stops",
                file=sys.stderr,
            )
            await server.serve()
            if not server.started:
                from gcwm.errors import ConfigError

                msg = f"could not listen on {host}:{port} (in use, or not an address of this machine)"
                raise ConfigError(msg)

    _run(Output.text, main, interrupted="stopped")


async def _serve_processes(settings: Settings, host: str, port: int, workers: int, docs: bool) -> None:
    """`--workers N`: uvicorn's supervisor runs N processes on one socket, each opening its own runtime
    from the environment (`bootstrap.serving_app`). Set up here, once, what they would race on: the
    database's migrations, the audit key, and the embedded emulator, whose address they are handed
    as if it were Genesys. Each process paces its Genesys calls to an Nth of the rate."""
    import os
    import tempfile
    from contextlib import ExitStack

    import uvicorn

    from gcwm.bootstrap import open_evidence, open_store, start_embedded_emulator

    store = open_store(settings)
    try:
        open_evidence(settings).ready(store)
    finally:
        store.engine.dispose()
    with ExitStack() as stack:
        if settings.uses_embedded_emulator:
            url, client_id, secret, region = start_embedded_emulator(settings, stack)
            os.environ.update(
                GCWM_GENESYS_BASE_URL=url,
                GENESYSCLOUD_OAUTHCLIENT_ID=client_id,
                GENESYSCLOUD_OAUTHCLIENT_SECRET=secret,
                GENESYSCLOUD_REGION=region,  # what its snippets load Messenger from
            )
        os.environ["GCWM_REQUESTS_PER_MINUTE"] = str(settings.requests_per_minute / workers)
        # Each process writes its metrics to files here; /metrics sums them (prometheus-client's
        # multiprocess mode), whichever process answers the scrape.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = stack.enter_context(
            tempfile.TemporaryDirectory(prefix="gcwm-metrics-")
        )
        print(
            f"gcwm: serving http://{host}:{port}/ with {workers} processes (dashboard /, API /v1, /metrics)",
            file=sys.stderr,
        )
        uvicorn.run(
            "gcwm.cli.serve:serving_app_with_docs" if docs else "gcwm.bootstrap:serving_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level,
            access_log=False,
            server_header=False,
        )


def serving_app_with_docs() -> FastAPI:
    """`gcwm.bootstrap.serving_app` with the reference page at /v1/docs (`--docs --workers N`)."""
    from gcwm.api.docs import install_docs
    from gcwm.bootstrap import serving_app

    app = serving_app()
    install_docs(app)
    return app


@keys_app.command("create")
def keys_create(
    role: Role = typer.Option(
        ...,
        help="viewer (reads), operator (also submits, cancels, resumes, retries), admin (also deletes, keys)",
    ),
    name: str = typer.Option("", help="what the key is for (shown in lists)"),
) -> None:
    """Make an API key and print it alone on stdout; only its hash is kept, so copy it now."""

    async def main(settings: Settings) -> str:
        from gcwm.api.keys import create_key
        from gcwm.bootstrap import open_evidence, open_store

        store = open_store(settings)
        try:
            _, token = create_key(store, open_evidence(settings), role=role, name=name or role.value)
        finally:
            store.engine.dispose()
        return token

    print(_run(Output.text, main))


@keys_app.command("list")
def keys_list(output: Output = OutputOption) -> None:
    """Every key: id, name, role, when made and by whom, and whether revoked. Never the keys."""
    from gcwm.api.keys import key_document, list_keys

    def work(store: Store) -> list[dict[str, object]]:
        return [key_document(k) for k in list_keys(store)]

    rows = _store_only(output, work)
    if output is Output.json:
        print(json.dumps({"keys": rows}, indent=2))
        return
    from gcwm import render

    render.keys_table(rows)


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="key id (or a unique prefix)"), output: Output = OutputOption
) -> None:
    """Revoke a key at once (and end the dashboard sessions opened with it)."""

    async def main(settings: Settings) -> dict[str, object]:
        from gcwm.api.keys import key_document, revoke_key
        from gcwm.bootstrap import open_evidence, open_store

        store = open_store(settings)
        try:
            return key_document(revoke_key(store, open_evidence(settings), key_id))
        finally:
            store.engine.dispose()

    row = _run(output, main)
    if output is Output.json:
        print(json.dumps(row, indent=2))
    else:
        print(f"revoked {row['id']} ({row['name']}, {row['role']})")
