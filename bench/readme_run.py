"""The README's main command on a fresh machine: `gcwm provision examples/channel.yaml`, no credentials,
so against the embedded emulator, each run with a new GCWM_HOME (a fresh org and database).

Reports per run the wall time of the whole command and the job's own time (its `latencyMs.total`:
planning and applying the channel), so what is left is start-up and shut-down: imports, the
database, starting the embedded emulator, the login, the review and the first read of the org,
queueing and claiming the job; then the audit checkpoint, closing, stopping the emulator and the
interpreter's exit. Then the medians and the worst. Targets: at most 3 s wall (issue 11), and start-up
plus shut-down at most 0.8 s median (issue 24, item 12).

With --phases the command also logs at info level (a handful of lines), and the start-up and
shut-down are split by the times it logs: until the login (imports, database, emulator, token), from
the login to the job's start (review, org read, queueing, claim), and from the job's end to the exit.

    python bench/readme_run.py            # 5 runs
    python bench/readme_run.py --runs 10 --phases --json
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
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from throughput import _gcwm

ROOT = Path(__file__).parents[1]
WALL_TARGET_S = 3.0
REST_TARGET_S = 0.8
PHASES = ("untilLogin", "loginToJob", "jobToExit")


def _logged_at(stderr: str, event: str) -> float:
    """When the command logged `event` (its first such line), as a Unix time."""
    for line in stderr.splitlines():
        if line.startswith("{") and f'"event": "{event}"' in line:
            return datetime.fromisoformat(json.loads(line)["timestamp"]).timestamp()
    msg = f"the command logged no {event!r} (is GCWM_LOG_LEVEL=info honoured?)"
    raise RuntimeError(msg)


def _run(env: dict[str, str], phases: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gcwm-bench-readme-") as home:
        run_env = {**env, "GCWM_HOME": home, **({"GCWM_LOG_LEVEL": "info"} if phases else {})}
        began = time.time()
        started = time.perf_counter()
        done = subprocess.run(
            [*_gcwm(), "provision", "examples/channel.yaml", "--output", "json"],
            env=run_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        ended = began + wall
    if done.returncode != 0:
        raise RuntimeError(f"gcwm provision failed ({done.returncode}): {done.stderr[-2000:]}")
    (channel,) = json.loads(done.stdout)["channels"]
    job = channel["latencyMs"]["total"] / 1000
    run: dict[str, Any] = {"wall": round(wall, 3), "job": round(job, 3), "rest": round(wall - job, 3)}
    if phases:
        job_end = _logged_at(done.stderr, "job.succeeded")
        login = _logged_at(done.stderr, "oauth.logged_in")
        run.update(
            untilLogin=round(login - began, 3),
            loginToJob=round(job_end - job - login, 3),
            jobToExit=round(ended - job_end, 3),
        )
    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--phases", action="store_true", help="split start-up and shut-down by logged times")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    runs = [_run(env, args.phases) for _ in range(args.runs)]

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in runs), 3)

    summary: dict[str, Any] = {
        "runs": runs,
        "wallMedian": median("wall"),
        "wallMax": max(r["wall"] for r in runs),
        "jobMedian": median("job"),
        "restMedian": median("rest"),
        "restMax": max(r["rest"] for r in runs),
        "targets": {"wallS": WALL_TARGET_S, "startupShutdownS": REST_TARGET_S},
    }
    if args.phases:
        summary["phaseMedians"] = {phase: median(phase) for phase in PHASES}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for i, r in enumerate(runs, 1):
        split = (
            f" (until login {r['untilLogin']:.2f}, login to job {r['loginToJob']:.2f}, "
            f"job to exit {r['jobToExit']:.2f})"
            if args.phases
            else ""
        )
        print(
            f"run {i}: wall {r['wall']:.2f} s = job {r['job']:.2f} s "
            f"+ start-up and shut-down {r['rest']:.2f} s{split}"
        )
    print(
        f"wall median {summary['wallMedian']:.2f} s, max {summary['wallMax']:.2f} s"
        f"   target: <= {WALL_TARGET_S:g} s"
    )
    print(
        f"start-up and shut-down median {summary['restMedian']:.2f} s, max {summary['restMax']:.2f} s"
        f" (job median {summary['jobMedian']:.2f} s)   target: <= {REST_TARGET_S:g} s"
    )
    if args.phases:
        medians = summary["phaseMedians"]
        print(
            f"medians: until login {medians['untilLogin']:.2f} s, "
            f"login to job {medians['loginToJob']:.2f} s, job to exit {medians['jobToExit']:.2f} s"
        )


if __name__ == "__main__":
    main()
