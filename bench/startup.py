"""Start-up benchmark: how long gcwm's quick commands take, and which heavy libraries each imports.

Runs each command N times as a user would (the `gcwm` console script, a fresh process each time, a
GCWM_HOME of its own) and reports its median and fastest wall time; then runs it once more under
`python -X importtime` and lists which of the heavy libraries it imported (SQLAlchemy, Alembic, httpx,
FastAPI, uvicorn, structlog, pydantic) and how many modules in all. Target (issue 24, item 12): the pure
commands (`--version`, `--help`, `domains`, `csp evaluate`) at most 0.3 s median, importing neither
SQLAlchemy, Alembic nor httpx. `csp FILE` is measured too; it reads the org (the embedded emulator
without credentials), so it is not pure and has no target.

    python bench/startup.py              # 10 runs per command
    python bench/startup.py --runs 20 --json
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
HEAVY = ("sqlalchemy", "alembic", "httpx", "fastapi", "uvicorn", "structlog", "pydantic")
TARGET_S = 0.3
COMMANDS: list[tuple[list[str], bool]] = [  # (arguments, pure)
    (["--version"], True),
    (["--help"], True),
    (["domains", "example.com"], True),
    (["csp", "evaluate", "default-src 'self'"], True),
    (["csp", "examples/channel.yaml"], False),
]


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - started


def _imports(args: list[str], env: dict[str, str]) -> tuple[list[str], int]:
    """The heavy libraries the command imported, and the number of modules it imported in all."""
    gcwm = _gcwm()
    command = [sys.executable, "-X", "importtime", *(gcwm[1:] if len(gcwm) > 1 else gcwm), *args]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    modules.discard("imported package")  # the header line
    heavy = [name for name in HEAVY if name in modules]
    return heavy, len(modules)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gcwm-bench-startup-") as home:
        env["GCWM_HOME"] = home
        for arguments, pure in COMMANDS:
            command = [*_gcwm(), *arguments]
            _wall(command, env)  # warm the file cache (and, for `csp FILE`, make the home once)
            walls = [_wall(command, env) for _ in range(args.runs)]
            heavy, count = _imports(arguments, env)
            results.append(
                {
                    "command": "gcwm " + " ".join(arguments),
                    "pure": pure,
                    "median": round(statistics.median(walls), 3),
                    "min": round(min(walls), 3),
                    "imports": heavy,
                    "modules": count,
                }
            )
    pure_ok = all(
        r["median"] <= TARGET_S and not {"sqlalchemy", "alembic", "httpx"} & set(r["imports"])
        for r in results
        if r["pure"]
    )
    if args.json:
        print(json.dumps({"runs": args.runs, "commands": results, "pureWithinTarget": pure_ok}, indent=2))
        return
    width = max(len(r["command"]) for r in results)
    for r in results:
        mark = "" if not r["pure"] else ("  ok" if r["median"] <= TARGET_S else "  OVER")
        print(
            f"{r['command']:<{width}}  median {r['median']:.3f} s  min {r['min']:.3f} s  "
            f"{r['modules']:>4} modules  imports: {', '.join(r['imports']) or '-'}{mark}"
        )
    print(f"pure commands: median <= {TARGET_S} s, no sqlalchemy/alembic/httpx: {'yes' if pure_ok else 'no'}")


if __name__ == "__main__":
    main()
