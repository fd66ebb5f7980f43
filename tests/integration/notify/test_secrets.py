"""At delivery too, a target's secret is read only from a GCWM_ITSM_* variable (or one the policy
file lists), or from its `itsm-*` file in the secrets directory: a stored target naming the Genesys
client secret is dead-lettered and nothing is sent."""

from __future__ import annotations

from pathlib import Path

from gcwm.notify import EmbeddedSink, SecretSource
from gcwm.store import Store
from tests.integration.notify.conftest import SECRET, MakeDispatcher, Queue, message, webhook_itsm


async def test_a_stored_target_naming_the_genesys_client_secret_sends_nothing(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """A target written before the spec check existed (or behind it) cannot read the variable."""
    genesys = "the-genesys-client-secret"
    target = {
        "type": "servicenow",
        "url": sink.url,
        "auth": "bearer",
        "secretEnv": "GENESYSCLOUD_OAUTHCLIENT_SECRET",
    }
    message_id = queue(target=target)

    environ = {"GENESYSCLOUD_OAUTHCLIENT_SECRET": genesys}
    async with make_dispatcher(environ=environ, allow_private=True) as dispatcher:
        result = await dispatcher.run_once()

    stored = message(store, message_id)
    assert (result.dead, stored.status) == (1, "dead")
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in (stored.last_error or "")
    assert "GCWM_ITSM_" in (stored.last_error or "")
    assert genesys not in (stored.last_error or "")
    assert sink.sink.received() == []


async def test_a_name_neither_gcwm_itsm_nor_listed_sends_nothing_and_a_listed_one_is_read(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """The dispatcher's secret source applies the policy file's itsmSecretEnv list, as the check does."""
    refused = queue(itsm=webhook_itsm(f"{sink.url}/webhook", secretEnv="HOOK_KEY"))
    async with make_dispatcher(environ={"HOOK_KEY": SECRET}, allow_private=True) as dispatcher:
        await dispatcher.run_once()
    assert message(store, refused).status == "dead"
    assert sink.sink.received() == []

    listed = queue(itsm=webhook_itsm(f"{sink.url}/webhook", secretEnv="HOOK_KEY"))
    secrets = SecretSource(environ={"HOOK_KEY": SECRET}, allowed=["HOOK_KEY"])
    async with make_dispatcher(secrets=secrets, allow_private=True) as dispatcher:
        await dispatcher.run_once()
    assert message(store, listed).status == "delivered"


async def test_the_secrets_directory_serves_itsm_files_and_never_the_variable_named_file(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher, tmp_path: Path
) -> None:
    """GCWM_ITSM_WEBHOOK_SECRET is read from itsm-webhook-secret; a file named like a Genesys
    variable (how GCWM_SECRETS_DIR holds the client secret) is out of reach."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "itsm-webhook-secret").write_text(SECRET + "\n")
    (secrets_dir / "GENESYSCLOUD_OAUTHCLIENT_SECRET").write_text("the-genesys-client-secret\n")
    (secrets_dir / "GCWM_ITSM_WEBHOOK_SECRET").write_text("not-read-by-this-name\n")

    delivered = queue(itsm=webhook_itsm(f"{sink.url}/webhook", secretEnv="GCWM_ITSM_WEBHOOK_SECRET"))
    stolen = queue(
        target={
            "type": "webhook",
            "url": f"{sink.url}/webhook",
            "secretEnv": "GENESYSCLOUD_OAUTHCLIENT_SECRET",
        }
    )
    source = SecretSource(directory=secrets_dir, environ={})
    async with make_dispatcher(secrets=source, allow_private=True) as dispatcher:
        await dispatcher.run_due()

    assert message(store, delivered).status == "delivered"
    assert message(store, stolen).status == "dead"
    (received,) = sink.sink.received()
    assert received.verified is True
