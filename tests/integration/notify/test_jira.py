"""Jira Service Management against the sink: a customer request per event, in the configured desk and
request type, never made twice: the summary's marker is searched for before every create."""

from __future__ import annotations

from gcwm.notify import EmbeddedSink, Fault
from gcwm.store import Store
from tests.integration.notify.conftest import MakeDispatcher, Queue, message

TOKEN = {"GCWM_ITSM_JIRA_TOKEN": "bot@example.com:api-token"}


def jira_target(url: str, **overrides: str) -> dict[str, str]:
    return {
        "type": "jira",
        "url": url,
        "secretEnv": "GCWM_ITSM_JIRA_TOKEN",
        "serviceDeskId": "5",
        "requestTypeId": "20",
        **overrides,
    }


async def test_a_create_whose_answer_was_lost_is_found_not_made_again(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """The request was made but its answer lost; the retry finds it by its marker."""
    message_id = queue(target=jira_target(sink.url), event_type="channel.failed")
    sink.sink.add_fault(Fault(mode="lose_answer", method="POST", path="/rest/servicedeskapi/request"))

    async with make_dispatcher(environ=TOKEN) as dispatcher:
        first = await dispatcher.run_once()
        second = await dispatcher.run_once()

    (request,) = sink.sink.jira_requests()
    stored = message(store, message_id)
    assert (first.retried, second.delivered) == (1, 1)
    assert (stored.status, stored.external_ref) == ("delivered", request["issueKey"])
    methods = [r.method for r in sink.sink.received("jira")]
    assert methods == ["GET", "POST", "GET"]


async def test_the_request_goes_to_the_configured_desk_and_type_with_the_marker(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """serviceDeskId, requestTypeId, a summary ending with the marker, and the event described."""
    message_id = queue(target=jira_target(sink.url), channel="sales-web")

    async with make_dispatcher(environ=TOKEN) as dispatcher:
        await dispatcher.run_once()

    (request,) = sink.sink.jira_requests()
    fields = {f["fieldId"]: f["value"] for f in request["requestFieldValues"]}
    assert (request["serviceDeskId"], request["requestTypeId"]) == ("5", "20")
    assert (
        fields["summary"]
        == f"gcwm: web messaging channel sales-web provisioned (created) [gcwm-{message_id}]"
    )
    assert message_id in fields["description"]
    search = sink.sink.received("jira")[0]
    assert f"searchTerm=gcwm-{message_id}" in search.path and "requestStatus=ALL_REQUESTS" in search.path
    assert message(store, message_id).external_ref == "GCWM-1"


async def test_another_events_request_is_not_taken_for_this_one(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """Two events of one channel make two requests: each marker matches only its own."""
    ids = [queue(target=jira_target(sink.url), channel="web") for _ in range(2)]

    async with make_dispatcher(environ=TOKEN) as dispatcher:
        await dispatcher.run_once()

    refs = {message(store, i).external_ref for i in ids}
    assert refs == {"GCWM-1", "GCWM-2"}


async def test_a_target_without_desk_or_request_type_dead_letters_saying_what_is_missing(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """serviceDeskId and requestTypeId are required for jira; nothing is sent without them."""
    message_id = queue(target={"type": "jira", "url": sink.url, "secretEnv": "GCWM_ITSM_JIRA_TOKEN"})

    async with make_dispatcher(environ=TOKEN) as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert (stored.status, stored.last_error) == (
        "dead",
        "a jira target needs itsm.serviceDeskId and itsm.requestTypeId",
    )
    assert sink.sink.received() == []
