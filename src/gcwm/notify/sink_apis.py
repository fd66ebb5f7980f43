"""The ServiceNow- and Jira-shaped half of gcwm's ITSM sink, in memory.

ServiceNow: the Table API (`GET`/`POST /api/now/table/{table}`, `GET`/`PATCH .../{sys_id}`, answers in
`{"result": ...}`, 401 `User Not Authenticated` without credentials) and `POST /oauth_token.do`
(client credentials). Jira Service Management: `POST /rest/servicedeskapi/request` and its search by
`searchTerm` (summary contains). Basic credentials pass whatever they are; bearer tokens must be ones
this sink issued. Every call is handed to `record` (the sink's log of arrivals) as it comes in.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Kind = Literal["webhook", "servicenow", "jira", "oauth"]
Record = Callable[[Kind, Request, str], Awaitable[None]]
_NUMBER_PREFIX = {"change_request": "CHG", "incident": "INC", "problem": "PRB", "sc_request": "REQ"}


class ItsmApis:
    """ServiceNow records and Jira requests kept in memory, and the handlers that answer like them."""

    def __init__(self, record: Record) -> None:
        self._record = record
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._requests: list[dict[str, Any]] = []
        self._tokens: set[str] = set()

    def records(self, table: str) -> list[dict[str, Any]]:
        """ServiceNow records of a table, in creation order."""
        with self._lock:
            return [dict(r) for r in self._records.get(table, {}).values()]

    def jira_requests(self) -> list[dict[str, Any]]:
        """Jira customer requests, in creation order."""
        with self._lock:
            return [dict(r) for r in self._requests]

    async def oauth_token(self, request: Request) -> Response:
        # Parsed here: Starlette's request.form() needs python-multipart, which gcwm does not ship.
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        await self._record("oauth", request, "")
        if form.get("grant_type") != "client_credentials" or not form.get("client_id"):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": 1799, "scope": "useraccount"}
        )

    async def sn_list(self, request: Request) -> Response:
        refused = await self._authenticate(request, "servicenow")
        if refused is not None:
            return refused
        table = request.path_params["table"]
        conditions = [c.partition("=") for c in request.query_params.get("sysparm_query", "").split("^") if c]
        limit = int(request.query_params.get("sysparm_limit") or 10000)
        with self._lock:
            rows = [
                dict(r)
                for r in self._records.get(table, {}).values()
                if all(str(r.get(name, "")) == value for name, _, value in conditions)
            ]
        return JSONResponse({"result": rows[:limit]})

    async def sn_create(self, request: Request) -> Response:
        refused = await self._authenticate(request, "servicenow")
        if refused is not None:
            return refused
        table = request.path_params["table"]
        fields = await json_body(request)
        if fields is None:
            return _sn_error(
                400, "Exception while reading request", "Cannot decode: the body is not a JSON object"
            )
        with self._lock:
            records = self._records.setdefault(table, {})
            record = {
                **{k: str(v) for k, v in fields.items()},
                "sys_id": uuid.uuid4().hex,
                "number": f"{_NUMBER_PREFIX.get(table, 'REC')}{len(records) + 1:07d}",
            }
            records[record["sys_id"]] = record
        return JSONResponse(
            {"result": record},
            status_code=201,
            headers={"location": f"/api/now/table/{table}/{record['sys_id']}"},
        )

    async def sn_get(self, request: Request) -> Response:
        refused = await self._authenticate(request, "servicenow")
        if refused is not None:
            return refused
        record = self._sn_record(request)
        if record is None:
            return _sn_error(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        return JSONResponse({"result": record})

    async def sn_update(self, request: Request) -> Response:
        refused = await self._authenticate(request, "servicenow")
        if refused is not None:
            return refused
        fields = await json_body(request)
        if fields is None:
            return _sn_error(
                400, "Exception while reading request", "Cannot decode: the body is not a JSON object"
            )
        table, sys_id = request.path_params["table"], request.path_params["sys_id"]
        with self._lock:
            record = self._records.get(table, {}).get(sys_id)
            if record is not None:
                record.update({k: str(v) for k, v in fields.items() if k not in ("sys_id", "number")})
                record = dict(record)
        if record is None:
            return _sn_error(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        return JSONResponse({"result": record})

    def _sn_record(self, request: Request) -> dict[str, Any] | None:
        with self._lock:
            record = self._records.get(request.path_params["table"], {}).get(request.path_params["sys_id"])
            return None if record is None else dict(record)

    async def jira_create(self, request: Request) -> Response:
        refused = await self._authenticate(request, "jira")
        if refused is not None:
            return refused
        document = await json_body(request)
        values = document.get("requestFieldValues") if document else None
        if not document or not isinstance(values, dict) or not values.get("summary"):
            return JSONResponse({"errorMessage": "requestFieldValues.summary is required"}, status_code=400)
        if not document.get("serviceDeskId") or not document.get("requestTypeId"):
            return JSONResponse(
                {"errorMessage": "serviceDeskId and requestTypeId are required"}, status_code=400
            )
        with self._lock:
            number = len(self._requests) + 1
            created = {
                "issueId": str(10000 + number),
                "issueKey": f"GCWM-{number}",
                "serviceDeskId": str(document["serviceDeskId"]),
                "requestTypeId": str(document["requestTypeId"]),
                "requestFieldValues": [
                    {"fieldId": k, "label": k.capitalize(), "value": v} for k, v in values.items()
                ],
                "currentStatus": {"status": "Waiting for support", "statusCategory": "NEW"},
            }
            self._requests.append(created)
        return JSONResponse(created, status_code=201)

    async def jira_search(self, request: Request) -> Response:
        refused = await self._authenticate(request, "jira")
        if refused is not None:
            return refused
        query = request.query_params
        term = query.get("searchTerm", "").casefold()
        limit = int(query.get("limit") or 50)
        with self._lock:
            found = [
                dict(r)
                for r in self._requests
                if query.get("serviceDeskId", r["serviceDeskId"]) == r["serviceDeskId"]
                and query.get("requestTypeId", r["requestTypeId"]) == r["requestTypeId"]
                and term in _jira_summary(r).casefold()
            ]
        page = found[:limit]
        return JSONResponse(
            {"size": len(page), "start": 0, "limit": limit, "isLastPage": len(found) <= limit, "values": page}
        )

    async def _authenticate(self, request: Request, kind: Kind) -> Response | None:
        """Record the call; a 401 shaped like the product's if it carries no usable credentials."""
        authorization = request.headers.get("authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        with self._lock:
            ok = (scheme.lower() == "basic" and bool(credentials)) or (
                scheme.lower() == "bearer" and credentials in self._tokens
            )
        await self._record(kind, request, "" if ok else "refused: no valid credentials")
        if ok:
            return None
        if kind == "servicenow":
            return _sn_error(401, "User Not Authenticated", "Required to provide Auth information")
        return JSONResponse(
            {"errorMessage": "Client must be authenticated to access this resource."}, status_code=401
        )


def _sn_error(status: int, message: str, detail: str) -> Response:
    return JSONResponse(
        {"error": {"message": message, "detail": detail}, "status": "failure"}, status_code=status
    )


def _jira_summary(request: dict[str, Any]) -> str:
    for value in request["requestFieldValues"]:
        if value["fieldId"] == "summary":
            return str(value["value"])
    return ""


async def json_body(request: Request) -> dict[str, Any] | None:
    try:
        document = json.loads(await request.body())
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
