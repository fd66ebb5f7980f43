"""The api room: the HTTP service of `gcwm serve` (FastAPI). It parses requests and renders answers;
the use cases are the provisioning service's, as for the CLI.

Nothing is imported here: the CLI imports `gcwm.api.roles` for `gcwm keys`, and must not pay for
FastAPI's import on every command. Import `gcwm.api.app.create_app` and `gcwm.api.runtime.ApiRuntime`.
"""

__all__: list[str] = []
