"""The one error tree of gcwm.

Everything gcwm raises on purpose derives from ``GcwmError``; the CLI and the service turn it into a
message and an exit code in one place each. No error ever carries a secret.

    GcwmError                         exit_code, message that says what and where
      SpecError                       source file, field path, problem
      ConfigError                     a setting or environment variable is wrong
        PolicyFileError               the local policy file (GCWM_POLICY_FILE) cannot be used
      DomainError                     an allowed domain is not one gcwm accepts (says why)
      CspError                        a Content-Security-Policy cannot be read at all
      PolicyViolation                 findings that block provisioning (file, channel, field each)
        LimitExceeded                 a licence, capacity or policy limit: key, value, in use, asked
      ProvisioningError               a step could not complete (names channel and step)
      JobError                        a job cannot be found, resumed or cancelled
      NotPermitted                    the caller's role may not do that (HTTP 403)
        JobNotFound                   no job with that id (also a NotFound)
      NotFound                        what a request names does not exist (HTTP 404)
        ChannelNotFound               no channel of that name in the org
      StoreError                      the database could not be read or written
      GenesysError                    operation, status, code, context_id
        GenesysTransportError         no answer (connect error, reset, timeout): outcome unknown
        GenesysAuthError              401 / 403, or the login itself failed
        GenesysBadRequest             400 (Genesys's message passed through)
        GenesysNotFound               404
        GenesysConflict               409
        GenesysRateLimited            429, retry_after_s
        GenesysUnavailable            502 / 503 / 504
        GenesysServerError            500 and other 5xx (retried on reads only)
        GenesysBadAnswer              2xx whose body is not the documented model (or not JSON)

``is_transient`` is the one judge of a passing failure: 429 (after Retry-After), 502/503/504 on any
call, 500 and other 5xx but 501 on reads (as the official Go SDK retries them), a 400 on a write
that names an object made seconds before while its retry window lasts (the Terraform provider retries
those 30 s), no answer at all, or the database (shared/genesys/README.md, "Corrections"). The
transport retries the Genesys ones call by call; a job that still meets one is queued again. A
create whose outcome is unknown is looked up before it is sent again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass


class GcwmError(Exception):
    """Base of every error gcwm raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        """The error as the fields `--output json` prints."""
        return {"error": type(self).__name__, "message": self.message}


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong in a spec file: where (file, channel, field path; the YAML line of the field
    when the spec was read from text) and what."""

    source: str
    location: str
    problem: str
    line: int | None = None

    def __str__(self) -> str:
        head = f"{self.source}:{self.line}" if self.line is not None else self.source
        where = f"{head}: {self.location}" if self.location else head
        return f"{where}: {self.problem}"

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "location": self.location, "problem": self.problem, "line": self.line}


class SpecError(GcwmError):
    """A channel spec could not be read or is not valid."""

    exit_code = 2

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def to_dict(self) -> dict[str, object]:
        return {
            "error": "SpecError",
            "message": self.message,
            "problems": [p.to_dict() for p in self.problems],
        }


class ConfigError(GcwmError):
    """A setting (environment variable or flag) is missing or wrong."""

    exit_code = 2


class PolicyFileError(ConfigError):
    """The local policy file (GCWM_POLICY_FILE) is missing, unreadable or not valid."""


class DomainError(GcwmError):
    """An entry of allowedDomains that gcwm refuses; the message says what is wrong with it."""

    exit_code = 2


class CspError(GcwmError):
    """Text that cannot be read as a Content-Security-Policy at all (not a finding about one)."""

    exit_code = 2


@dataclass(frozen=True)
class Finding:
    """One thing a policy check found: which check, where, how bad, and what it means.

    `source` and `channel` say which spec file and channel it is about (empty for a policy or
    domain checked on its own); `location` is the field or CSP directive."""

    check: str
    severity: str  # high | syntax | medium | low | info
    location: str
    description: str
    source: str = ""
    channel: str = ""

    def __str__(self) -> str:
        where = ": ".join(
            p for p in (self.source, f"channel {self.channel!r}" if self.channel else "", self.location) if p
        )
        return (
            f"{where}: [{self.severity}] {self.description}"
            if where
            else f"[{self.severity}] {self.description}"
        )

    def to_dict(self) -> dict[str, str]:
        out = {"check": self.check, "severity": self.severity, "location": self.location}
        out["description"] = self.description
        if self.source:
            out["source"] = self.source
        if self.channel:
            out["channel"] = self.channel
        return out


class PolicyViolation(GcwmError):
    """What blocks provisioning, every finding listed; nothing was written."""

    exit_code = 3

    def __init__(self, findings: Sequence[Finding], message: str | None = None) -> None:
        self.findings = list(findings)
        super().__init__(message or refusal_verdict(self.findings))

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "findings": [f.to_dict() for f in self.findings]}


def refusal_verdict(findings: Sequence[Finding], *, verb: str = "provision refused") -> str:
    """The one line that opens a refusal: how many findings block, over how many channels, and that
    nothing was written. The findings themselves are listed once each, apart from it."""
    channels = {f.channel for f in findings if f.channel}
    org = sum(1 for f in findings if not f.channel)
    count = f"{len(findings)} blocking finding{'' if len(findings) == 1 else 's'}"
    parts = []
    if channels:
        parts.append(f"{len(channels)} channel{'' if len(channels) == 1 else 's'}")
    if org:
        parts.append(f"{org} about the whole file or org")
    spread = f" ({', '.join(parts)})" if parts else ""
    written = "nothing would be written" if "would" in verb else "nothing was written"
    return f"{verb}: {count}{spread}; {written}"


class LimitExceeded(PolicyViolation):
    """A plan would go past a limit: the org's (namespace.key) or the local policy's (policy key)."""


class ProvisioningError(GcwmError):
    """A channel could not be provisioned; names the channel and the step."""

    exit_code = 3

    def __init__(self, message: str, *, channel: str = "", step: str = "") -> None:
        super().__init__(message)
        self.channel = channel
        self.step = step

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "channel": self.channel, "step": self.step}


class JobError(GcwmError):
    """A job cannot be found, resumed or cancelled."""

    exit_code = 4


class NotPermitted(GcwmError):
    """The caller's role may not do this (an operator resuming an admin's delete)."""

    exit_code = 1

    def __init__(self, message: str, *, required: str) -> None:
        super().__init__(message)
        self.required = required

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "required": self.required}


class NotFound(GcwmError):
    """Something named by id or name does not exist (the HTTP API answers 404)."""


class JobNotFound(JobError, NotFound):
    """No job has this id (or unique id prefix), or the prefix is ambiguous."""


class ChannelNotFound(NotFound):
    """No channel of this name in the org's store (never provisioned, or destroyed already)."""

    def __init__(self, message: str, *, channel: str = "") -> None:
        super().__init__(message)
        self.channel = channel

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "channel": self.channel}


