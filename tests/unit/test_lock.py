"""CI installs requirements/ci.lock (`pip install --require-hashes`): it must pin every requirement of
pyproject.toml that CI installs, at a version its range allows, each with the hashes of its files.

Offline: this reads the two files and does not resolve. Regenerate the lock with the command in its
header after changing a range (or to take new releases), then run the tests on it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[2]
LOCK = ROOT / "requirements" / "ci.lock"
BUILD_IN = ROOT / "requirements" / "build.in"
EXTRAS = ("test", "postgres")  # what .ci/run tests: the test extra, which names postgres too
# Where CI runs (README: Python 3.11 on Linux x86_64): markers are judged for it.
CI = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s\\;]+)")


def _project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _locked() -> dict[str, tuple[Version, list[str]]]:
    """name -> (pinned version, its hashes), from the lock's `name==version \\ --hash=...` blocks."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    current: str | None = None
    for line in LOCK.read_text().splitlines():
        if match := _PIN.match(line):
            current = canonicalize_name(match["name"])
            assert current not in pins, f"{current} is pinned twice"
            pins[current] = (Version(match["version"]), [])
        elif (hashed := line.strip()).startswith("--hash=") and current is not None:
            pins[current][1].append(hashed.removeprefix("--hash=").rstrip(" \\"))
        elif line and not line.startswith((" ", "#")):
            current = None
            pytest.fail(f"{LOCK.name}: a line that is not a pin: {line!r}")
    return pins


def _requirements() -> list[tuple[str, Requirement]]:
    """Every requirement CI installs: runtime, the extras it names, the build backend; with where
    each is written."""
    project = _project()
    meta = project["project"]
    assert isinstance(meta, dict)
    found = [("dependencies", Requirement(r)) for r in meta["dependencies"]]
    for extra in EXTRAS:
        found += [
            (f"optional-dependencies.{extra}", Requirement(r)) for r in meta["optional-dependencies"][extra]
        ]
    build = project["build-system"]
    assert isinstance(build, dict)
    found += [("build-system.requires", Requirement(r)) for r in build["requires"]]
    lines = [line.split("#", 1)[0].strip() for line in BUILD_IN.read_text().splitlines()]
    found += [(BUILD_IN.name, Requirement(line)) for line in lines if line]
    return [(where, r) for where, r in found if r.marker is None or r.marker.evaluate(CI)]


def test_the_lock_pins_every_requirement_within_its_range() -> None:
    """A range changed in pyproject.toml without regenerating the lock fails here, naming both."""
    pins = _locked()
    wrong = []
    for where, requirement in _requirements():
        name = canonicalize_name(requirement.name)
        if name == "gcwm":  # the test extra names gcwm[postgres]: its extra is checked as one of EXTRAS
            assert set(requirement.extras) <= set(EXTRAS), requirement
            continue
        if name not in pins:
            wrong.append(f"{where}: {requirement} is not in {LOCK.name}")
        elif not requirement.specifier.contains(pins[name][0], prereleases=True):
            wrong.append(f"{where}: {requirement} but {LOCK.name} pins {name}=={pins[name][0]}")
    assert not wrong, "regenerate the lock (the command is in its header):\n" + "\n".join(wrong)


def test_every_pin_carries_sha256_hashes() -> None:
    """`pip install --require-hashes` refuses a pin without one; and nothing is pinned by URL."""
    pins = _locked()
    assert len(pins) > 50, "the lock looks truncated"
    for name, (_, hashes) in pins.items():
        assert hashes, f"{name} has no --hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (name, hashes)


def test_the_lock_was_made_for_what_ci_installs() -> None:
    """Its header's command names pyproject.toml, the build requirements and both extras."""
    header = [line for line in LOCK.read_text().splitlines() if line.startswith("#")][:3]
    command = next((line for line in header if "compile" in line), "")
    for part in ("pyproject.toml", "requirements/build.in", "--generate-hashes", "--python-version 3.11"):
        assert part in command, (part, command)
    for extra in EXTRAS:
        assert f"--extra {extra}" in command, (extra, command)


def test_the_postgres_driver_is_an_extra_not_a_dependency() -> None:
    """SQLite installs do not need psycopg; `gcwm[postgres]` and the test extra bring it."""
    meta = _project()["project"]
    assert isinstance(meta, dict)
    runtime = {canonicalize_name(Requirement(r).name) for r in meta["dependencies"]}
    assert "psycopg" not in runtime
    assert any(Requirement(r).name == "psycopg" for r in meta["optional-dependencies"]["postgres"])
    assert "gcwm[postgres]" in meta["optional-dependencies"]["test"]


def test_every_runtime_dependency_has_an_upper_bound() -> None:
    """Each is bounded below the release allowed to break it (pyproject.toml says why, where it is 0.x)."""
    meta = _project()["project"]
    assert isinstance(meta, dict)
    extras = [
        r
        for name in meta["optional-dependencies"]
        if name != "test"
        for r in meta["optional-dependencies"][name]
    ]
    unbounded = [
        r
        for r in [*meta["dependencies"], *extras]
        if not any(spec.operator in ("<", "<=", "==", "~=") for spec in Requirement(r).specifier)
    ]
    assert not unbounded
