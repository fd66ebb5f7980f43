"""Typed calls for every Genesys Cloud operation gcwm uses; one method per operation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ValidationError

from gcwm.genesys.errors import bad_answer
from gcwm.genesys.models import (
    ExpandableWebDeploymentEntityListing,
    Flow,
    FlowEntityListing,
    Limit,
    LimitsEntityListing,
    Queue,
    QueueEntityListing,
    SupportedContent,
    SupportedContentListing,
    TokenInfo,
    WebDeployment,
    WebDeploymentConfigurationVersion,
    WebDeploymentConfigurationVersionEntityListing,
    WireModel,
)
from gcwm.genesys.transport import GenesysTransport

M = TypeVar("M", bound=BaseModel)

_QUEUES = "/api/v2/routing/queues"
_FLOWS = "/api/v2/flows"
_LIMITS = "/api/v2/organizations/limits/namespaces"
_CONFIGS = "/api/v2/webdeployments/configurations"
_DEPLOYMENTS = "/api/v2/webdeployments/deployments"
_PROFILES = "/api/v2/conversations/messaging/supportedcontent"
_PAGE_SIZE = 100  # numbered listings (queues, flows)
# Cursor listings of web deployment objects: "Defaults to 300" in the SDK; asked for explicitly.
_CURSOR_PAGE_SIZE = 300


class GenesysClient:
    """Genesys Cloud Platform API v2, the part gcwm needs, over one transport."""

    def __init__(self, transport: GenesysTransport) -> None:
        self.transport = transport

    async def aclose(self) -> None:
        await self.transport.aclose()

    # -- organisation ------------------------------------------------------------------------
    async def token_info(self) -> TokenInfo:
        """`GET /api/v2/tokens/me`: the organisation (and OAuth client) behind our token."""
        return await self._get(TokenInfo, "/api/v2/tokens/me")

    async def limits(self, namespace: str) -> list[Limit]:
        """The organisation's limits in one namespace (e.g. `web.deployments`)."""
        listing = await self._get(
            LimitsEntityListing, f"{_LIMITS}/{namespace}", op=f"GET {_LIMITS}/{{namespaceName}}"
        )
        return listing.entities

    # -- routing and architect ---------------------------------------------------------------
    async def get_queue(self, queue_id: str) -> Queue:
        return await self._get(Queue, f"{_QUEUES}/{queue_id}", op=f"GET {_QUEUES}/{{queueId}}")

    async def find_queues(self, name: str) -> list[Queue]:
        """Queues whose name matches exactly (Genesys matches case-insensitively)."""
        listing = await self._get(QueueEntityListing, _QUEUES, params={"name": name, "pageSize": _PAGE_SIZE})
        return [q for q in listing.entities if q.name.casefold() == name.casefold()]

    async def queue_page(self, page_number: int, *, ids: list[str] | None = None) -> QueueEntityListing:
        """One page of the org's queues (sorted by name), optionally only those with these ids."""
        params: dict[str, Any] = {"pageSize": _PAGE_SIZE, "pageNumber": page_number}
        if ids:
            params["id"] = ids
        return await self._get(QueueEntityListing, _QUEUES, params=params)

    async def get_flow(self, flow_id: str) -> Flow:
        return await self._get(Flow, f"{_FLOWS}/{flow_id}", op=f"GET {_FLOWS}/{{flowId}}")

    async def find_flows(self, name: str) -> list[Flow]:
        """Inbound Message flows whose name matches exactly."""
        listing = await self._get(
            FlowEntityListing,
            _FLOWS,
            params={"type": _MESSAGE_FLOW_FILTER, "name": name, "pageSize": _PAGE_SIZE},
        )
        return [f for f in listing.entities if f.name.casefold() == name.casefold()]

    async def list_message_flows(self) -> list[Flow]:
        """Every Inbound Message flow of the org, all pages."""
        flows: list[Flow] = []
        number = 1
        while True:
            params = {"type": _MESSAGE_FLOW_FILTER, "pageSize": _PAGE_SIZE, "pageNumber": number}
            page = await self._get(FlowEntityListing, _FLOWS, params=params)
            flows.extend(page.entities)
            if not page.entities or number >= (page.page_count or 1):
                return flows
            number += 1

    # -- web deployment configurations -------------------------------------------------------
    async def create_configuration(
        self, body: WebDeploymentConfigurationVersion
    ) -> WebDeploymentConfigurationVersion:
        """Create a configuration; the answer is its draft (`version` "DRAFT", status Pending).

        Not re-sent when the answer is lost: the caller looks it up first."""
        return await self._send(
            WebDeploymentConfigurationVersion,
            "POST",
            _CONFIGS,
            body=body,
            resend_unknown=False,
            names_fresh_objects=True,
        )

    async def get_configuration_draft(self, configuration_id: str) -> WebDeploymentConfigurationVersion:
        # The draft is "DRAFT" in bodies but "draft" in the path (shared/genesys/README.md).
        return await self._get(
            WebDeploymentConfigurationVersion,
            f"{_CONFIGS}/{configuration_id}/versions/draft",
            op=f"GET {_CONFIGS}/{{configurationId}}/versions/draft",
        )

    async def get_configuration_version(
        self, configuration_id: str, version: str
    ) -> WebDeploymentConfigurationVersion:
        return await self._get(
            WebDeploymentConfigurationVersion,
            f"{_CONFIGS}/{configuration_id}/versions/{version}",
            op=f"GET {_CONFIGS}/{{configurationId}}/versions/{{versionId}}",
        )

    async def list_configuration_versions(
        self, configuration_id: str
    ) -> list[WebDeploymentConfigurationVersion]:
        """The draft and every published version of one configuration."""
        op = f"GET {_CONFIGS}/{{configurationId}}/versions"
        path = f"{_CONFIGS}/{configuration_id}/versions"
        listing = WebDeploymentConfigurationVersionEntityListing
        return [v async for v in self._pages(listing, path, op, {})]

    async def list_configurations(self) -> list[WebDeploymentConfigurationVersion]:
        """Every configuration of the org, as its DRAFT: "View configuration drafts" in every SDK.

        The listing never shows a published version, so it cannot say which version is live or what
        it holds: `list_configuration_versions` does (shared/genesys/README.md, "Corrections")."""
        listing = WebDeploymentConfigurationVersionEntityListing
        return [c async for c in self._pages(listing, _CONFIGS, f"GET {_CONFIGS}", {})]

    async def update_configuration_draft(
        self, configuration_id: str, body: WebDeploymentConfigurationVersion
    ) -> WebDeploymentConfigurationVersion:
        return await self._send(
            WebDeploymentConfigurationVersion,
            "PUT",
            f"{_CONFIGS}/{configuration_id}/versions/draft",
            op=f"PUT {_CONFIGS}/{{configurationId}}/versions/draft",
            body=body,
            names_fresh_objects=True,
        )

    async def publish_configuration_draft(self, configuration_id: str) -> WebDeploymentConfigurationVersion:
        """Publish the (Active) draft as the next numbered version. Not re-sent blind."""
        return await self._send(
            WebDeploymentConfigurationVersion,
            "POST",
            f"{_CONFIGS}/{configuration_id}/versions/draft/publish",
            op=f"POST {_CONFIGS}/{{configurationId}}/versions/draft/publish",
            resend_unknown=False,
            names_fresh_objects=True,
        )

    async def delete_configuration(self, configuration_id: str) -> None:
        """Not re-sent when the answer is lost: the caller sends it again, knowing a 404 then may mean
        its own DELETE went through (not that the object was gone before)."""
        await self.transport.request(
            "DELETE",
            f"{_CONFIGS}/{configuration_id}",
            operation=f"DELETE {_CONFIGS}/{{configurationId}}",
            resend_unknown=False,
        )

    # -- web deployments ---------------------------------------------------------------------
    async def create_deployment(self, body: WebDeployment) -> WebDeployment:
        """Create a deployment (status Pending). Not re-sent when the answer is lost."""
        return await self._send(
            WebDeployment, "POST", _DEPLOYMENTS, body=body, resend_unknown=False, names_fresh_objects=True
        )

    async def get_deployment(self, deployment_id: str) -> WebDeployment:
        return await self._get(
            WebDeployment,
            f"{_DEPLOYMENTS}/{deployment_id}",
            op=f"GET {_DEPLOYMENTS}/{{deploymentId}}",
        )

    async def list_deployments(self) -> list[WebDeployment]:
        """Every web deployment of the organisation, all pages."""
        listing = ExpandableWebDeploymentEntityListing
        return [d async for d in self._pages(listing, _DEPLOYMENTS, f"GET {_DEPLOYMENTS}", {})]

    async def update_deployment(self, deployment_id: str, body: WebDeployment) -> WebDeployment:
        return await self._send(
            WebDeployment,
            "PUT",
            f"{_DEPLOYMENTS}/{deployment_id}",
            op=f"PUT {_DEPLOYMENTS}/{{deploymentId}}",
            body=body,
            names_fresh_objects=True,
        )

    async def delete_deployment(self, deployment_id: str) -> None:
        """Not re-sent when the answer is lost (as `delete_configuration`)."""
        await self.transport.request(
            "DELETE",
            f"{_DEPLOYMENTS}/{deployment_id}",
            operation=f"DELETE {_DEPLOYMENTS}/{{deploymentId}}",
            resend_unknown=False,
        )

    # -- supported content profiles ----------------------------------------------------------
    async def list_supported_content(self) -> list[SupportedContent]:
        """Every supported content profile of the org (numbered pages, as the provider reads them)."""
        profiles: list[SupportedContent] = []
        number = 1
        while True:
            params = {"pageSize": _PAGE_SIZE, "pageNumber": number}
            page = await self._get(SupportedContentListing, _PROFILES, params=params)
            profiles.extend(page.entities)
            if not page.entities or number >= (page.page_count or 1):
                return profiles
            number += 1

    async def create_supported_content(self, body: SupportedContent) -> SupportedContent:
        """Create a profile. Not re-sent when the answer is lost: the caller looks it up by name first."""
        return await self._send(SupportedContent, "POST", _PROFILES, body=body, resend_unknown=False)

    async def get_supported_content(self, profile_id: str) -> SupportedContent:
        return await self._get(
            SupportedContent,
            f"{_PROFILES}/{profile_id}",
            op=f"GET {_PROFILES}/{{supportedContentId}}",
        )

    async def update_supported_content(self, profile_id: str, body: SupportedContent) -> SupportedContent:
        """Change a profile in place (Genesys's update is a PATCH, as the provider sends it)."""
        return await self._send(
            SupportedContent,
            "PATCH",
            f"{_PROFILES}/{profile_id}",
            op=f"PATCH {_PROFILES}/{{supportedContentId}}",
            body=body,
        )

    async def delete_supported_content(self, profile_id: str) -> None:
        """Not re-sent when the answer is lost (as `delete_configuration`)."""
        await self.transport.request(
            "DELETE",
            f"{_PROFILES}/{profile_id}",
            operation=f"DELETE {_PROFILES}/{{supportedContentId}}",
            resend_unknown=False,
        )

    # -- plumbing ----------------------------------------------------------------------------
    async def _get(
        self,
        model: type[M],
        path: str,
        *,
        op: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> M:
        return await self._send(model, "GET", path, op=op, params=params)

    async def _send(
        self,
        model: type[M],
        method: str,
        path: str,
        *,
        op: str | None = None,
        params: dict[str, Any] | None = None,
        body: WireModel | None = None,
        resend_unknown: bool = True,
        names_fresh_objects: bool = False,
    ) -> M:
        """One operation whose answer is a `model`: send, retry as allowed, validate the answer.

        `names_fresh_objects`: a write that may name an object made seconds before (a configuration,
        a published version), which Genesys can refuse with a 400 that clears by itself."""
        operation = op or f"{method} {path}"
        response = await self.transport.request(
            method,
            path,
            operation=operation,
            params=params,
            json=None if body is None else body.dump(),
            resend_unknown=resend_unknown,
            names_fresh_objects=names_fresh_objects,
        )
        try:
            return model.model_validate(response.json())
        except ValueError as exc:  # JSONDecodeError and pydantic's ValidationError both derive from it
            problem = _first_problem(exc)
            raise bad_answer(operation, response, f"expected a {model.__name__}: {problem}") from exc

    async def _pages(
        self, listing: type[Any], path: str, op: str, query: dict[str, Any]
    ) -> AsyncIterator[Any]:
        """Follow `nextUri` until the last page (cursor listings carry no page count)."""
        params: dict[str, Any] | None = {**query, "pageSize": _CURSOR_PAGE_SIZE}
        seen: set[str] = set()
        while True:
            page = await self._get(listing, path, op=op, params=params)
            for entity in page.entities:
                yield entity
            next_uri = page.next_uri
            if not next_uri or next_uri in seen or not page.entities:
                return
            seen.add(next_uri)
            parts = urlsplit(next_uri)
            path = parts.path or path
            params = dict(parse_qsl(parts.query))


_MESSAGE_FLOW_FILTER = "inboundshortmessage"  # the `type` filter is lower case on the wire


def _first_problem(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the body"
        return f"{where}: {first['msg']}"
    return "not JSON"
