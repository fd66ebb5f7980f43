"""Serving the ITSM sink: in a daemon thread on a free loopback port (tests), or in the foreground
(`gcwm itsm-sink`)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from gcwm.notify.sink import Sink

_START_TIMEOUT_S = 10.0


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class EmbeddedSink:
    """A sink on 127.0.0.1 and a free port, served by uvicorn in a daemon thread (for tests); over
    TLS when given a certificate and key file."""

    def __init__(
        self, sink: Sink | None = None, *, certfile: str | None = None, keyfile: str | None = None
    ) -> None:
        self.sink = sink or Sink()
        self._certfile, self._keyfile = certfile, keyfile
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.url = ""

    def start(self) -> EmbeddedSink:
        """Bind, start serving and wait until uvicorn accepts connections."""
        sock = _listening_socket("127.0.0.1", 0)
        config = uvicorn.Config(
            self.sink.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ssl_certfile=self._certfile,
            ssl_keyfile=self._keyfile,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="gcwm-itsm-sink", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                msg = "the ITSM sink did not start"
                raise RuntimeError(msg)
            time.sleep(0.005)
        self.url = f"{'https' if self._certfile else 'http'}://127.0.0.1:{sock.getsockname()[1]}"
        return self

    def stop(self) -> None:
        """Release held answers, stop serving and wait for the thread to end."""
        self.sink.release()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> EmbeddedSink:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve(sink: Sink, *, host: str = "127.0.0.1", port: int = 8090) -> None:
    """Serve the sink in the foreground until interrupted (the `gcwm itsm-sink` command)."""
    sock = _listening_socket(host, port)
    config = uvicorn.Config(sink.app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
