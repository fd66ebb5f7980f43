"""The README's main command on a fresh machine: `gcwm provision examples/channel.yaml`, no credentials,
so against the embedded emulator, each run with a new GCWM_HOME (a fresh org and database).

Reports per run the wall time of the whole command and the job's own time (its `latencyMs.total`),
so what is left is start-up and shut-down: imports, migrations, starting the embedded emulator, the
login. Then the median and worst. Target (issue 11): at most 3 s wall.

    python bench/readme_run.py            # 5 runs
    python bench/readme_run.py --runs 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from throughput import _gcwm

ROOT = Path(__file__).parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    runs: list[dict[str, Any]] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="gcwm-bench-readme-") as home:
            started = time.perf_counter()
            done = subprocess.run(
                [*_gcwm(), "provision", "examples/channel.yaml", "--output", "json"],
                env={**env, "GCWM_HOME": home},
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"gcwm provision failed ({done.returncode}): {done.stderr[-2000:]}")
        (channel,) = json.loads(done.stdout)["channels"]
        job = channel["latencyMs"]["total"] / 1000
        runs.append({"wall": round(wall, 3), "job": round(job, 3), "rest": round(wall - job, 3)})
    summary = {
        "runs": runs,
        "wallMedian": round(statistics.median(r["wall"] for r in runs), 3),
        "wallMax": max(r["wall"] for r in runs),
        "jobMedian": round(statistics.median(r["job"] for r in runs), 3),
        "restMedian": round(statistics.median(r["rest"] for r in runs), 3),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for i, r in enumerate(runs, 1):
        print(f"run {i}: wall {r['wall']:.2f} s = job {r['job']:.2f} s + start-up etc. {r['rest']:.2f} s")
    print(
        f"wall median {summary['wallMedian']:.2f} s, max {summary['wallMax']:.2f} s "
        f"(job {summary['jobMedian']:.2f} s, the rest {summary['restMedian']:.2f} s)   target: <= 3 s"
    )


if __name__ == "__main__":
    main()
