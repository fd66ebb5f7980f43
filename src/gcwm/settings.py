"""gcwm's settings, read from the environment (the names Genesys's Terraform provider uses, and GCWM_*)."""

from __future__ import annotations

import getpass
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from gcwm.errors import ConfigError


def _default_home() -> Path:
    return Path.home() / ".local" / "state" / "gcwm"


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Settings(BaseSettings):
    """Every knob gcwm reads from the environment; README.md lists them all."""

    # Only the documented names are read: a field name such as `home` must never pick up $HOME.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=False)

    client_id: str | None = Field(default=None, validation_alias="GENESYSCLOUD_OAUTHCLIENT_ID")
    client_secret: SecretStr | None = Field(default=None, validation_alias="GENESYSCLOUD_OAUTHCLIENT_SECRET")
    region: str | None = Field(default=None, validation_alias="GENESYSCLOUD_REGION")
    base_url: str | None = Field(default=None, validation_alias="GCWM_GENESYS_BASE_URL")
    home: Path = Field(default_factory=_default_home, validation_alias="GCWM_HOME")
    database_url: str | None = Field(default=None, validation_alias="GCWM_DATABASE_URL")
    requests_per_minute: float = Field(default=300.0, gt=0, validation_alias="GCWM_REQUESTS_PER_MINUTE")
    # How long one Genesys request may last (a takeover waits this long for a create a paused worker sent).
    genesys_timeout_seconds: float = Field(
        default=30.0, gt=0, validation_alias="GCWM_GENESYS_TIMEOUT_SECONDS"
    )
    # A 400 on a write naming an object made seconds before is retried this long (Terraform's 30 s).
    transient_400_seconds: float = Field(default=30.0, ge=0, validation_alias="GCWM_TRANSIENT_400_SECONDS")
    concurrency: int = Field(default=32, ge=1, le=256, validation_alias="GCWM_CONCURRENCY")
    lease_seconds: float = Field(default=15.0, gt=0, validation_alias="GCWM_LEASE_SECONDS")
    log_level: str = Field(default="warning", validation_alias="GCWM_LOG_LEVEL")
    actor: str = Field(default_factory=_default_actor, validation_alias=AliasChoices("GCWM_ACTOR"))
    policy_file: Path | None = Field(default=None, validation_alias="GCWM_POLICY_FILE")
    audit_key_file: Path | None = Field(default=None, validation_alias="GCWM_AUDIT_KEY_FILE")
    audit_checkpoint_every: int = Field(default=1000, ge=1, validation_alias="GCWM_AUDIT_CHECKPOINT_EVERY")
    notify_grace_seconds: float = Field(default=10.0, ge=0, validation_alias="GCWM_NOTIFY_GRACE_SECONDS")
    secrets_dir: Path | None = Field(default=None, validation_alias="GCWM_SECRETS_DIR")
    metrics_public: bool = Field(default=False, validation_alias="GCWM_METRICS_PUBLIC")
    # One POST /v1/channels: a bigger batch is refused (413) before it is checked (issue 23, item 6).
    max_channels_per_request: int = Field(
        default=1000, ge=1, validation_alias="GCWM_MAX_CHANNELS_PER_REQUEST"
    )

    @property
    def uses_embedded_emulator(self) -> bool:
        """No credentials at all: run against the emulator gcwm ships."""
        return not (self.client_id or self.client_secret)

    def check(self) -> None:
        """Refuse half-given credentials with a message naming what is missing."""
        if self.uses_embedded_emulator:
            return
        missing = [
            name
            for name, value in (
                ("GENESYSCLOUD_OAUTHCLIENT_ID", self.client_id),
                ("GENESYSCLOUD_OAUTHCLIENT_SECRET", self.client_secret),
            )
            if not value
        ]
        if not self.region and not self.base_url:
            missing.append("GENESYSCLOUD_REGION (or GCWM_GENESYS_BASE_URL)")
        if missing:
            msg = "incomplete Genesys Cloud credentials: set " + ", ".join(missing)
            msg += " (or unset them all to use the embedded emulator)"
            raise ConfigError(msg)


def load_settings() -> Settings:
    """Read the environment; a bad value becomes a ConfigError naming the variable."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        msg = f"invalid setting: {problems}"
        raise ConfigError(msg) from exc
    _secret_from_file(settings)
    settings.check()
    return settings


def _secret_from_file(settings: Settings) -> None:
    """The client secret from GCWM_SECRETS_DIR/GENESYSCLOUD_OAUTHCLIENT_SECRET when the variable is unset
    (a mounted secret, as Kubernetes and systemd's credentials give it): never through the API."""
    if settings.client_secret is not None or settings.secrets_dir is None:
        return
    path = settings.secrets_dir / "GENESYSCLOUD_OAUTHCLIENT_SECRET"
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return
    except OSError as exc:
        msg = f"GCWM_SECRETS_DIR: cannot read {path} ({exc.strerror})"
        raise ConfigError(msg) from exc
    if value:
        settings.client_secret = SecretStr(value)
