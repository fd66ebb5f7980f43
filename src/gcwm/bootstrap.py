"""Settings -> a ready App: the only module that picks concrete classes and wires them together."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gcwm.errors import PolicyFileError
from gcwm.genesys import resolve_region
from gcwm.policy import LocalPolicy, parse_policy_file
from gcwm.settings import Settings, load_settings

# Each function imports the rooms it builds: a pure command (`gcwm domains`) reads the policy file
# without loading the store, the Genesys client or the audit log, and only `gcwm serve` loads the
# HTTP stack (issue 24).
if TYPE_CHECKING:
    from fastapi import FastAPI

    from gcwm.api.runtime import ApiRuntime
    from gcwm.genesys import GenesysClient
    from gcwm.notify import Dispatcher, SecretSource
    from gcwm.provisioning import Evidence, OrgRef, ProvisioningService, Timeouts
    from gcwm.store import Store

EMULATOR_STATE_FILE = "emulator-state.json"


@dataclass
class App:
    """Everything a command needs, built once per process."""

    settings: Settings
    store: Store
    client: GenesysClient
    service: ProvisioningService
    org: OrgRef
    emulator_url: str | None

    @property
    def org_id(self) -> str:
        return self.org.id


def database_url(settings: Settings) -> str:
    from gcwm.store import default_sqlite_url

    return settings.database_url or default_sqlite_url(settings.home)


def open_store(settings: Settings) -> Store:
    """Connect (and migrate) the database named by the settings."""
    from gcwm.store import Store, connect

    return Store(connect(database_url(settings)))


def load_policy(settings: Settings) -> LocalPolicy:
    """The local policy file named by GCWM_POLICY_FILE, or the defaults when none is set."""
    path = settings.policy_file
    if path is None:
        return LocalPolicy()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"GCWM_POLICY_FILE {path}: cannot read it ({exc.strerror})"
        raise PolicyFileError(msg) from exc
    return parse_policy_file(text, source=str(path))


def open_evidence(settings: Settings) -> Evidence:
    """The audit trail's writer: the configured signing key (made on first use), the head file."""
    from gcwm.audit import head_path, load_signing_key
    from gcwm.provisioning import Evidence

    return Evidence(
        lambda: load_signing_key(settings.home, settings.audit_key_file),
        head_file=head_path(settings.home),
        every=settings.audit_checkpoint_every,
    )


def open_secrets(settings: Settings) -> SecretSource:
    """Where this process reads ITSM secrets: the environment, or GCWM_SECRETS_DIR (policy-listed names)."""
    from gcwm.notify import SecretSource

    return SecretSource(directory=settings.secrets_dir, allowed=load_policy(settings).itsm_secret_env)


def open_dispatcher(settings: Settings, store: Store) -> Dispatcher:
    """A dispatcher of notifications as the settings and the local policy file say."""
    from gcwm.notify import Dispatcher, SecretSource

    policy = load_policy(settings)
    return Dispatcher(
        store,
        allow_private=policy.allow_private_itsm_targets,
        secrets=SecretSource(directory=settings.secrets_dir, allowed=policy.itsm_secret_env),
        lease_s=settings.lease_seconds,
    )


# The region the embedded emulator stands in for when GENESYSCLOUD_REGION is unset (us-east-1).
EMBEDDED_REGION = "mypurecloud.com"


def embedded_region(settings: Settings) -> str:
    """The region host the embedded emulator stands in for: GENESYSCLOUD_REGION, else us-east-1's."""
    return resolve_region(settings.region) if settings.region else EMBEDDED_REGION


def site_region(settings: Settings, region: str | None = None) -> str | None:
    """The region whose Messenger a site's CSP is proposed for, known without starting anything:
    `region` (a command's --region), GENESYSCLOUD_REGION, or the embedded emulator's; None only for
    credentials with a base URL and no region (a gateway: ask the org)."""
    if region:
        return resolve_region(region)
    if settings.region or settings.uses_embedded_emulator:
        return embedded_region(settings)
    return None


