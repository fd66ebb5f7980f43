"""A faithful small re-creation of the seed's provisioning algorithm, for comparison only.

What the seed did (issue 3): every call tried 3 times with a fixed 1/2/4 s backoff whatever the
failure, `Retry-After` ignored, no idempotency (a create whose answer was lost is simply sent again),
no pacing, and nothing kept across a crash. Not part of gcwm; never imported by it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

_BACKOFF_S = (1.0, 2.0, 4.0)


@dataclass
class SeedStats:
    calls: int = 0
    http429: int = 0
    failed_channels: list[str] = field(default_factory=list)


class SeedProvisioner:
    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self._auth = (client_id, client_secret)
        self._token = ""
        self.stats = SeedStats()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _login(self) -> None:
        response = await self._http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=self._auth
        )
        response.raise_for_status()
        self._token = response.json()["access_token"]

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        last: Exception | None = None
        for attempt in range(3):
            try:
                self.stats.calls += 1
                response = await self._http.request(
                    method, path, headers={"Authorization": f"Bearer {self._token}"}, **kwargs
                )
                if response.status_code == 429:
                    self.stats.http429 += 1
                response.raise_for_status()
                return response.json() if response.content else {}
            except httpx.HTTPError as exc:  # the seed retried everything the same way
                last = exc
                await asyncio.sleep(_BACKOFF_S[attempt])
        assert last is not None
        raise last

    async def _wait_active(self, path: str) -> dict[str, Any]:
        for _ in range(120):
            body = await self._call("GET", path)
            if body.get("status") == "Active":
                return body
            await asyncio.sleep(0.5)
        raise TimeoutError(path)

    async def provision(self, channel: dict[str, Any]) -> None:
        name = channel["name"]
        try:
            await self._call("GET", "/api/v2/routing/queues", params={"name": channel["routingQueue"]})
            flows = await self._call(
                "GET",
                "/api/v2/flows",
                params={"type": "inboundshortmessage", "name": channel["inboundMessageFlow"]},
            )
            flow_id = flows["entities"][0]["id"]
            config = await self._call(
                "POST",
                "/api/v2/webdeployments/configurations",
                json={
                    "name": name,
                    "languages": ["en-us"],
                    "defaultLanguage": "en-us",
                    "messenger": {"enabled": True, "styles": {"primaryColor": "#FF4F1F"}},
                },
            )
            base = f"/api/v2/webdeployments/configurations/{config['id']}"
            await self._wait_active(f"{base}/versions/draft")
            published = await self._call("POST", f"{base}/versions/draft/publish")
            deployment = await self._call(
                "POST",
                "/api/v2/webdeployments/deployments",
                json={
                    "name": name,
                    "allowAllDomains": False,
                    "allowedDomains": channel["allowedDomains"],
                    "configuration": {"id": config["id"], "version": published["version"]},
                    "flow": {"id": flow_id},
                },
            )
            await self._wait_active(f"/api/v2/webdeployments/deployments/{deployment['id']}")
        except (httpx.HTTPError, TimeoutError, KeyError, IndexError):
            self.stats.failed_channels.append(name)

    async def run(self, channels: list[dict[str, Any]], concurrency: int) -> None:
        await self._login()
        gate = asyncio.Semaphore(concurrency)

        async def one(channel: dict[str, Any]) -> None:
            async with gate:
                await self.provision(channel)

        await asyncio.gather(*(one(c) for c in channels))
