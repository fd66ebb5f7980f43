"""API latency under a fixed request rate: GET /v1/jobs/{id} and POST /v1/channels against `gcwm serve`.

Starts `gcwm emulator` and `gcwm serve` on SQLite (or --database-url) in a temporary GCWM_HOME pointed
at it, makes an operator key, then drives both routes open-loop: requests are sent on a fixed schedule
whatever the answers' latency, and each latency runs from the request's scheduled time, so a slow
server (or a late load generator) shows as latency, not as a lower rate. The load generator is a small
keep-alive HTTP/1.1 client on asyncio streams (see `_Client`: httpx could not send 400 requests/s on
this machine's cores). Prints p50, p99, max and errors per route.

"2 workers": `gcwm serve --workers 2`, two processes on one port, each answering requests and working
jobs. Genesys is paced as in production (300 requests/min, the org's default limit, shared by the
processes), so the jobs' work is what a real org allows; the API's answers are what is measured.

    python bench/api.py                     # 200 req/s per route for 30 s, 2 workers
    python bench/api.py --rate 50 --seconds 10 --workers 1 --json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from gcwm.observability.latency import Distribution

GCWM = [str(Path(sys.executable).with_name("gcwm"))]
CLIENT = ("bench-client", "bench-secret")
_KEEP_ALIVE_S = 4.0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout_s} s")


def _channel(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "routingQueue": "Support",
        "inboundMessageFlow": "Support Messaging Flow",
        "allowedDomains": ["www.example.com"],
    }


class _Client:
    """A small HTTP/1.1 client on asyncio streams with keep-alive connections.

    The load generator shares this machine's two cores with the service: httpx spends about a
    millisecond of CPU per request, so at 400 requests/s it saturated its own core and measured its
    own queue (p50 of 100 s while the service processes idled at 5 % CPU). This costs a tenth of that.
    """

    def __init__(self, url: str, headers: dict[str, str], max_connections: int = 800) -> None:
        parsed = httpx.URL(url)
        self._host, self._port = parsed.host, parsed.port or 80
        self._head = "".join(
            f"{k}: {v}\r\n" for k, v in {"Host": f"{self._host}:{self._port}", **headers}.items()
        )
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._open: set[asyncio.StreamWriter] = set()

    async def request(self, method: str, path: str, body: bytes = b"") -> int:
        """Send one request and read its whole answer; the status code."""
        async with self._slots:
            reader, writer = await self._connection()
            try:
                kind = "Content-Type: application/json\r\n" if body else ""
                head_out = (
                    f"{method} {path} HTTP/1.1\r\n{self._head}{kind}Content-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head_out.encode() + body)
                head = (await reader.readuntil(b"\r\n\r\n")).lower()
                length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                await reader.readexactly(length)
            except BaseException:
                self._open.discard(writer)
                writer.close()
                raise
            if b"connection: close" in head:
                self._open.discard(writer)
                writer.close()
            else:
                self._idle.append((reader, writer, time.monotonic()))
            return int(head[9:12])

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        # The least recently used first, so requests spread over every open connection (and so over
        # the processes that accepted them), as many clients' would; one idle for longer than
        # uvicorn's keep-alive (5 s) may be closed by the server as the request goes out, so it is
        # closed here instead.
        while self._idle:
            reader, writer, used = self._idle.pop(0)
            if time.monotonic() - used < _KEEP_ALIVE_S:
                return reader, writer
            self._open.discard(writer)
            writer.close()
        return await self._connect()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self._host, self._port)
        self._open.add(writer)
        return reader, writer

    def close(self) -> None:
        for writer in self._open:
            writer.close()


async def _drive(rate: float, seconds: float, send: Any) -> tuple[list[float], int, dict[str, int]]:
    """Send `rate` requests/s for `seconds` on a fixed schedule; latencies (ms, from each request's
    scheduled time, so a late client counts against the result), errors, statuses."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0

    async def one(i: int, due: float) -> None:
        nonlocal errors
        try:
            code = str(await send(i))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            code = type(exc).__name__
        latencies.append((time.perf_counter() - due) * 1000)
        statuses[code] = statuses.get(code, 0) + 1
        if not code.startswith("2"):
            errors += 1

    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    return latencies, errors, statuses


