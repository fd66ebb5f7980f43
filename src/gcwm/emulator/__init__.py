"""An emulator of the part of the Genesys Cloud Platform API v2 that gcwm uses.

It stands in for the cloud, so it imports nothing from the rest of gcwm. It follows
shared/genesys/README.md and the official SDK's models (api-subset.json, shipped in this package).
"""

from __future__ import annotations

from gcwm.emulator.app import create_app
from gcwm.emulator.config import EmulatorConfig, FaultRule
from gcwm.emulator.server import EmbeddedEmulator, serve

__all__ = ["EmbeddedEmulator", "EmulatorConfig", "FaultRule", "create_app", "serve"]
