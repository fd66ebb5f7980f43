"""Throughput benchmark: gcwm against a faithful re-creation of the seed's algorithm.

Each run gets its own emulator process (`gcwm emulator`) with a fixed rate limit, realistic latency
and the same seeded fault profile (5xx, commit-then-fail, 429 bursts), and provisions N channels.
Printed for each: channels/min, the rate-limit bound, the ratio to that bound, calls per channel,
429s, duplicates and channels lost.

The bound is what the rate limit allows at the fewest calls any client needs, not the calls the run
happened to make: three writes per channel (create the configuration, publish it, create the
deployment) plus eight reads per run (the token's org, the configuration drafts and published
versions, the deployments, the queues and the flows before any write, and one read each of drafts and
deployments to see them Active).

    python bench/throughput.py                       # 200 channels at 1200 requests/min
    python bench/throughput.py --channels 50 --json  # one JSON object {"gcwm": {...}, "seed": {...}}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from seed_provisioner import SeedProvisioner

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
WRITES_PER_CHANNEL = 3
READS_PER_RUN = 8
QUEUES = ["Support", "Sales", "Billing", "Technical Support", "Returns", "VIP"]


def _gcwm() -> list[str]:
    script = Path(sys.executable).with_name("gcwm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gcwm.cli"]


def gcwm_env(url: str, home: Path, **extra: str) -> dict[str, str]:
    """This environment without gcwm's settings, pointed at the emulator at `url` with its own home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    env.update(
        GENESYSCLOUD_OAUTHCLIENT_ID=CLIENT_ID,
        GENESYSCLOUD_OAUTHCLIENT_SECRET=CLIENT_SECRET,
        GENESYSCLOUD_REGION="us-east-1",
        GCWM_GENESYS_BASE_URL=url,
        GCWM_HOME=str(home),
        **extra,
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _channels(n: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"bench-{i:04d}",
            "routingQueue": QUEUES[i % len(QUEUES)],
            "inboundMessageFlow": f"{QUEUES[i % len(QUEUES)]} Messaging Flow",
            "allowedDomains": [f"shop{i:04d}.example.com"],
        }
        for i in range(n)
    ]


