"""Where a message goes and with which credentials: the target stored with it, read back and checked,
the secret looked up by name, and the words a ticket is written with.

Secrets come only from the environment variable the channel names (`secretEnv`), or from its file
in the secrets directory (GCWM_SECRETS_DIR: how Docker and Kubernetes mount secrets, one file per
secret). The name must be one a spec may use (gcwm.policy.itsm_secret_refusal: `GCWM_ITSM_*`, or
listed by the policy file's itsmSecretEnv; never `GCWM_*` or `GENESYSCLOUD_*`), checked here again at
delivery, so a target stored some other way still cannot read gcwm's own secrets. A variable's file
is `itsm-` and its name without `GCWM_ITSM_`, lower case, `_` as `-` (`GCWM_ITSM_WEBHOOK_SECRET`:
`itsm-webhook-secret`; a listed `SNOW_CREDENTIALS`: `itsm-snow-credentials`), so the directory's
other files (the Genesys client secret's among them) are out of reach. What the variable holds
depends on the target:

- webhook: the signing key, `whsec_` and the base64 of 24 to 64 random bytes (Standard Webhooks);
- servicenow, `auth: basic` (default): `user:password`; `auth: oauth`: `client_id:client_secret`,
  exchanged at the instance's /oauth_token.do (client-credentials grant) for a bearer token;
  `auth: bearer`: a token sent as is;
- jira, `auth: basic` (default): `email:api_token` (Jira Cloud); `auth: bearer`: a personal access
  token (Jira Data Center). Jira Cloud's OAuth 2.0 needs a user's consent, so it is not offered.

`gcwm plan` and `gcwm provision` refuse, before any write, a target whose secret is not set where
they run or cannot be right (`SecretSource.problem`), and a ServiceNow target that does not say how it
signs in (`itsm.auth`). A message whose secret is missing at delivery, or cannot be right (wrong
shape), can never succeed by waiting: it is dead-lettered at once, saying why (`gcwm notify retry`
sends it again once the secret is set). Only a secret file that exists but cannot be read is retried.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gcwm.notify.delivery import DeliveryError
from gcwm.policy import itsm_secret_refusal
from gcwm.policy.rules import ITSM_SECRET_PREFIX
from gcwm.store.outbox import OutboxMessage

TargetType = Literal["webhook", "servicenow", "jira"]
AuthKind = Literal["basic", "oauth", "bearer"]
_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_TABLE = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
DEFAULT_TABLE = "change_request"


def _final(message: str) -> DeliveryError:
    return DeliveryError(message, final=True)


@dataclass(frozen=True)
class Target:
    """A message's target, as the channel's `itsm:` said when the event was queued."""

    type: TargetType
    url: str
    secret_env: str | None
    auth: AuthKind = "basic"
    table: str = DEFAULT_TABLE
    service_desk_id: str | None = None
    request_type_id: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Target:
        """Read a stored target; a DeliveryError (final) says what is missing or wrong."""
        kind = data.get("type")
        if kind not in ("webhook", "servicenow", "jira"):
            raise _final(f"unknown ITSM target type {kind!r}; expected webhook, servicenow or jira")
        url = str(data.get("url") or "")
        if not url:
            raise _final(f"the {kind} target has no url")
        auth = data.get("auth", "basic")
        if auth not in ("basic", "oauth", "bearer"):
            raise _final(f"itsm.auth {auth!r} is not basic, oauth or bearer")
        if kind == "jira" and auth == "oauth":
            raise _final("itsm.auth oauth is not offered for jira: use basic (email:api_token) or bearer")
        table = str(data.get("table") or DEFAULT_TABLE)
        if not _TABLE.match(table):
            raise _final(f"itsm.table {table!r} is not a ServiceNow table name (like change_request)")
        desk, request_type = data.get("serviceDeskId"), data.get("requestTypeId")
        if kind == "jira" and not (desk and request_type):
            raise _final("a jira target needs itsm.serviceDeskId and itsm.requestTypeId")
        return cls(
            type=kind,
            url=url,
            secret_env=data.get("secretEnv"),
            auth=auth,
            table=table,
            service_desk_id=str(desk) if desk else None,
            request_type_id=str(request_type) if request_type else None,
        )


def secret_file_name(name: str) -> str:
    """The file in GCWM_SECRETS_DIR that holds the secret of variable `name` (see above)."""
    return "itsm-" + name.removeprefix(ITSM_SECRET_PREFIX).lower().replace("_", "-")


class SecretSource:
    """Secrets by variable name: the environment first, then the name's `itsm-*` file in `directory`;
    `allowed` is the policy file's itsmSecretEnv (names besides GCWM_ITSM_* one may read)."""

    def __init__(
        self,
        *,
        directory: Path | None = None,
        environ: Mapping[str, str] | None = None,
        allowed: Collection[str] = (),
    ) -> None:
        self._directory = directory
        self._environ = os.environ if environ is None else environ
        self._allowed = frozenset(allowed)

    def get(self, name: str | None, *, target: str) -> str:
        """The secret named `name` for `target` (its description, for messages); never logged.

        A DeliveryError says why not: final (dead-letter now) when the name is not one a spec may
        use or nothing holds it; retried only when its file exists but cannot be read."""
        if not name:
            raise _final(f"{target}: the channel's itsm has no secretEnv naming the variable with its secret")
        if not _NAME.match(name):
            raise _final(f"{target}: secretEnv {name!r} is not a variable name (A-Z, 0-9, _)")
        if refusal := itsm_secret_refusal(name, self._allowed):
            raise _final(f"{target}: secretEnv {refusal}")
        try:
            value = self._lookup(name)
        except OSError as exc:
            msg = f"{target}: cannot read the secret file {self._path(name)} ({exc.strerror})"
            raise DeliveryError(msg, local=True) from exc
        if not value:
            msg = f"{target}: {self._unset(name)}; set it, then `gcwm notify retry` sends the message again"
            raise _final(msg)
        return value

    def problem(self, name: str, *, kind: TargetType, auth: AuthKind | None) -> str | None:
        """Why a target of `kind` (signing in with `auth`) could never use the secret `name` here: not
        set (nor its file), or not of the shape the target needs; None if it can. Never shows it."""
        try:
            value = self._lookup(name)
        except OSError as exc:
            return f"cannot read the secret file {self._path(name)} ({exc.strerror})"
        if not value:
            return self._unset(name)
        try:
            if kind == "webhook":
                signing_key(value, name)
            elif auth in (None, "basic"):
                user_and_password(value, name, "email:api_token" if kind == "jira" else "user:password")
            elif auth == "oauth":
                user_and_password(value, name, "client_id:client_secret")
        except DeliveryError as exc:
            return exc.message
        return None

    def _path(self, name: str) -> Path | None:
        return self._directory / secret_file_name(name) if self._directory is not None else None

    def _lookup(self, name: str) -> str | None:
        """The variable's value, else its file's (stripped); None if neither holds one. OSError if the
        file exists but cannot be read."""
        value = self._environ.get(name)
        path = self._path(name)
        if not value and path is not None:
            try:
                value = path.read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                value = None
        return value or None

    def _unset(self, name: str) -> str:
        path = self._path(name)
        where = f", nor is there a file {path}" if path is not None else " (nor is GCWM_SECRETS_DIR set)"
        return f"the variable {name} named by secretEnv is not set where gcwm runs{where}"


