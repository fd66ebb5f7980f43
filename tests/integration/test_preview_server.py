"""The preview server on a real socket: what happens when its port is taken."""

from __future__ import annotations

import socket

import pytest

from gcwm.errors import ConfigError
from gcwm.preview import serve_preview


def test_serving_on_a_port_in_use_says_so() -> None:
    """A taken port is a ConfigError naming host and port, raised before anything is served."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot serve the preview on 127.0.0.1:{port}"):
            serve_preview("<script></script>", "object-src 'none'", port=port)
