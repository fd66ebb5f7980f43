"""Run the emulator: embedded in a background thread on a free port, or in the foreground."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from gcwm.emulator.app import create_app
from gcwm.emulator.config import EmulatorConfig
from gcwm.emulator.pipeline import ConnectionDropped

_START_TIMEOUT_S = 10.0


class _HideDroppedConnections(logging.Filter):
    """Uvicorn logs every exception from the app; a commit-then-reset fault is one on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def _quiet_dropped_connections() -> None:
    # Added after uvicorn.Config has configured logging, and only once per process.
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDroppedConnections) for f in logger.filters):
        logger.addFilter(_HideDroppedConnections())


def _listening_socket() -> socket.socket:
    """A loopback socket on a free port.

    Made with proto IPPROTO_TCP on purpose: asyncio sets TCP_NODELAY on accepted connections only
    when the listening socket's proto says TCP, and `socket.create_server` leaves it 0. Without
    NODELAY, uvicorn's separate header and body writes meet delayed ACKs: 40 ms per keep-alive call."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class EmbeddedEmulator:
    """The emulator on 127.0.0.1 and a free port, served by uvicorn in a daemon thread."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.app = create_app(self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.url = ""

    @property
    def port(self) -> int:
        if self._socket is None:
            msg = "the emulator is not running"
            raise RuntimeError(msg)
        return int(self._socket.getsockname()[1])

    def start(self) -> EmbeddedEmulator:
        """Bind, start serving and wait until uvicorn accepts connections."""
        if self._thread is not None:
            return self
        sock = _listening_socket()
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        _quiet_dropped_connections()
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="gcwm-emulator", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                msg = "the embedded emulator did not start"
                raise RuntimeError(msg)
            time.sleep(0.005)
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> EmbeddedEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the emulator in the foreground until interrupted (the `gcwm emulator` command)."""
    uvicorn_config = uvicorn.Config(create_app(config), host=host, port=port, log_level="info")
    _quiet_dropped_connections()
    uvicorn.Server(uvicorn_config).run()
