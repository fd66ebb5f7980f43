"""Logs, metrics and request context. Imports only gcwm.errors; every other room may use it."""

from gcwm.observability.context import actor, correlation_id, new_correlation_id, request_context

__all__ = ["actor", "correlation_id", "new_correlation_id", "request_context"]
