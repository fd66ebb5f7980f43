"""ChannelRepository: desired specs per org and name, and the ids provisioning recorded."""

from __future__ import annotations

import pytest

from gcwm.errors import StoreError
from gcwm.store import Store

SPEC = {"name": "support", "allowedDomains": ["example.com"]}


def test_upsert_creates_a_pending_channel(store: Store) -> None:
    """A new desired channel starts pending, with no Genesys ids yet."""
    with store.unit_of_work() as tx:
        channel = tx.channels.upsert_desired("org-1", "support", "support", SPEC, "hash-1")

    assert (channel.org_id, channel.name, channel.spec, channel.spec_hash) == (
        "org-1",
        "support",
        SPEC,
        "hash-1",
    )
    assert channel.status == "pending"
    assert (channel.configuration_id, channel.deployment_id, channel.snippet) == (None, None, None)
    assert store.get_channel("org-1", "support") == channel


def test_upsert_again_changes_the_spec_and_keeps_ids_and_status(store: Store) -> None:
    """Updating the desired spec keeps the row, its ids and its status."""
    with store.unit_of_work() as tx:
        created = tx.channels.upsert_desired("org-1", "support", "support", SPEC, "hash-1")
        tx.channels.record_ids("org-1", "support", configuration_id="cfg-1", status="active")

    with store.unit_of_work() as tx:
        updated = tx.channels.upsert_desired(
            "org-1", "support", "support", {**SPEC, "headless": True}, "hash-2"
        )

    assert updated.id == created.id
    assert (updated.spec_hash, updated.spec["headless"]) == ("hash-2", True)
    assert (updated.configuration_id, updated.status) == ("cfg-1", "active")
    assert updated.created_at == created.created_at
    assert updated.updated_at >= created.updated_at


def test_record_ids_changes_only_the_fields_given(store: Store) -> None:
    """Fields not passed keep their values; None passed explicitly clears one."""
    with store.unit_of_work() as tx:
        tx.channels.upsert_desired("org-1", "support", "support", SPEC, "hash-1")
        tx.channels.record_ids(
            "org-1",
            "support",
            configuration_id="cfg-1",
            configuration_version="1",
            snippet="<script>…</script>",
        )

    with store.unit_of_work() as tx:
        channel = tx.channels.record_ids(
            "org-1", "support", deployment_id="dep-1", deployment_status="Pending", snippet=None
        )

    assert (channel.configuration_id, channel.configuration_version) == ("cfg-1", "1")
    assert (channel.deployment_id, channel.deployment_status) == ("dep-1", "Pending")
    assert channel.snippet is None
    assert channel.status == "pending"
    assert store.get_channel("org-1", "support") == channel


def test_record_ids_for_an_unknown_channel_is_a_store_error(store: Store) -> None:
    """Ids are recorded only for a channel whose desired spec is stored."""
    with pytest.raises(StoreError, match=r"no such channel"), store.unit_of_work() as tx:
        tx.channels.record_ids("org-1", "ghost", deployment_id="dep-1")


def test_removed_channel_desired_again_is_pending(store: Store) -> None:
    """mark_removed sets removed; a later upsert revives the channel as pending."""
    with store.unit_of_work() as tx:
        tx.channels.upsert_desired("org-1", "support", "support", SPEC, "hash-1")
        tx.channels.record_ids("org-1", "support", deployment_id="dep-1", status="active")
        tx.channels.mark_removed("org-1", "support")
        tx.channels.mark_removed("org-1", "never-existed")

    removed = store.get_channel("org-1", "support")
    assert removed is not None
    assert (removed.status, removed.deployment_id) == ("removed", "dep-1")

    with store.unit_of_work() as tx:
        assert tx.channels.upsert_desired("org-1", "support", "support", SPEC, "hash-1").status == "pending"


def test_channels_are_unique_per_org_and_name(store: Store) -> None:
    """The same name in two orgs is two channels; list() orders by org and name."""
    with store.unit_of_work() as tx:
        tx.channels.upsert_desired("org-2", "support", "support", SPEC, "h")
        tx.channels.upsert_desired("org-1", "sales", "sales", SPEC, "h")
        tx.channels.upsert_desired("org-1", "support", "support", SPEC, "h")
        tx.channels.upsert_desired("org-1", "support", "support", SPEC, "h")

    assert [(c.org_id, c.name) for c in store.list_channels()] == [
        ("org-1", "sales"),
        ("org-1", "support"),
        ("org-2", "support"),
    ]
    assert [c.name for c in store.list_channels("org-2")] == ["support"]
    assert store.get_channel("org-3", "support") is None


def test_sessions_recorded_sum_the_specs_of_channels_not_removed_in_the_database(store: Store) -> None:
    """One number from the database (JSON read there, on SQLite and PostgreSQL alike); a spec
    without the field takes none, a removed channel none, another org's none."""
    with store.unit_of_work() as tx:
        for org, key, spec in (
            ("org-1", "a", {**SPEC, "maxConcurrentSessions": 30}),
            ("org-1", "b", {**SPEC, "maxConcurrentSessions": 20}),
            ("org-1", "c", SPEC),
            ("org-1", "gone", {**SPEC, "maxConcurrentSessions": 500}),
            ("org-2", "a", {**SPEC, "maxConcurrentSessions": 7}),
        ):
            tx.channels.upsert_desired(org, key, key, spec, "h")
        tx.channels.mark_removed("org-1", "gone")
    assert store.sessions_recorded("org-1") == 50
    assert store.sessions_recorded("org-3") == 0
    assert sorted(c.name_key for c in store.channels_of("org-1", ["a", "gone", "missing"])) == ["a", "gone"]


def test_upsert_keeps_the_proposed_csp_unless_a_new_one_is_given(store: Store) -> None:
    with store.unit_of_work() as tx:
        tx.channels.upsert_desired(
            "org-1", "support", "support", SPEC, "h", proposed_csp="default-src 'self'"
        )
    with store.unit_of_work() as tx:
        kept = tx.channels.upsert_desired("org-1", "support", "support", SPEC, "h")
    with store.unit_of_work() as tx:
        replaced = tx.channels.upsert_desired(
            "org-1", "Support", "support", SPEC, "h", proposed_csp="img-src *"
        )
    assert kept.proposed_csp == "default-src 'self'"
    assert (replaced.proposed_csp, replaced.name) == ("img-src *", "Support")
