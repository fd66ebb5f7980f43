"""gcwm: provision Genesys Cloud web messaging channels declaratively and safely."""

__version__ = "0.1.0"
