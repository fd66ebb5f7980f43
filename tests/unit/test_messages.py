"""Issue 24, item 10: messages read as English ("a operator" was one)."""

from __future__ import annotations

import pytest

from gcwm.api.auth import check_role
from gcwm.api.problems import Problem
from gcwm.api.roles import Principal
from gcwm.provisioning.roles import Role


@pytest.mark.parametrize(("role", "said"), [(Role.operator, "an operator"), (Role.viewer, "a viewer")])
def test_a_forbidden_key_is_named_with_the_right_article(role: Role, said: str) -> None:
    """ "key k is an operator", never "a operator"."""
    with pytest.raises(Problem) as refused:
        check_role(Principal("k", "ci", role), Role.admin)
    assert refused.value.detail == f"this needs the admin role; key k is {said}"