class Emulator:
    """A `gcwm emulator` process with the benchmark's limit, latency and faults."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.url = f"http://127.0.0.1:{_free_port()}"
        flags = {
            "--port": self.url.rsplit(":", 1)[1],
            "--client-id": CLIENT_ID,
            "--client-secret": CLIENT_SECRET,
            "--rate-limit": args.rate_limit,
            "--latency-ms": args.latency_ms,
            "--activation-delay": args.activation_delay,
            "--fault-5xx-rate": args.fault_5xx,
            "--commit-then-fail-rate": args.commit_then_fail,
            "--fault-429-rate": args.fault_429,
            "--seed": args.seed,
            "--state-file": workdir / "org.json",
        }
        command = [*_gcwm(), "emulator", *[str(x) for kv in flags.items() for x in kv]]
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/emulator/stats", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"emulator did not start at {self.url}")

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/emulator/stats", timeout=10).json())

    def deployments(self) -> list[dict[str, Any]]:
        return self._list("/api/v2/webdeployments/deployments")

    def configurations(self) -> list[dict[str, Any]]:
        return self._list("/api/v2/webdeployments/configurations")

    def _list(self, path: str) -> list[dict[str, Any]]:
        # Counted after the run (its stats already taken), with faults off so no page is lost.
        httpx.put(
            f"{self.url}/emulator/faults",
            json={"fault_5xx_rate": 0, "fault_429_rate": 0, "commit_then_fail_rate": 0, "latency_ms": 0},
            timeout=10,
        ).raise_for_status()
        with httpx.Client(base_url=self.url, timeout=30) as http:
            token = http.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
            ).json()["access_token"]
            out: list[dict[str, Any]] = []
            url: str | None = path
            params: dict[str, Any] | None = {"pageSize": 100}
            while url:
                page = http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
                page.raise_for_status()
                body = page.json()
                out.extend(body.get("entities", []))
                # nextUri carries its own query; httpx would replace it with `params`.
                url, params = body.get("nextUri"), None
            return out

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)


def _figures(
    args: argparse.Namespace, emulator: Emulator, stats: dict[str, Any], elapsed_s: float, names: list[str]
) -> dict[str, Any]:
    calls = sum(n for op, n in stats["byOperation"].items() if " /api/v2/" in op)
    writes = sum(
        n for op, n in stats["byOperation"].items() if " /api/v2/" in op and not op.startswith("GET")
    )
    if os.environ.get("BENCH_DEBUG"):
        print(json.dumps(stats["byOperation"], indent=1), file=sys.stderr)
    deployments = [d for d in emulator.deployments() if d.get("status") != "Deleting"]
    configurations = emulator.configurations()
    by_name = Counter(d["name"] for d in deployments)
    duplicates = sum(n - 1 for n in by_name.values() if n > 1)
    duplicates += sum(n - 1 for n in Counter(c["name"] for c in configurations).values() if n > 1)
    active = {d["name"] for d in deployments if d.get("status") == "Active"}
    lost = sum(1 for name in names if name not in active)
    done = len(names) - lost
    per_channel = calls / len(names)
    per_min = done / (elapsed_s / 60)
    fewest = WRITES_PER_CHANNEL + READS_PER_RUN / len(names)
    bound = args.rate_limit / fewest
    return {
        "channels": len(names),
        "seconds": round(elapsed_s, 1),
        "channelsPerMin": round(per_min, 1),
        "boundPerMin": round(bound, 1),
        "ratioToBound": round(per_min / bound, 3),
        "callsPerChannel": round(per_channel, 2),
        "calls": calls,
        "http429": stats["http429"],
        "http429Share": round(stats["http429"] / max(calls, 1), 4),
        "http5xx": stats["http5xx"],
        "commitThenFail": stats["commitThenFail"],
        "duplicates": duplicates,
        "lost": lost,
        "reads": calls - writes,
    }


def run_gcwm(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    channels = _channels(args.channels)
    spec = workdir / "bench.yaml"
    spec.write_text(yaml.safe_dump({"channels": channels}, sort_keys=False))
    emulator = Emulator(args, workdir)
    try:
        concurrency = str(args.concurrency or min(256, args.channels))
        env = gcwm_env(emulator.url, workdir / "home", GCWM_CONCURRENCY=concurrency)
        started = time.perf_counter()
        done = subprocess.run(
            [*_gcwm(), "provision", str(spec), "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if done.returncode not in (0, 3):
            raise RuntimeError(f"gcwm provision failed ({done.returncode}): {done.stderr[-2000:]}")
        for channel in json.loads(done.stdout)["channels"]:
            if "error" in channel:
                print(f"gcwm: {channel['name']} failed: {channel['error']['message']}", file=sys.stderr)
        return _figures(args, emulator, emulator.stats(), elapsed, [c["name"] for c in channels])
    finally:
        emulator.stop()


def run_seed(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    channels = _channels(args.channels)
    emulator = Emulator(args, workdir)
    try:
        seed = SeedProvisioner(emulator.url, CLIENT_ID, CLIENT_SECRET)

        async def go() -> None:
            try:
                await seed.run(channels, args.concurrency or 32)
            finally:
                await seed.aclose()

        started = time.perf_counter()
        asyncio.run(go())
        elapsed = time.perf_counter() - started
        return _figures(args, emulator, emulator.stats(), elapsed, [c["name"] for c in channels])
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--rate-limit", type=int, default=1200, help="requests per minute per token")
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--activation-delay", type=float, default=2.0, help="seconds a deployment is Pending")
    parser.add_argument("--fault-5xx", type=float, default=0.10)
    parser.add_argument("--commit-then-fail", type=float, default=0.03)
    parser.add_argument("--fault-429", type=float, default=0.002, help="share of calls starting a 429 burst")
    parser.add_argument(
        "--concurrency", type=int, default=0, help="gcwm's jobs at once (default: every channel, at most 256)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", choices=["gcwm", "seed"], default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    results: dict[str, dict[str, Any]] = {}
    for name, run in (("gcwm", run_gcwm), ("seed", run_seed)):
        if args.only in (None, name):
            with tempfile.TemporaryDirectory(prefix=f"gcwm-bench-{name}-") as tmp:
                print(
                    f"running {name}: {args.channels} channels at {args.rate_limit}/min ...", file=sys.stderr
                )
                results[name] = run(args, Path(tmp))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    keys = list(next(iter(results.values())))
    print(f"{'':<16}" + "".join(f"{name:>12}" for name in results))
    for key in keys:
        print(f"{key:<16}" + "".join(f"{results[name][key]:>12}" for name in results))
    if "gcwm" in results and "seed" in results and results["seed"]["channelsPerMin"]:
        ratio = results["gcwm"]["channelsPerMin"] / results["seed"]["channelsPerMin"]
        print(f"\ngcwm / seed channels per minute: {ratio:.2f}x")


if __name__ == "__main__":
    main()
