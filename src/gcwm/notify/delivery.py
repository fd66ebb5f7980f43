"""What one delivery attempt ends in: delivered (with the record it made), or a DeliveryError that
says what went wrong, whether it is final (dead-letter now) and how long the target asked us to wait.

Every sender (webhook, ServiceNow, Jira) answers in these terms, so the dispatcher has one place
that turns an attempt into "delivered", "try again at ..." or "dead".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gcwm.errors import GcwmError
from gcwm.notify.replies import reply_excerpt
from gcwm.notify.schedule import is_final, retry_after_seconds


class DeliveryError(GcwmError):
    """A notification could not be delivered this time; `final` means never try it again, `local`
    that gcwm's own configuration (a secret file it cannot read) failed it, which no wait in this
    process mends.
    `reply` is the start of what the target answered, cleaned (replies.py): kept apart from the
    message, because only admins may see it."""

    exit_code = 7

    def __init__(
        self,
        message: str,
        *,
        final: bool = False,
        retry_after_s: float | None = None,
        local: bool = False,
        reply: str = "",
    ) -> None:
        super().__init__(message)
        self.final = final
        self.retry_after_s = retry_after_s
        self.local = local
        self.reply = reply


class TargetRefused(DeliveryError):
    """The target URL (or where it resolves or redirects to) is one gcwm does not send to."""

    def __init__(self, message: str) -> None:
        super().__init__(message, final=True)


@dataclass(frozen=True)
class Delivered:
    """The target accepted the notification; `external_ref` is the record it made (sys_id, key)."""

    external_ref: str | None = None
    status: int = 200


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as the guarded client read it: status, lower-case headers, at most the capped
    number of body bytes, and, for a redirect, why it was not followed."""

    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool = False
    redirect_note: str = ""

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def json_object(self, what: str) -> dict[str, Any]:
        """The body as a JSON object; a DeliveryError (retried) if it is not one."""
        try:
            document = json.loads(self.body)
        except ValueError as exc:
            cut = " (cut at the size cap)" if self.truncated else ""
            msg = f"{what} answered {self.status} with a body that is not JSON{cut}"
            raise DeliveryError(msg) from exc
        if not isinstance(document, dict):
            msg = f"{what} answered {self.status} with JSON that is not an object"
            raise DeliveryError(msg)
        return document

    def failure(self, what: str) -> DeliveryError:
        """The DeliveryError for this (non-2xx) answer to `what` ("POST https://..."), final or not."""
        if 300 <= self.status < 400:
            where = self.headers.get("location", "")
            note = f" ({self.redirect_note})" if self.redirect_note else ""
            msg = f"{what} answered {self.status} redirect to {where or 'nowhere'}{note}"
            msg += "; redirects are not followed"
            return TargetRefused(msg) if self.redirect_note else DeliveryError(msg, final=True)
        msg = f"{what} answered {self.status}"
        if is_final(self.status):
            msg += f" (a {self.status} is not retried)"
        return DeliveryError(
            msg,
            final=is_final(self.status),
            retry_after_s=retry_after_seconds(self.headers),
            reply=reply_excerpt(self.body),
        )
