"""Run the emulator: embedded in a background thread on a free port, or in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
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


class _Server(uvicorn.Server):
    """uvicorn's server, stopped without its waits when nothing is left to wait for.

    uvicorn looks at `should_exit` every 0.1 s, then gives the open connections 0.1 s to finish even
    when there are none: 0.1-0.2 s at the end of every command that started the embedded emulator,
    whose client has closed its connections by then (issue 24). `stop_soon` wakes the loop at once,
    and a server with no connection left closes its listeners without the wait."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        ticks = 0
        while not await self.on_tick(ticks):  # on_tick: the Date header each second, should_exit
            ticks += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 0.1)

    def stop_soon(self) -> None:
        """Ask the server to stop, from any thread, waking its loop now."""
        self.should_exit = True
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                self._loop.call_soon_threadsafe(self._stopping.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)  # let open connections finish, as uvicorn does
            return
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()


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
        self._server: _Server | None = None
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
        server = _Server(config)
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
            self._server.stop_soon()
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
