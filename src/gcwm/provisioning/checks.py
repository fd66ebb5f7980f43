"""Every policy check of one channel before any write: XSS protection, allowed domains, what visitors
see, the ITSM target and secret, and the Content-Security-Policy gcwm proposes for the site that
embeds it.

The checks themselves are pure (gcwm.policy); this module gathers a channel's findings with the
spec file and channel they are about, and builds the policy it proposes: for `cspMode: narrow` a
nonce policy with `'strict-dynamic'` and exactly the hosts Messenger needs (plus the hosts of the
channel's logo and bot avatar); for `template`, Genesys's published template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import httpx

from gcwm.errors import DomainError, Finding, SpecError, SpecProblem
from gcwm.notify import address_refusal, classify_host
from gcwm.policy import (
    LocalPolicy,
    check_text,
    check_url,
    itsm_secret_refusal,
    normalize_domain,
    url_origin,
)
from gcwm.policy.csp import NONCE_PLACEHOLDER, Policy, merge, parse, strict_base
from gcwm.policy.csp_checks import evaluate
from gcwm.spec import ChannelSpec

if TYPE_CHECKING:
    from gcwm.notify import SecretSource

Needs = dict[str, list[str]]


@dataclass(frozen=True)
class ChannelChecks:
    """What the checks found for one channel, and the policy gcwm proposes for its site."""

    channel: str
    csp: str
    findings: list[Finding] = field(default_factory=list)

    def blocking(self, policy: LocalPolicy) -> list[Finding]:
        return [f for f in self.findings if f.severity in policy.blocking_severities]


@dataclass(frozen=True)
class SiteNeeds:
    """What Messenger needs in the embedding site's CSP, for each mode gcwm can propose."""

    narrow: Needs
    template: Needs


def check_channel(spec: ChannelSpec, *, source: str, policy: LocalPolicy, needs: SiteNeeds) -> ChannelChecks:
    """Every finding about one channel, each naming the spec file, the channel and the field.

    Raises SpecError when `itsm.secretEnv` names a variable the policy does not let a spec read."""
    check_secret_env(spec, source=source, policy=policy)
    found: list[Finding] = []
    if not spec.security.sanitize_html:
        found.append(
            Finding(
                "xss_protection_off",
                "high",
                "security.sanitizeHtml",
                "gcwm always sanitises what visitors see; it cannot be turned off (remove the field)",
            )
        )
    required = policy.required_csp_mode
    if required and spec.security.csp_mode != required:
        said = f"the local policy requires cspMode {required!r}, not {spec.security.csp_mode!r}"
        found.append(Finding("csp_mode_not_allowed", "high", "security.cspMode", said))
    if spec.security.allow_all_domains:
        found.append(
            Finding(
                "all_domains_allowed",
                "medium",
                "security.allowAllDomains",
                "any website can embed this channel; list the sites in allowedDomains instead",
            )
        )
    for index, entry in enumerate(spec.allowed_domains):
        try:
            normalize_domain(entry, allow_ip=policy.allow_ip_domains)
        except DomainError as exc:
            found.append(Finding("domain_invalid", "high", f"allowedDomains[{index}]", exc.message))
    found += _visitor_text(spec)
    found += _attachments(spec)
    found += _itsm_target(spec, policy)
    proposed = proposed_policy(spec, needs)
    found += [replace(f, location=f"csp {f.location}".strip()) for f in evaluate(proposed)]
    return ChannelChecks(
        spec.name, proposed.serialize(), [replace(f, source=source, channel=spec.name) for f in found]
    )


def check_secret_env(spec: ChannelSpec, *, source: str, policy: LocalPolicy) -> None:
    """A SpecError naming `itsm.secretEnv` unless it is a GCWM_ITSM_* variable or one the policy file
    lists (itsmSecretEnv): its value goes to a URL the spec's author chose (issue 23, item 1)."""
    name = spec.itsm.secret_env if spec.itsm is not None else None
    if name is None:
        return
    refusal = itsm_secret_refusal(name, policy.itsm_secret_env)
    if refusal is not None:
        where = f"channel {spec.name!r}: itsm.secretEnv"
        raise SpecError([SpecProblem(source, where, refusal)])


