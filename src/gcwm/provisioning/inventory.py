"""What an org already holds that gcwm made, found through the markers in descriptions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TypeVar

from gcwm.genesys import GenesysClient
from gcwm.genesys.models import WebDeployment, WebDeploymentConfigurationVersion
from gcwm.provisioning.mapping import channel_key, read_marker

_T = TypeVar("_T", WebDeployment, WebDeploymentConfigurationVersion)


@dataclass
class ManagedObjects:
    """gcwm-made configurations and deployments, by channel key."""

    configurations: dict[str, list[WebDeploymentConfigurationVersion]] = field(default_factory=dict)
    deployments: dict[str, list[WebDeployment]] = field(default_factory=dict)


class OrgInventory:
    """Lists the org's web messaging objects and indexes those gcwm made.

    `snapshot()` is read once per worker and shared by its jobs (a bulk run must not list the
    org 500 times); `fresh_*` always asks again, for the look-up after a lost create answer.
    """

    def __init__(self, client: GenesysClient) -> None:
        self._client = client
        self._snapshot: ManagedObjects | None = None
        self._lock = asyncio.Lock()

    async def snapshot(self) -> ManagedObjects:
        async with self._lock:
            if self._snapshot is None:
                self._snapshot = ManagedObjects(
                    configurations=_index(await self._client.list_configurations()),
                    deployments=_index(await self._client.list_deployments()),
                )
            return self._snapshot

    async def fresh_configurations(self, channel: str) -> list[WebDeploymentConfigurationVersion]:
        return _index(await self._client.list_configurations()).get(channel_key(channel), [])

    async def fresh_deployments(self, channel: str) -> list[WebDeployment]:
        return _index(await self._client.list_deployments()).get(channel_key(channel), [])


def _index(objects: list[_T]) -> dict[str, list[_T]]:
    out: dict[str, list[_T]] = {}
    for obj in objects:
        if obj.status == "Deleting":
            continue  # on its way out: neither ours to adopt nor a twin to avoid
        marker = read_marker(obj.description)
        if marker is not None:
            out.setdefault(marker.channel, []).append(obj)
    return out