async def _bench(url: str, key: str, rate: float, seconds: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        first = await http.post("/v1/channels", json={"channels": [_channel("bench-seed")]})
        first.raise_for_status()
        job_id = first.json()["jobs"][0]["id"]
    run = uuid.uuid4().hex[:6]
    client = _Client(url, headers)

    async def get(_: int) -> int:
        return await client.request("GET", f"/v1/jobs/{job_id}")

    async def post(i: int) -> int:
        body = json.dumps({"channels": [_channel(f"b-{run}-{i}")]}).encode()
        return await client.request("POST", "/v1/channels", body)

    # The load generator's own collections (tens of ms with thousands of tasks alive) would count
    # as the service's latency: collect now, and not while driving.
    gc.collect()
    gc.disable()
    try:
        (g, g_err, g_st), (p, p_err, p_st) = await asyncio.gather(
            _drive(rate, seconds, get), _drive(rate, seconds, post)
        )
    finally:
        gc.enable()
        client.close()
    out: dict[str, Any] = {"ratePerRoute": rate, "seconds": seconds}
    for route, samples, errors, statuses in (
        ("GET /v1/jobs/{id}", g, g_err, g_st),
        ("POST /v1/channels", p, p_err, p_st),
    ):
        dist = Distribution.of(samples)
        out[route] = {
            "requests": dist.count,
            "p50Ms": round(dist.p50, 2),
            "p99Ms": round(dist.p99, 2),
            "maxMs": round(dist.max, 2),
            "errors": errors,
            "statuses": statuses,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second per route")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="processes of gcwm serve")
    parser.add_argument("--genesys-rpm", type=int, default=300, help="Genesys's rate limit (requests/min)")
    parser.add_argument("--database-url", help="GCWM_DATABASE_URL (default: SQLite in a temporary home)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
        emulator_port, serve_port = _port(), _port()
        emulator = subprocess.Popen(
            [*GCWM, "emulator", "--port", str(emulator_port), "--client-id", CLIENT[0],
             "--client-secret", CLIENT[1], "--rate-limit", str(args.genesys_rpm),
             "--activation-delay", "0.05",
             "--limit", "web.deployments.deployments.max=100000",
             "--limit", "web.deployments.configuration.max=100000"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        env.update(
            GCWM_HOME=str(Path(tmp) / "home"),
            GCWM_GENESYS_BASE_URL=f"http://127.0.0.1:{emulator_port}",
            GENESYSCLOUD_OAUTHCLIENT_ID=CLIENT[0],
            GENESYSCLOUD_OAUTHCLIENT_SECRET=CLIENT[1],
            GENESYSCLOUD_REGION="us-east-1",
            GCWM_REQUESTS_PER_MINUTE=str(args.genesys_rpm),
        )
        if args.database_url:
            env["GCWM_DATABASE_URL"] = args.database_url
        serve: subprocess.Popen[bytes] | None = None
        try:
            _wait(f"http://127.0.0.1:{emulator_port}/emulator/stats", emulator)
            made = subprocess.run(
                [*GCWM, "keys", "create", "--role", "operator"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            serve = subprocess.Popen(
                [*GCWM, "serve", "--port", str(serve_port), "--workers", str(args.workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            url = f"http://127.0.0.1:{serve_port}"
            _wait(f"{url}/healthz", serve)
            result = asyncio.run(_bench(url, made.stdout.strip(), args.rate, args.seconds))
        finally:
            for process in (serve, emulator):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=60)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{args.rate:g} req/s per route for {args.seconds:g} s, gcwm serve --workers {args.workers} "
        f"({'PostgreSQL' if args.database_url else 'SQLite'}), Genesys paced at {args.genesys_rpm}/min"
    )
    for route in ("GET /v1/jobs/{id}", "POST /v1/channels"):
        r = result[route]
        print(
            f"{route:22} n={r['requests']:5}  p50 {r['p50Ms']:8.2f} ms  p99 {r['p99Ms']:8.2f} ms  "
            f"max {r['maxMs']:8.2f} ms  errors {r['errors']}  {r['statuses']}"
        )


if __name__ == "__main__":
    main()