def signing_key(secret: str, name: str) -> str:
    """Check a Standard Webhooks key (`whsec_` + base64 of 24-64 bytes) without showing it."""
    if not secret.startswith("whsec_"):
        raise _final(f"the secret in {name} is not a Standard Webhooks key: it must start with whsec_")
    try:
        raw = base64.b64decode(secret.removeprefix("whsec_") + "==", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise _final(f"the secret in {name} is not whsec_ followed by base64") from exc
    if not 24 <= len(raw) <= 64:
        raise _final(f"the key in {name} is {len(raw)} bytes; Standard Webhooks keys are 24 to 64 bytes")
    return secret


def user_and_password(secret: str, name: str, what: str) -> tuple[str, str]:
    """`a:b` split at the first colon; a final error naming the variable (never the value) if not."""
    user, colon, password = secret.partition(":")
    if not (user and colon and password):
        raise _final(f"the secret in {name} must be {what} (two parts joined by ':')")
    return user, password


def basic_header(user: str, password: str) -> str:
    """An HTTP Basic `authorization` value (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def describe_event(message: OutboxMessage) -> tuple[str, str]:
    """A ticket's summary line and its description (what happened, then the payload as sent)."""
    try:
        document = json.loads(message.payload)
        data = document.get("data", {})
    except (ValueError, AttributeError):
        data = {}
    if message.event_type == "audit.checkpoint":
        return _describe_checkpoint(message, data)
    verb = message.event_type.removeprefix("channel.")
    outcome = data.get("outcome")
    summary = f"gcwm: web messaging channel {message.channel} {verb}"
    if outcome and outcome != verb:
        summary += f" ({outcome})"
    lines = [
        f"Genesys Cloud web messaging channel {message.channel!r} in org {message.org_id}: {verb}.",
        f"Event {message.event_type}, id {message.id}, audit entry {message.audit_seq}.",
        "",
        json.dumps(json.loads(message.payload), indent=2, ensure_ascii=False) if data else message.payload,
    ]
    return summary[:200], "\n".join(lines)


def _describe_checkpoint(message: OutboxMessage, data: dict[str, Any]) -> tuple[str, str]:
    """A signed audit head (gcwm.notify.witness): the ticket is the copy kept outside gcwm."""
    found = data.get("head")
    head: dict[str, Any] = found if isinstance(found, dict) else {}
    summary = f"gcwm: audit log head signed at seq {head.get('seq')} ({data.get('database')})"
    lines = [
        f"gcwm signed the head of its audit log on {data.get('database')} at seq {head.get('seq')}.",
        "Keep this record: `gcwm audit verify --head FILE`, FILE holding the payload below, checks that",
        "the log still extends this head (entries removed or rewritten since would fail).",
        "",
        message.payload,
    ]
    return summary[:200], "\n".join(lines)
