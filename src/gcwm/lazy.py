"""A package's public names imported on first use (PEP 562), so a command loads only the modules it
uses: `gcwm domains` and `gcwm csp evaluate` load neither SQLAlchemy nor httpx."""

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The `__getattr__` of `package`: each name of `exports` (name -> defining module) is imported
    when first asked for and then kept in the package, so later lookups are plain attributes."""

    def __getattr__(name: str) -> Any:
        try:
            module = exports[name]
        except KeyError:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg) from None
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
