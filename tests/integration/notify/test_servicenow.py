"""ServiceNow through the Table API against the sink: one record per event, found again by its
correlation_id when an answer was lost; basic and OAuth credentials."""

from __future__ import annotations

import json

from gcwm.notify import EmbeddedSink, Fault
from gcwm.store import Store
from tests.integration.notify.conftest import MakeDispatcher, Queue, message

CREDENTIALS = {"GCWM_ITSM_SN_CREDENTIALS": "gcwm.integration:s3cret"}


def servicenow_target(url: str, **overrides: str) -> dict[str, str]:
    return {"type": "servicenow", "url": url, "secretEnv": "GCWM_ITSM_SN_CREDENTIALS", **overrides}


async def test_a_create_whose_answer_was_lost_ends_with_one_record_not_two(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """The POST is done but its answer never comes; the retry finds the record and updates it."""
    message_id = queue(target=servicenow_target(sink.url, table="incident"))
    sink.sink.add_fault(Fault(mode="lose_answer", method="POST", path="/api/now/table/incident"))

    async with make_dispatcher(environ=CREDENTIALS) as dispatcher:
        first = await dispatcher.run_once()
        second = await dispatcher.run_once()

    (record,) = sink.sink.records("incident")
    stored = message(store, message_id)
    assert (first.retried, second.delivered) == (1, 1)
    assert (stored.status, stored.external_ref) == ("delivered", record["sys_id"])
    assert record["correlation_id"] == message_id and record["correlation_display"] == "gcwm"
    assert record["number"].startswith("INC")
    assert "no answer within" in (stored.last_error or "")
    calls = [(r.method, r.path.split("?")[0]) for r in sink.sink.received("servicenow")]
    assert calls == [
        ("GET", "/api/now/table/incident"),
        ("POST", "/api/now/table/incident"),
        ("GET", "/api/now/table/incident"),
        ("PATCH", f"/api/now/table/incident/{record['sys_id']}"),
    ]


async def test_a_change_request_carries_what_happened_and_is_made_once(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """The default table is change_request; the description holds the payload; basic auth is sent."""
    message_id = queue(target=servicenow_target(sink.url), channel="support-web")

    async with make_dispatcher(environ=CREDENTIALS) as dispatcher:
        await dispatcher.run_once()

    (record,) = sink.sink.records("change_request")
    assert record["number"].startswith("CHG")
    assert record["short_description"] == "gcwm: web messaging channel support-web provisioned (created)"
    assert message_id in record["description"]
    payload = json.loads(record["description"].split("\n\n", 1)[1])
    assert payload["data"]["channel"] == "support-web"
    get = sink.sink.received("servicenow")[0]
    assert get.path.endswith(
        f"sysparm_query=correlation_id%3D{message_id}&sysparm_limit=1&sysparm_fields=sys_id%2Cnumber"
    )
    assert message(store, message_id).external_ref == record["sys_id"]


async def test_oauth_client_credentials_are_exchanged_for_a_token_once(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """`auth: oauth` gets a bearer token at /oauth_token.do and reuses it for every call."""
    ids = [queue(target=servicenow_target(sink.url, auth="oauth")) for _ in range(2)]

    async with make_dispatcher(environ={"GCWM_ITSM_SN_CREDENTIALS": "client-id:client-secret"}) as dispatcher:
        await dispatcher.run_once()
        await dispatcher.run_once(ids)

    assert {message(store, i).status for i in ids} == {"delivered"}
    assert len(sink.sink.received("oauth")) == 1
    assert len(sink.sink.records("change_request")) == 2


async def test_credentials_the_instance_refuses_dead_letter_at_once(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """A 401 from the Table API is final: the same credentials would be refused again."""
    message_id = queue(target=servicenow_target(sink.url, auth="bearer"))

    async with make_dispatcher(
        environ={"GCWM_ITSM_SN_CREDENTIALS": "a-token-the-sink-never-issued"}
    ) as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert stored.status == "dead"
    assert "answered 401" in (stored.last_error or "") and "User Not Authenticated" in (
        stored.last_error or ""
    )
    assert "a-token-the-sink-never-issued" not in (stored.last_error or "")


async def test_basic_credentials_without_a_colon_dead_letter_naming_the_variable(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """`user:password` is the documented shape; anything else is a configuration error."""
    message_id = queue(target=servicenow_target(sink.url))

    async with make_dispatcher(environ={"GCWM_ITSM_SN_CREDENTIALS": "justoneword"}) as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert stored.status == "dead"
    assert stored.last_error == (
        "the secret in GCWM_ITSM_SN_CREDENTIALS must be user:password (two parts joined by ':')"
    )
    assert sink.sink.received() == []
