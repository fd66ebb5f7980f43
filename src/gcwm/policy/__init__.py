"""Policy: pure checks of what gcwm is asked to provision. No I/O: the caller fetches the data
(the org's limits and inventory, the policy file's contents) and passes it in; checks return
findings or normalised values, and raise only gcwm's own error types.

May import gcwm.errors only.
"""

from typing import TYPE_CHECKING

from gcwm.lazy import lazy_exports

if TYPE_CHECKING:
    from gcwm.policy.domains import DomainCheck, check_domains, normalize_domain, normalize_domains
    from gcwm.policy.html import check_text, check_url, plain_text, url_origin
    from gcwm.policy.limits import Counts, LimitUse, fits, limit_uses, refuse_if_exceeded
    from gcwm.policy.rules import LocalPolicy, itsm_secret_refusal, parse_policy_file


# Each public name and the module that defines it.
_EXPORTS = {
    "Counts": "gcwm.policy.limits",
    "DomainCheck": "gcwm.policy.domains",
    "LimitUse": "gcwm.policy.limits",
    "LocalPolicy": "gcwm.policy.rules",
    "check_domains": "gcwm.policy.domains",
    "check_text": "gcwm.policy.html",
    "check_url": "gcwm.policy.html",
    "fits": "gcwm.policy.limits",
    "itsm_secret_refusal": "gcwm.policy.rules",
    "limit_uses": "gcwm.policy.limits",
    "normalize_domain": "gcwm.policy.domains",
    "normalize_domains": "gcwm.policy.domains",
    "parse_policy_file": "gcwm.policy.rules",
    "plain_text": "gcwm.policy.html",
    "refuse_if_exceeded": "gcwm.policy.limits",
    "url_origin": "gcwm.policy.html",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Counts",
    "DomainCheck",
    "LimitUse",
    "LocalPolicy",
    "check_domains",
    "check_text",
    "check_url",
    "fits",
    "itsm_secret_refusal",
    "limit_uses",
    "normalize_domain",
    "normalize_domains",
    "parse_policy_file",
    "plain_text",
    "refuse_if_exceeded",
    "url_origin",
]
