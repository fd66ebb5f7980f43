"""Policy: pure checks of what gcwm is asked to provision. No I/O: the caller fetches the data
(the org's limits and inventory, the policy file's contents) and passes it in; checks return
findings or normalised values, and raise only gcwm's own error types.

May import gcwm.errors only.
"""

from gcwm.policy.domains import DomainCheck, check_domains, normalize_domain, normalize_domains
from gcwm.policy.html import check_text, check_url, plain_text, url_origin
from gcwm.policy.limits import Counts, LimitUse, fits, limit_uses, refuse_if_exceeded
from gcwm.policy.rules import LocalPolicy, itsm_secret_refusal, parse_policy_file

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
