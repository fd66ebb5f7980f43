"""gcwm.policy exports its names lazily (PEP 562): each is the object its own module defines, and a
name it does not export is an AttributeError naming it."""

from __future__ import annotations

import importlib

import pytest

import gcwm.policy

# Each public name and the module that must define it.
MODULES = {
    "Counts": "limits",
    "DomainCheck": "domains",
    "LimitUse": "limits",
    "LocalPolicy": "rules",
    "check_domains": "domains",
    "check_text": "html",
    "check_url": "html",
    "fits": "limits",
    "itsm_secret_refusal": "rules",
    "limit_uses": "limits",
    "normalize_domain": "domains",
    "normalize_domains": "domains",
    "parse_policy_file": "rules",
    "plain_text": "html",
    "refuse_if_exceeded": "limits",
    "url_origin": "html",
}


def test_every_exported_name_is_listed() -> None:
    """__all__ is exactly the names above, sorted."""
    assert gcwm.policy.__all__ == sorted(MODULES)


@pytest.mark.parametrize(("name", "module"), MODULES.items())
def test_each_name_is_the_object_its_module_defines(name: str, module: str) -> None:
    """Imported on first use from gcwm.policy.<module>."""
    defined = getattr(importlib.import_module(f"gcwm.policy.{module}"), name)
    assert getattr(gcwm.policy, name) is defined


def test_a_name_the_room_does_not_export_is_an_attribute_error() -> None:
    """Python's own wording, so `hasattr` and `from gcwm.policy import x` behave as usual."""
    with pytest.raises(AttributeError, match=r"^module 'gcwm.policy' has no attribute 'evaluate'$"):
        gcwm.policy.evaluate  # noqa: B018
