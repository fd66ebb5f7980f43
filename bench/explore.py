"""The model-based search for exactly-once holes (issue 22) with a long budget: the state machine of
tests/model/machine.py (the one tests/model/test_model_based.py runs with CI's short budget), run for
N examples of K steps each on SQLite, PostgreSQL or both, each example against a fresh emulator and a
fresh database.

Prints, per database, the examples run, the failures found (with hypothesis's minimal reproduction:
the steps, the invariant that broke, and a `@seed` to run it again), what the steps reached (jobs'
ends, held and lost answers, frozen and killed workers...), and the wall time; then one summary line.
Exits 1 if any failure was found, 2 if PostgreSQL was asked for and cannot be reached.

    python bench/explore.py --examples 200                       # both databases, 10 steps each
    python bench/explore.py --examples 50 --database sqlite --steps 20 --seed 7
    python bench/explore.py --examples 100 --no-processes        # no `gcwm` worker processes
    python bench/explore.py --examples 300 --skip-known          # look past the bugs found already
    python bench/explore.py --examples 1 --database sqlite --reproduce 'AXic...'   # a failure again
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, __version__, reproduce_failure, seed, settings  # noqa: E402
from hypothesis.reporting import with_reporter  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402
from tests.model import machine as model  # noqa: E402

from gcwm.observability.logging import configure_logging  # noqa: E402


@dataclass
class Outcome:
    database: str
    examples: int = 0  # examples generated before the first failure (or in all, if none)
    replays: int = 0  # examples run while shrinking a failure
    failures: list[str] = field(default_factory=list)
    reproduction: list[str] = field(default_factory=list)
    reached: Counter[str] = field(default_factory=Counter)
    step_seconds: dict[str, float] = field(default_factory=dict)
    incidents: list[model.Incident] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None


@dataclass
class _Counts:
    made: int = 0  # machines made: examples generated, and replays while shrinking
    failed_at: int | None = None  # the machine that first failed


def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None."""
    import sqlalchemy as sa
    from tests.support.databases import postgres_url

    try:
        engine = sa.create_engine(postgres_url(), poolclass=sa.NullPool, connect_args={"connect_timeout": 5})
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        return (
            f"PostgreSQL at {postgres_url().render_as_string(hide_password=True)} cannot be used: {exc.orig}"
        )
    return None


def explore(
    database: str,
    *,
    examples: int,
    steps: int,
    seed_value: int | None,
    processes: bool,
    shrink: bool,
    blob: str | None = None,
    skip: frozenset[str] = frozenset(),
) -> Outcome:
    """Run the machine on one database; what it found."""
    outcome = Outcome(database)
    counts = _Counts()

    with tempfile.TemporaryDirectory(prefix=f"gcwm-explore-{database}-") as tmp:
        base = model.machine_for(database, processes=processes, root=Path(tmp), skip=skip)

        class Counted(base):  # type: ignore[misc, valid-type]
            def __init__(self) -> None:
                counts.made += 1
                super().__init__()

            def teardown(self) -> None:
                try:
                    super().teardown()
                finally:
                    if self.failed and counts.failed_at is None:
                        counts.failed_at = counts.made

        Counted.__name__ = base.__name__
        Counted.__qualname__ = base.__qualname__
        if seed_value is not None:
            seed(seed_value)(Counted)
        if blob is not None:
            reproduce_failure(__version__, blob.encode())(Counted)
        phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
        budget = settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=phases,
            print_blob=True,
        )
        model.REACHED.clear()
        model.STEP_SECONDS.clear()
        model.INCIDENTS.clear()
        started = time.perf_counter()
        try:
            # gcwm's own notices (the audit key it made for each example's home) go to a file.
            with (
                with_reporter(lambda line: outcome.reproduction.append(str(line))),
                (Path(tmp) / "stderr.log").open("w") as stderr,
                contextlib.redirect_stderr(stderr),
            ):
                run_state_machine_as_test(Counted, settings=budget)
        except Exception as exc:  # the failures hypothesis shrank (or a harness error): report them
            for found in _leaves(exc):
                outcome.failures.append(_describe(found))
            notes = getattr(exc, "__notes__", [])
            outcome.reproduction += [n for n in notes if n not in outcome.reproduction]
        outcome.seconds = time.perf_counter() - started
        failed_at = counts.failed_at
        outcome.examples = counts.made if failed_at is None else failed_at
        outcome.replays = 0 if failed_at is None else counts.made - failed_at
        outcome.reached = Counter(model.REACHED)
        outcome.step_seconds = dict(model.STEP_SECONDS)
        outcome.incidents = list(model.INCIDENTS)
    return outcome


