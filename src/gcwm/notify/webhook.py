"""A generic webhook, signed per Standard Webhooks 1.0 with the `standardwebhooks` package.

Headers: `webhook-id` (the message id, the same on every retry: the receiver's idempotency key),
`webhook-timestamp` (Unix seconds of this attempt, from this host's clock, as receivers check it
against theirs within +-5 minutes) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
`id.timestamp.body` under the `whsec_` key). The body is the stored payload, byte for byte.
Any 2xx is delivered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from math import floor

from standardwebhooks import Webhook

from gcwm.notify.delivery import Delivered
from gcwm.notify.ssrf import GuardedClient
from gcwm.notify.targets import Target, signing_key
from gcwm.store.outbox import OutboxMessage


def signed_headers(message_id: str, payload: str, secret: str, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt at time `at` (aware UTC)."""
    signature = Webhook(secret).sign(message_id, at, payload)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": signature,
    }


async def send_webhook(http: GuardedClient, message: OutboxMessage, target: Target, secret: str) -> Delivered:
    """POST the payload, signed; Delivered on a 2xx, else the answer's DeliveryError."""
    key = signing_key(secret, target.secret_env or "secretEnv")
    headers = {"content-type": "application/json", **signed_headers(message.id, message.payload, key, _now())}
    answer = await http.request("POST", target.url, headers=headers, content=message.payload.encode())
    if answer.is_success:
        return Delivered(status=answer.status)
    raise answer.failure(f"POST {target.url}")


def _now() -> datetime:
    return datetime.now(UTC)
