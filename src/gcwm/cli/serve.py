"""`gcwm serve` and `gcwm keys create|list|revoke`."""

from __future__ import annotations

import json
import signal
import sys
from typing import TYPE_CHECKING

import typer

from gcwm.api.roles import Role
from gcwm.cli import Output, OutputOption, _run, _store_only, app

if TYPE_CHECKING:
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
) -> None:
    """Serve the HTTP API, /metrics and the dashboard, and work the org's jobs in this process.

    Credentials as for `provision` (none: the embedded emulator). Replicas on one PostgreSQL
    (GCWM_DATABASE_URL) share the jobs through leases."""

    async def main(settings: Settings) -> None:
        import uvicorn

        from gcwm.bootstrap import open_runtime

        async with open_runtime(settings) as runtime:
            from gcwm.api import create_app

            config = uvicorn.Config(
                create_app(runtime),
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
                f"gcwm: serving http://{host}:{port}/ (dashboard), /v1 (API), /metrics; Ctrl-C stops",
                file=sys.stderr,
            )
            await server.serve()
            if not server.started:
                from gcwm.errors import ConfigError

                msg = f"could not listen on {host}:{port} (in use, or not an address of this machine)"
                raise ConfigError(msg)

    _run(Output.text, main, interrupted="stopped")


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
