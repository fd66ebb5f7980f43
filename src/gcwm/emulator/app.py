"""Build the emulator's ASGI app: routes, error handlers and the request pipeline."""

from __future__ import annotations

from fastapi import FastAPI

from gcwm.emulator.config import EmulatorConfig
from gcwm.emulator.errors import install_error_handlers
from gcwm.emulator.pipeline import ApiPipeline
from gcwm.emulator.routes import ROUTERS
from gcwm.emulator.runtime import build_runtime


def create_app(config: EmulatorConfig | None = None) -> FastAPI:
    """A new emulated organisation; two apps in one process share nothing."""
    runtime = build_runtime(config or EmulatorConfig())
    app = FastAPI(
        title="gcwm Genesys Cloud emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.emulator = runtime
    for router in ROUTERS:
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(ApiPipeline, runtime=runtime)
    return app