def start_embedded_emulator(
    settings: Settings, stack: ExitStack | AsyncExitStack, self_hosted_messenger: bool = False
) -> tuple[str, str, str, str]:
    """Start the embedded emulator on a free loopback port until `stack` closes; its URL, client id,
    client secret and the region host it stands in for (GENESYSCLOUD_REGION when set). Its org lives
    in GCWM_HOME, so runs see the same org."""
    from gcwm.emulator import EmbeddedEmulator, EmulatorConfig  # only when needed

    config = EmulatorConfig(
        state_file=Path(settings.home) / EMULATOR_STATE_FILE,
        # The preview loads Messenger's stand-in scripts from the emulator's own origin.
        self_hosted_messenger=self_hosted_messenger,
    )
    # Its snippets load Messenger from that region, so the CSP gcwm proposes is that region's.
    config.region_host = embedded_region(settings)
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # the user's alone (store/engine.py)
    emulator = stack.enter_context(EmbeddedEmulator(config))
    return emulator.url, config.client_id, config.client_secret, config.region_host


@asynccontextmanager
async def open_app(
    settings: Settings,
    *,
    timeouts: Timeouts | None = None,
    announce: bool = True,
    self_hosted_messenger: bool = False,
) -> AsyncIterator[App]:
    """Start what the settings call for (the embedded emulator when no credentials are set)."""
    from pydantic import SecretStr

    from gcwm.genesys import ClientCredentials, GenesysClient, GenesysTransport, RetryPolicy, endpoints_for
    from gcwm.provisioning import OrgRef, ProvisioningService

    async with AsyncExitStack() as stack:
        emulator_url: str | None = None
        if settings.uses_embedded_emulator:
            emulator_url, client_id, secret, region = start_embedded_emulator(
                settings, stack, self_hosted_messenger
            )
            credentials = ClientCredentials(client_id, SecretStr(secret))
            # The emulator stands in for the region its snippets load Messenger from: what the site's
            # CSP must allow (unless it serves Messenger's stand-in itself, for the preview).
            endpoints = endpoints_for(None if self_hosted_messenger else region, emulator_url)
            if announce:
                print(
                    f"gcwm: no Genesys Cloud credentials set; using the embedded emulator at {emulator_url}",
                    file=sys.stderr,
                )
        else:
            assert settings.client_id and settings.client_secret
            credentials = ClientCredentials(settings.client_id, settings.client_secret)
            endpoints = endpoints_for(settings.region, settings.base_url)
        retry = RetryPolicy(fresh_object_400_s=settings.transient_400_seconds)
        transport = GenesysTransport(
            endpoints,
            credentials,
            requests_per_minute=settings.requests_per_minute,
            retry=retry,
            timeout_s=settings.genesys_timeout_seconds,
        )
        client = GenesysClient(transport)
        stack.push_async_callback(client.aclose)
        store = open_store(settings)
        stack.callback(store.engine.dispose)
        info = await client.token_info()
        org = OrgRef(
            id=info.organization.id,
            name=info.organization.name or info.organization.id,
            target=emulator_url or endpoints.region_host or endpoints.api_url,
            region=endpoints.region_host,
        )
        service = ProvisioningService(
            store,
            client,
            org,
            timeouts=timeouts,
            concurrency=settings.concurrency,
            lease_s=settings.lease_seconds,
            policy=load_policy(settings),
            notifications=lambda: open_dispatcher(settings, store),
            notify_grace_s=settings.notify_grace_seconds,
            evidence=open_evidence(settings),
            secrets=open_secrets(settings),
        )
        stack.push_async_callback(service.aclose)  # closes before the store and client it uses
        yield App(
            settings=settings, store=store, client=client, service=service, org=org, emulator_url=emulator_url
        )


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[ApiRuntime]:
    """What `gcwm serve` runs on: the app's service, store and org, and the settings it serves by."""
    from gcwm.api.runtime import ApiRuntime

    async with open_app(settings) as gcwm:
        yield ApiRuntime(
            service=gcwm.service,
            store=gcwm.store,
            settings=settings,
            org=gcwm.org,
            metrics_public=settings.metrics_public,
        )


def serving_app() -> FastAPI:
    """The app of one worker process of `gcwm serve --workers N` (uvicorn's factory): it reads the
    settings the parent process handed down in the environment and opens its own runtime."""
    from gcwm.api.app import create_app
    from gcwm.observability.logging import configure_logging

    settings = load_settings()
    configure_logging(level=settings.log_level, json=False)
    return create_app(opener=lambda: open_runtime(settings))
