"""Jira Service Management: one customer request per event, in the channel's service desk and
request type (`itsm.serviceDeskId`, `itsm.requestTypeId`).

JSM has no idempotency key (research §2.2). The marker is `gcwm-<message id>` at the end of the
request's summary, and before every create gcwm searches the same API for it:
`GET /rest/servicedeskapi/request?serviceDeskId=..&requestTypeId=..&searchTerm=<marker>&
requestStatus=ALL_REQUESTS` (searchTerm matches the summary; ALL_REQUESTS so a closed request still
counts). A hit whose summary holds the marker exactly is the request an earlier attempt made.
Why the summary and not a label or an issue property: labels are accepted only if the request type
shows that field, and issue properties are searchable only when an app declares them; the summary is
on every request type and searchable through the service desk API the integration already uses.
verify: how soon a new request is found by searchTerm (index lag) on Jira Cloud
(https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/#api-rest-servicedeskapi-request-get).
"""

from __future__ import annotations

import json
from typing import Any

from gcwm.notify.delivery import Delivered, DeliveryError
from gcwm.notify.ssrf import GuardedClient
from gcwm.notify.targets import Target, basic_header, describe_event, user_and_password
from gcwm.store.outbox import OutboxMessage

REQUEST_PATH = "/rest/servicedeskapi/request"
_JSON = {"accept": "application/json", "content-type": "application/json"}


def marker(message_id: str) -> str:
    """The idempotency marker written into (and searched for in) the request's summary."""
    return f"gcwm-{message_id}"


def request_body(message: OutboxMessage, target: Target) -> dict[str, Any]:
    """The RequestCreate document: desk, type, and summary (ending with the marker) and description."""
    summary, description = describe_event(message)
    return {
        "serviceDeskId": target.service_desk_id,
        "requestTypeId": target.request_type_id,
        "requestFieldValues": {"summary": f"{summary} [{marker(message.id)}]", "description": description},
    }


async def send_jira(http: GuardedClient, message: OutboxMessage, target: Target, secret: str) -> Delivered:
    """Find the request by its marker, or create it; Delivered with its issue key."""
    name = target.secret_env or "secretEnv"
    if target.auth == "basic":
        authorization = basic_header(*user_and_password(secret, name, "email:api_token"))
    else:
        authorization = f"Bearer {secret}"
    headers = {**_JSON, "authorization": authorization}
    url = f"{target.url.rstrip('/')}{REQUEST_PATH}"
    tag = marker(message.id)
    params = {
        "serviceDeskId": target.service_desk_id or "",
        "requestTypeId": target.request_type_id or "",
        "searchTerm": tag,
        "requestStatus": "ALL_REQUESTS",
        "limit": "10",
    }
    found = await http.request("GET", url, headers=headers, params=params)
    if not found.is_success:
        raise found.failure(f"GET {url}")
    for request in found.json_object(f"GET {url}").get("values") or []:
        if isinstance(request, dict) and tag in _summary(request):
            return Delivered(external_ref=str(request.get("issueKey") or "") or None, status=found.status)
    body = json.dumps(request_body(message, target)).encode()
    created = await http.request("POST", url, headers=headers, content=body)
    if not created.is_success:
        raise created.failure(f"POST {url}")
    # A 2xx means the request exists; a body gcwm cannot read only loses its key.
    try:
        key = created.json_object(f"POST {url}").get("issueKey")
    except DeliveryError:
        key = None
    return Delivered(external_ref=str(key) if key else None, status=created.status)


def _summary(request: dict[str, Any]) -> str:
    # A CustomerRequest lists its fields as [{fieldId, label, value}].
    for field in request.get("requestFieldValues") or []:
        if isinstance(field, dict) and field.get("fieldId") == "summary":
            return str(field.get("value") or "")
    return ""
