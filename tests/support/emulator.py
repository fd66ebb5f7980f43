"""A running emulator for gcwm's tests, with its admin API (faults, stats) over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

import tests.support.http as test_http
from gcwm.emulator import EmulatorConfig


@dataclass
class RunningEmulator:
    """The emulator's URL and config, and calls to its `/emulator/` admin API."""

    url: str
    config: EmulatorConfig

    def _admin(self, method: str, path: str, json: Any = None) -> Any:
        response = test_http.request(method, f"{self.url}/emulator/{path}", json=json)
        response.raise_for_status()
        return response.json() if response.content else None

    def add_fault(
        self,
        method: str,
        path: str,
        fault: str,
        *,
        count: int = 1,
        retry_after_s: int = 1,
        latency_ms: float = 0,
    ) -> None:
        """The next `count` requests matching method and path (a regex) get `fault`."""
        rule = {
            "method": method,
            "path": path,
            "fault": fault,
            "count": count,
            "retry_after_s": retry_after_s,
            "latency_ms": latency_ms,
        }
        self._admin("POST", "faults/rules", rule)

    def break_deployment(self, deployment_id: str) -> None:
        """Put a deployment in status Error, as Genesys can."""
        self._admin("POST", f"deployments/{deployment_id}/error")

    def clear_rules(self) -> None:
        """Drop every targeted fault rule still pending."""
        self._admin("DELETE", "faults/rules")

    def set_limits(self, limits: dict[str, int]) -> None:
        """The org's enforced limits, by their Genesys names (e.g. web.deployments.configuration.max)."""
        self._admin("PUT", "limits", limits)

    def set_faults(self, **rates: Any) -> None:
        self._admin("PUT", "faults", rates)

    def delayed_requests(self) -> int:
        """Requests waiting out a latency rule, not carried out yet."""
        return int(self.stats()["delayedRequests"])

    def release_held(self) -> int:
        """Send every held answer and let every delayed request through; how many there were."""
        return int(self._admin("POST", "faults/held/release")["released"])

    def expire_tokens(self) -> None:
        self._admin("POST", "tokens/expire")

    def stats(self) -> dict[str, Any]:
        return self._admin("GET", "stats")  # type: ignore[no-any-return]

    def held_answers(self) -> int:
        """How many committed writes' answers a `commit_then_delay` rule is holding back right now."""
        return int(self.stats()["heldAnswers"])

    def calls(self, operation: str) -> int:
        """How many requests the emulator answered for 'METHOD /path' (ids as in the path)."""
        return int(self.stats().get("byOperation", {}).get(operation, 0))

    def deployments(self) -> list[dict[str, Any]]:
        """Every live web deployment in the emulated org, through the public API."""
        return self._list("/api/v2/webdeployments/deployments")

    def configurations(self) -> list[dict[str, Any]]:
        return self._list("/api/v2/webdeployments/configurations")

    def delete(self, path: str) -> None:
        """Delete an object behind gcwm's back, as a person in the Genesys admin UI would."""
        self.api("DELETE", path)

    def api(self, method: str, path: str, json: Any = None) -> Any:
        """One call of the public API with a token of its own: an edit behind gcwm's back."""
        with test_http.client(base_url=self.url, timeout=10) as http:
            answer = http.request(method, path, json=json, headers=self._auth(http))
            answer.raise_for_status()
            return answer.json() if answer.content else None

    def profiles(self) -> list[dict[str, Any]]:
        """Every supported content profile (the org's default included)."""
        listing = self.api("GET", "/api/v2/conversations/messaging/supportedcontent?pageSize=100")
        return list(listing["entities"])

    def _auth(self, http: httpx.Client) -> dict[str, str]:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(self.config.client_id, self.config.client_secret),
        ).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def _list(self, path: str) -> list[dict[str, Any]]:
        with test_http.client(base_url=self.url, timeout=10) as http:
            headers = self._auth(http)
            out: list[dict[str, Any]] = []
            params: dict[str, Any] | None = {"pageSize": 100}
            next_path: str | None = path
            while next_path:
                page = http.get(next_path, params=params, headers=headers)
                page.raise_for_status()
                body = page.json()
                out.extend(body.get("entities", []))
                # nextUri carries its own query; httpx would replace it with `params`.
                next_path, params = body.get("nextUri"), None
            return [o for o in out if o.get("status") != "Deleting"]