def _leaves(exc: BaseException) -> list[BaseException]:
    """The failures inside hypothesis's groups (several distinct bugs, or a flaky one)."""
    if isinstance(exc, BaseExceptionGroup):
        kind = type(exc).__name__
        leaves = [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
        if kind != "ExceptionGroup":  # e.g. FlakyFailure: say so on each
            for leaf in leaves:
                leaf.add_note(f"({kind}: {exc.message})")
        return leaves
    return [exc]


def _describe(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(exc)).strip()
    frames = traceback.extract_tb(exc.__traceback__)
    where = next((f for f in reversed(frames) if "/tests/model/" in f.filename), None)
    return f"{text}\n  (raised at {where.filename}:{where.lineno} in {where.name})" if where else text


def _print_incidents(incidents: list[model.Incident]) -> None:
    """Each distinct failure any example met (its last line), with the first example's steps: a failure
    timing decides may not replay, so hypothesis cannot always shrink or even report it."""
    seen: dict[str, model.Incident] = {}
    counts: Counter[str] = Counter()
    for incident in incidents:
        key = _headline(incident.error)
        counts[key] += 1
        seen.setdefault(key, incident)
    if not seen:
        return
    print(f"\nincidents (every failure an example met, {len(incidents)} in all, by kind):")
    for key, incident in seen.items():
        print(f"\n  {counts[key]} x {key}")
        print("    first met after: " + "; ".join(incident.steps))
        print("    " + incident.error.rstrip().replace("\n", "\n    ")[-3000:])


def _headline(error: str) -> str:
    """The failure's kind: its exception line, ids and numbers left out."""
    lines = [line for line in error.strip().splitlines() if line and not line.startswith(" ")]
    last = lines[-1] if lines else error.strip()
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+(\.\d+)?", "#", last)[:200]


def _print(outcome: Outcome) -> None:
    print(f"\n== {outcome.database} ==")
    if outcome.skipped:
        print(f"skipped: {outcome.skipped}")
        return
    replays = f" (+{outcome.replays} replays while shrinking)" if outcome.replays else ""
    print(
        f"examples: {outcome.examples}{replays}; failures: {len(outcome.failures)}; "
        f"incidents: {len(outcome.incidents)}; {outcome.seconds:.1f} s"
    )
    for failure in outcome.failures:
        print("\nFAILURE:")
        print(failure)
        print("\nminimal reproduction (hypothesis):")
        for line in outcome.reproduction:
            print(f"    {line}")
    _print_incidents(outcome.incidents)
    print("\nwhat the steps reached:")
    for what, n in sorted(outcome.reached.items()):
        print(f"  {n:6d}  {what}")
    print("\nseconds spent per kind of step:")
    for what, seconds in sorted(outcome.step_seconds.items(), key=lambda item: -item[1]):
        print(f"  {seconds:8.1f}  {what}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, required=True, help="examples per database")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--steps", type=int, default=10, help="steps per example (default 10)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis's seed (default: random)")
    parser.add_argument("--no-processes", action="store_true", help="no `gcwm` worker processes")
    parser.add_argument("--no-shrink", action="store_true", help="report a failure as found, unshrunk")
    parser.add_argument(
        "--skip-known",
        action="store_true",
        help="stay off the paths of the bugs found and not fixed (tests/model/machine.py KNOWN_OPEN)",
    )
    parser.add_argument("--json", action="store_true", help="also print the summary as one JSON line")
    parser.add_argument(
        "--reproduce", metavar="BLOB", help="run the one example of a @reproduce_failure blob"
    )
    args = parser.parse_args()
    configure_logging(level="critical")  # gcwm's and the emulator's logs: the report says what matters

    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    started = time.perf_counter()
    outcomes = []
    for database in databases:
        problem = _postgres_problem() if database == "postgresql" else None
        if problem is not None:
            outcomes.append(Outcome(database, skipped=problem))
            _print(outcomes[-1])
            continue
        outcomes.append(
            explore(
                database,
                examples=args.examples,
                steps=args.steps,
                seed_value=args.seed,
                processes=not args.no_processes,
                shrink=not args.no_shrink,
                blob=args.reproduce,
                skip=frozenset(model.KNOWN_OPEN) if args.skip_known else frozenset(),
            )
        )
        _print(outcomes[-1])
    wall = time.perf_counter() - started
    ran = [o for o in outcomes if not o.skipped]
    failures = sum(len(o.failures) for o in ran)
    incidents = sum(len(o.incidents) for o in ran)
    per = ", ".join(f"{o.database} {o.examples}" for o in ran)
    print(
        f"\nexplore: {sum(o.examples for o in ran)} examples of {args.steps} steps ({per}), "
        f"{failures} failure(s) reported by hypothesis, {incidents} incident(s), {wall:.0f} s wall"
        + "".join(f"; {o.database} SKIPPED" for o in outcomes if o.skipped)
    )
    if args.json:
        summary: dict[str, Any] = {
            "steps": args.steps,
            "wallSeconds": round(wall, 1),
            "databases": {
                o.database: {
                    "examples": o.examples,
                    "replays": o.replays,
                    "failures": o.failures,
                    "incidents": len(o.incidents),
                    "seconds": round(o.seconds, 1),
                    "skipped": o.skipped,
                }
                for o in outcomes
            },
        }
        print(json.dumps(summary))
    if failures or incidents:
        sys.exit(1)
    if any(o.skipped for o in outcomes):
        sys.exit(2)


if __name__ == "__main__":
    main()