def itsm_problems(
    specs: Sequence[ChannelSpec], *, source: str, policy: LocalPolicy, secrets: SecretSource | None
) -> list[SpecProblem]:
    """What in the batch's `itsm:` settings could only fail at delivery, hours later, as spec
    problems naming the field, every channel's at once: a secretEnv a spec may not name; a ServiceNow
    target that does not say how it signs in (`auth`); with `secrets` (where this process reads
    them), a secret that is not set, or not of the shape its target needs."""
    out = []
    for spec in specs:
        itsm = spec.itsm
        if itsm is None or itsm.secret_env is None:
            continue
        where = f"channel {spec.name!r}: itsm"  # location and field as the spec's own problems have them
        if refusal := itsm_secret_refusal(itsm.secret_env, policy.itsm_secret_env):
            out.append(SpecProblem(source, f"{where}.secretEnv", refusal))
            continue
        if itsm.type == "servicenow" and itsm.auth is None:
            said = (
                "a servicenow target must say how gcwm signs in: basic (the secret is user:password), "
                "oauth (client_id:client_secret) or bearer (a token)"
            )
            out.append(SpecProblem(source, f"{where}.auth", said))
            continue
        if secrets is not None and (why := secrets.problem(itsm.secret_env, kind=itsm.type, auth=itsm.auth)):
            out.append(SpecProblem(source, f"{where}.secretEnv", why))
    return out


def _itsm_target(spec: ChannelSpec, policy: LocalPolicy) -> list[Finding]:
    """A target whose host is, without a lookup, an address gcwm does not send to (loopback, private,
    link-local or unspecified unless the policy allows private targets; reserved ever). A name is
    judged at delivery, on the addresses it resolves to then (gcwm.notify.ssrf)."""
    if spec.itsm is None:
        return []
    try:
        url = httpx.URL(spec.itsm.url)
    except httpx.InvalidURL as exc:
        return [Finding("itsm_url_invalid", "high", "itsm.url", f"not a URL gcwm can send to: {exc}")]
    judged = classify_host(url.host)
    if judged is None:
        return []
    refusal = address_refusal(*judged, allow_private=policy.allow_private_itsm_targets)
    if refusal is None:
        return []
    shown = str(url.copy_with(query=None, fragment=None))
    return [Finding("itsm_target_not_public", "high", "itsm.url", f"{shown} is {refusal}")]


def proposed_policy(spec: ChannelSpec, needs: SiteNeeds) -> Policy:
    """The CSP gcwm proposes for the site that embeds this channel."""
    images = [origin for url in _image_urls(spec) if (origin := url_origin(url))]
    if spec.security.csp_mode == "template":
        return merge(parse(""), {**needs.template, "img-src": [*needs.template.get("img-src", []), *images]})
    wanted = {k: list(v) for k, v in needs.narrow.items()}
    wanted["img-src"] = [*wanted.get("img-src", []), *images]
    return merge(strict_base(NONCE_PLACEHOLDER), wanted)


def _image_urls(spec: ChannelSpec) -> list[str]:
    m = spec.messenger
    urls = [m.home_screen.logo_url if m.home_screen else None, m.bot.avatar_url if m.bot else None]
    return [u for u in urls if u]


def _attachments(spec: ChannelSpec) -> list[Finding]:
    """Attachments that admit any file: the org's default profile (Genesys ships it allowing every
    inbound type, Resource Center "Supported content profiles") or a `*/*` the spec lists."""
    upload = spec.messenger.file_upload
    if not upload.enabled:
        return []
    risk = "visitors could upload any file, malicious ones included"
    if upload.org_default_profile:
        said = (
            f"attachments use the org's default supported content profile, which Genesys ships allowing "
            f"every inbound type: {risk}; list fileTypes so gcwm makes a profile for this channel"
        )
        return [Finding("attachments_any_type", "medium", "messenger.fileUpload.orgDefaultProfile", said)]
    return [
        Finding(
            "attachments_any_type",
            "medium",
            f"messenger.fileUpload.fileTypes[{index}]",
            f"*/* allows every media type: {risk}; list the types visitors need (image/png, application/pdf)",
        )
        for index, media_type in enumerate(upload.file_types or [])
        if media_type == "*/*"
    ]


def _visitor_text(spec: ChannelSpec) -> list[Finding]:
    m = spec.messenger
    found: list[Finding] = []
    for language, labels in m.labels.items():
        for key, text in labels.items():
            found += check_text(f"messenger.labels.{language}.{key}", text)[1]
    if m.bot is not None:
        found += check_text("messenger.bot.name", m.bot.name)[1]
        if m.bot.avatar_url:
            found += check_url("messenger.bot.avatarUrl", m.bot.avatar_url)
    if m.home_screen is not None and m.home_screen.logo_url:
        found += check_url("messenger.homeScreen.logoUrl", m.home_screen.logo_url)
    return found
