"""Unchanged re-run benchmark: how many Genesys calls, and how long, `gcwm provision` takes when there
is nothing to do.

Provisions `examples/bulk.yaml` (20 channels) once against a `gcwm emulator` process at Genesys's
default 300 requests/min, then runs the same command again R times and reports, per re-run, the API
calls the emulator answered (login included) and the wall time of the whole command; then the median
and worst over the runs. Targets (issue 11): at most 10 calls in all, under 2 s.

    python bench/noop.py                 # 5 re-runs
    python bench/noop.py --runs 10 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from throughput import CLIENT_ID, CLIENT_SECRET, _free_port, _gcwm, gcwm_env

ROOT = Path(__file__).parents[1]


def _emulator(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *_gcwm(),
        "emulator",
        "--port",
        str(port),
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
    ]
    command += ["--state-file", str(workdir / "org.json")]  # Genesys's default 300/min, no faults
    # The org fills and normalises what it stores, as Genesys does (colour case, domain order).
    command += ["--server-defaults"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/emulator/stats", timeout=1).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"emulator did not start at {url}")


def _calls(url: str) -> int:
    stats = httpx.get(f"{url}/emulator/stats", timeout=10).json()
    return sum(int(n) for n in stats["byOperation"].values()) + int(stats["logins"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    spec = ROOT / "examples" / "bulk.yaml"
    with tempfile.TemporaryDirectory(prefix="gcwm-bench-noop-") as tmp:
        workdir = Path(tmp)
        proc, url = _emulator(workdir)
        try:
            env = gcwm_env(url, workdir / "home")
            command = [*_gcwm(), "provision", str(spec), "--output", "json"]
            first = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if first.returncode != 0:
                raise RuntimeError(f"the first provision failed: {first.stderr[-2000:]}")
            runs: list[dict[str, Any]] = []
            for _ in range(args.runs):
                before = _calls(url)
                started = time.perf_counter()
                again = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
                seconds = time.perf_counter() - started
                outcomes = {c["outcome"] for c in json.loads(again.stdout)["channels"]}
                runs.append(
                    {
                        "calls": _calls(url) - before,
                        "seconds": round(seconds, 3),
                        "outcomes": sorted(outcomes),
                    }
                )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    seconds = [r["seconds"] for r in runs]
    summary = {
        "channels": 20,
        "runs": runs,
        "callsMax": max(r["calls"] for r in runs),
        "secondsMedian": round(statistics.median(seconds), 3),
        "secondsMax": max(seconds),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for i, r in enumerate(runs, 1):
        print(f"re-run {i}: {r['calls']} calls, {r['seconds']:.2f} s, outcomes {', '.join(r['outcomes'])}")
    print(
        f"calls (max) {summary['callsMax']}  seconds median {summary['secondsMedian']:.2f}  "
        f"max {summary['secondsMax']:.2f}   targets: <= 10 calls, < 2 s"
    )


if __name__ == "__main__":
    main()
