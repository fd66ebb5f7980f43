"""Name a request by its operation ("POST /api/v2/webdeployments/deployments"), from api-subset.json."""

from __future__ import annotations

import re

from gcwm.emulator.schema import ApiSubset

_PARAM = re.compile(r"\{[^/}]+\}")


class OperationIndex:
    """Matches a method and path to the template of the operation that serves it."""

    def __init__(self, subset: ApiSubset) -> None:
        patterns = []
        for op in subset.operations:
            regex = re.compile("[^/]+".join(re.escape(part) for part in _PARAM.split(op.path)))
            literal_segments = sum(1 for part in op.path.split("/") if part and not part.startswith("{"))
            patterns.append((literal_segments, op.method, regex, f"{op.method} {op.path}"))
        # Prefer the most literal template: ".../versions/draft" over ".../versions/{versionId}".
        self._patterns = sorted(patterns, key=lambda p: -p[0])

    def key(self, method: str, path: str) -> str:
        """The operation's "METHOD template", or "METHOD path" for a path no operation serves."""
        for _, op_method, regex, key in self._patterns:
            if op_method == method.upper() and regex.fullmatch(path):
                return key
        return f"{method.upper()} {path}"