class StoreError(GcwmError):
    """The database could not be reached, migrated, read or written."""

    exit_code = 5


class GenesysError(GcwmError):
    """Genesys Cloud answered with an error, or did not answer at all."""

    exit_code = 6

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        status: int = 0,
        code: str = "",
        context_id: str = "",
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.status = status
        self.code = code
        self.context_id = context_id

    def to_dict(self) -> dict[str, object]:
        return {
            **super().to_dict(),
            "operation": self.operation,
            "status": self.status,
            "code": self.code,
            "contextId": self.context_id,
        }


class GenesysTransportError(GenesysError):
    """No answer came back (connect error, reset, timeout): a write may or may not have happened."""

    #: False only when the request never left (connect failure): then a create is safe to resend.
    request_sent: bool = True


class GenesysAuthError(GenesysError):
    """401 or 403, or the OAuth login itself was refused."""


class GenesysBadRequest(GenesysError):
    """400: Genesys refused the request; its message says why.

    `retry_until` (time.monotonic()) is set on a write that may name an object made seconds before:
    until then the refusal may clear by itself. Nothing was written either way."""

    retry_until: float | None = None
    #: The request would break an organisation limit (`limit` in the body): that never clears by itself.
    limit_broken: bool = False


class GenesysNotFound(GenesysError):
    """404: the object does not exist (or not yet: read-after-write)."""


class GenesysConflict(GenesysError):
    """409: the object changed or is in use."""


class GenesysRateLimited(GenesysError):
    """429: the rate limit was hit; Genesys says how long to wait."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float,
        operation: str = "",
        status: int = 429,
        code: str = "",
        context_id: str = "",
    ) -> None:
        super().__init__(message, operation=operation, status=status, code=code, context_id=context_id)
        self.retry_after_s = retry_after_s


class GenesysUnavailable(GenesysError):
    """502, 503 or 504: a passing fault on Genesys's side."""


class GenesysServerError(GenesysError):
    """500 or another 5xx that Genesys does not call transient; a write may have happened."""


class GenesysBadAnswer(GenesysError):
    """A 2xx answer gcwm cannot read: the call was carried out, but its result is unknown."""


def is_transient(exc: BaseException) -> bool:
    """True for a failure that may well pass if the same work is tried again later.

    429 and 502/503/504 on any call, a 5xx other than 501 on a read, a 400 inside its retry window
    (`GenesysBadRequest.retry_until`), no answer, and a database hiccup (module docstring).
    Everything else is a refusal or a bug.
    """
    if isinstance(exc, GenesysServerError):
        return exc.operation.startswith("GET ") and exc.status != 501
    if isinstance(exc, GenesysBadRequest):
        return exc.retry_until is not None and time.monotonic() < exc.retry_until
    return isinstance(exc, (GenesysRateLimited, GenesysUnavailable, GenesysTransportError, StoreError))
