"""Mutation run over gcwm's pure rooms: how many small faults each module's own unit tests notice.

One mutant at a time: the module's source is parsed, one node is changed (a comparison or boolean
operator swapped, an arithmetic or set operator swapped, a number +1 or -1, True/False flipped, a
string emptied, `return X` made `return None`, a statement made `pass`, a condition negated or its
`not` dropped), the module is written into a private copy of the `gcwm` package that shadows `src/`
(first on `sys.path` and on PYTHONPATH), and the module's unit tests run (`-x`, one process, a
per-mutant timeout). A test failing (or the import failing) kills the mutant; all passing lets it
survive. Docstrings, annotations, imports, `__all__` and `if TYPE_CHECKING:` blocks are never mutated.

Mutants another session judged equivalent (no test could tell them from the original) are kept in
`bench/mutation_equivalent.json`, keyed by mutant id, each with its reason; they are listed, not
hidden, and left out of the score. An id is stable while the code it names keeps its text and its
enclosing function: `module:qualname:kind:hash`.

Each mutant runs in a child forked from this process with the third-party modules the tests need
already imported (pydantic, httpx, hypothesis...): only gcwm and the tests are imported anew, so a
mutant costs about what its tests take. Not run in CI: a full run takes tens of minutes.

    python bench/mutation.py                               # every module below, 2 at a time
    python bench/mutation.py --module policy/domains.py    # one module, its default tests
    python bench/mutation.py --module spec.py --tests tests/unit/test_spec.py tests/unit/test_x.py
    python bench/mutation.py --module notify/schedule.py --list        # the mutants, not run
    python bench/mutation.py --show 'notify/schedule.py:is_final:cmp:1a2b3c4d'   # one mutant's diff
    python bench/mutation.py --json results.json           # also write every mutant's outcome
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import hashlib
import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "gcwm"
UNIT = ROOT / "tests" / "unit"
EQUIVALENT_FILE = Path(__file__).with_name("mutation_equivalent.json")

_PLAN_TESTS = (
    "test_plan.py",
    "test_plan_versions.py",
    "test_mapping.py",
    "test_plan_fields.py",
    "test_mapping_fields.py",
    "test_plan_document.py",
)
_CSP_TESTS = ("test_csp.py", "test_csp_tables.py", "test_csp_checks.py")


@dataclass(frozen=True)
class Target:
    """A module to mutate (relative to src/gcwm), its unit tests (in tests/unit; absent ones are
    skipped), and, where only part of it is pure, the top-level names whose code is mutated."""

    module: str
    tests: tuple[str, ...]
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()


TARGETS: tuple[Target, ...] = (
    Target("policy/__init__.py", ("test_policy_exports.py", "test_itsm_policy.py", "test_refusal.py")),
    Target("policy/domains.py", ("test_domains.py", "test_domain_messages.py")),
    Target("policy/csp.py", _CSP_TESTS),
    Target("policy/csp_checks.py", _CSP_TESTS),
    Target("policy/csp_allows.py", ("test_csp_allows.py", "test_preview.py")),
    Target("policy/html.py", ("test_html.py",)),
    Target("policy/rules.py", ("test_limits.py", "test_itsm_policy.py", "test_policy_rules.py")),
    Target("audit/chain.py", ("test_audit.py", "test_audit_verify.py", "test_audit_chain.py")),
    # The walk and its diagnosis; reading the store (verify_store, _ColumnCheck's reads) is
    # integration-tested against SQLite and PostgreSQL.
    Target(
        "audit/verify.py",
        ("test_audit_verify.py", "test_audit_walk.py"),
        skip=("verify_store", "_ColumnCheck.rows", "_ColumnCheck._compare_one"),
    ),
    # The address classifier and its tables; the guarded client's sending is integration-tested.
    Target(
        "notify/ssrf.py",
        ("test_notify_ssrf.py", "test_ssrf_classify.py"),
        only=(
            "classify",
            "classify_host",
            "address_refusal",
            "_NETWORKS",
            "_KINDS",
            "_TRANSLATED",
            "_NAT64",
            "_REFUSABLE",
            "_IPV4_LEGACY",
        ),
    ),
    Target("notify/schedule.py", ("test_notify_schedule.py", "test_notify_schedule_edges.py")),
    Target("provisioning/plan.py", _PLAN_TESTS),
    Target("provisioning/mapping.py", _PLAN_TESTS),
    Target("spec.py", ("test_spec.py", "test_spec_fields.py")),
    Target("policy/limits.py", ("test_limits.py", "test_limit_messages.py")),
)

_CMP_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BIN_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
    ast.BitXor: ast.BitOr,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_OP_TEXT = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
    ast.And: "and", ast.Or: "or",
}  # fmt: skip


# --- making mutants -------------------------------------------------------------------------------


@dataclass
class Site:
    """One mutation of one node: `apply` changes the freshly parsed tree in place."""

    kind: str
    qualname: str
    line: int
    before: str
    after: str
    apply: Callable[[], None]
    key: str = ""  # the node's text, for the id


@dataclass
class Mutant:
    id: str
    module: str
    line: int
    qualname: str
    kind: str
    description: str
    source: str


def _short(text: str, width: int = 70) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _assigned_names(stmt: ast.stmt) -> list[str]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
    return [t.id for t in targets if isinstance(t, ast.Name)]


class _Sites:
    """Walks a module in a fixed order and yields every mutation site, each bound to this tree."""

    def __init__(self, tree: ast.Module, *, describe: bool = True) -> None:
        self.tree = tree
        self.describe = describe

    def _text(self, node: ast.AST) -> str:
        # Unparsing every node is what costs: only the listing pass describes the sites.
        return ast.unparse(node) if self.describe else ""

    def __iter__(self) -> Iterator[Site]:
        yield from self._body(self.tree, "body", self.tree.body, "")

    # Statements: deletion, then what is inside.
    def _body(self, owner: ast.AST, name: str, body: list[ast.stmt], qual: str) -> Iterator[Site]:
        for index, stmt in enumerate(body):
            if index == 0 and _is_docstring(stmt) and name == "body":
                continue
            if isinstance(stmt, ast.Import | ast.ImportFrom | ast.Global | ast.Nonlocal | ast.Pass):
                continue
            if _is_type_checking(stmt):
                continue
            here = qual
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                here = f"{qual}.{stmt.name}" if qual else stmt.name
                for decorator in stmt.decorator_list:
                    yield from self._expr(decorator, here)
                if isinstance(stmt, ast.ClassDef):
                    for base in [*stmt.bases, *stmt.keywords]:
                        yield from self._expr(base, here)
                else:
                    yield from self._arguments(stmt.args, here)
                yield from self._body(stmt, "body", stmt.body, here)
                continue
            if not qual:
                names = _assigned_names(stmt) if isinstance(stmt, ast.Assign | ast.AnnAssign) else []
                if "__all__" in names:
                    continue
                here = names[0] if names else "<module>"
            yield self._delete(body, index, stmt, here)
            yield from self._stmt(stmt, here)

    def _delete(self, body: list[ast.stmt], index: int, stmt: ast.stmt, qual: str) -> Site:
        def apply() -> None:
            body[index] = ast.copy_location(ast.Pass(), stmt)

        text = self._text(stmt)
        first = text.splitlines()[0] if text else ""
        return Site("delete", qual, stmt.lineno, _short(first), "pass", apply, key=text)

    def _stmt(self, stmt: ast.stmt, qual: str) -> Iterator[Site]:
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            value = stmt.value
            if not (isinstance(value, ast.Constant) and value.value is None):

                def apply(stmt: ast.Return = stmt) -> None:
                    stmt.value = ast.Constant(None)

                text = self._text(stmt)
                yield Site("return-none", qual, stmt.lineno, _short(text), "return None", apply, key=text)
        if isinstance(stmt, ast.If | ast.While):
            yield from self._negate(stmt, "test", qual)
        for name, value in ast.iter_fields(stmt):
            if name in ("annotation", "returns", "type_comment", "decorator_list"):
                continue
            if name in ("body", "orelse", "finalbody") and isinstance(value, list):
                yield from self._body(stmt, name, value, qual)
            elif name == "handlers":
                for handler in value:
                    if handler.type is not None:
                        yield from self._expr(handler.type, qual)
                    yield from self._body(handler, "handler", handler.body, qual)
            elif name == "cases":
                for case in value:
                    if case.guard is not None:
                        yield from self._expr(case.guard, qual)
                    yield from self._body(case, "case", case.body, qual)
            elif name == "items":  # with-items
                for item in value:
                    yield from self._expr(item.context_expr, qual)
            elif isinstance(value, ast.expr):
                if isinstance(stmt, ast.AnnAssign) and name == "target":
                    continue
                yield from self._expr(value, qual)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.expr):
                        yield from self._expr(item, qual)

    def _arguments(self, args: ast.arguments, qual: str) -> Iterator[Site]:
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            yield from self._expr(default, qual)

    def _negate(self, node: ast.AST, attr: str, qual: str) -> Iterator[Site]:
        test = getattr(node, attr)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return  # dropping the `not` (below) is that mutant

        def apply() -> None:
            setattr(node, attr, ast.UnaryOp(ast.Not(), test))

        text = self._text(test)
        yield Site("negate", qual, test.lineno, _short(text), f"not ({_short(text, 40)})", apply, key=text)

    def _expr(self, node: ast.expr, qual: str) -> Iterator[Site]:
        """Sites in an expression, outermost first, then its children left to right."""
        if isinstance(node, ast.JoinedStr):
            for value in node.values:  # the literal parts of an f-string stay
                if isinstance(value, ast.FormattedValue):
                    yield from self._expr(value.value, qual)
            return
        if isinstance(node, ast.Lambda):
            yield from self._arguments(node.args, qual)
            yield from self._expr(node.body, qual)
            return
        yield from self._here(node, qual)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                yield from self._expr(child, qual)
            elif isinstance(child, ast.comprehension):
                yield from self._expr(child.iter, qual)
                for index in range(len(child.ifs)):
                    yield from self._comprehension_if(child, index, qual)
            elif isinstance(child, ast.keyword):
                yield from self._expr(child.value, qual)

    def _comprehension_if(self, comp: ast.comprehension, index: int, qual: str) -> Iterator[Site]:
        test = comp.ifs[index]
        if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)):

            def apply() -> None:
                comp.ifs[index] = ast.UnaryOp(ast.Not(), test)

            text = self._text(test)
            yield Site(
                "negate", qual, test.lineno, _short(text), f"not ({_short(text, 40)})", apply, key=text
            )
        yield from self._expr(test, qual)

    def _here(self, node: ast.expr, qual: str) -> Iterator[Site]:
        line = getattr(node, "lineno", 0)
        text = self._text(node)
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                swap = _CMP_SWAP.get(type(op))
                if swap is None:
                    continue

                def apply(i: int = i, swap: type[ast.cmpop] = swap) -> None:
                    node.ops[i] = swap()

                desc = f"{_OP_TEXT[type(op)]} -> {_OP_TEXT[swap]}"
                yield Site("cmp", qual, line, _short(text), desc, apply, key=f"{text}#{i}")
        elif isinstance(node, ast.BoolOp):
            swap_bool = ast.Or if isinstance(node.op, ast.And) else ast.And

            def apply_bool() -> None:
                node.op = swap_bool()

            desc = f"{_OP_TEXT[type(node.op)]} -> {_OP_TEXT[swap_bool]}"
            yield Site("bool", qual, line, _short(text), desc, apply_bool, key=text)
        elif isinstance(node, ast.BinOp):
            swap_bin = _BIN_SWAP.get(type(node.op))
            if swap_bin is not None:

                def apply_bin(swap: type[ast.operator] = swap_bin) -> None:
                    node.op = swap()

                desc = f"{_OP_TEXT[type(node.op)]} -> {_OP_TEXT[swap_bin]}"
                yield Site("arith", qual, line, _short(text), desc, apply_bin, key=text)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            # The operand stands in for the `not`: the condition negated back.
            def unwrap() -> None:
                _Holder(self.tree, node).unwrap()

            operand = self._text(node.operand)
            yield Site("negate", qual, line, _short(text), _short(operand), unwrap, key=text)
        elif isinstance(node, ast.IfExp):
            yield from self._negate(node, "test", qual)
        elif isinstance(node, ast.Constant):
            yield from self._constant(node, qual, line)

    def _constant(self, node: ast.Constant, qual: str, line: int) -> Iterator[Site]:
        value = node.value
        if isinstance(value, bool):

            def flip() -> None:
                node.value = not value

            yield Site("const", qual, line, repr(value), repr(not value), flip, key=repr(value))
        elif isinstance(value, int | float):
            for delta in (1, -1):

                def shift(delta: int = delta) -> None:
                    node.value = value + delta

                yield Site(
                    "const", qual, line, repr(value), repr(value + delta), shift, key=f"{value!r}{delta:+d}"
                )
        elif isinstance(value, str | bytes) and value:

            def empty() -> None:
                node.value = value[:0]

            yield Site("const", qual, line, _short(repr(value), 50), repr(value[:0]), empty, key=repr(value))


class _Holder:
    """Finds where a node hangs in the tree, to put its operand in its place."""

    def __init__(self, tree: ast.AST, node: ast.UnaryOp) -> None:
        self.node = node
        self.found: tuple[ast.AST, str, int | None] | None = None
        for parent in ast.walk(tree):
            for name, value in ast.iter_fields(parent):
                if value is node:
                    self.found = (parent, name, None)
                elif isinstance(value, list):
                    for i, item in enumerate(value):
                        if item is node:
                            self.found = (parent, name, i)

    def unwrap(self) -> None:
        assert self.found is not None
        parent, name, index = self.found
        if index is None:
            setattr(parent, name, self.node.operand)
        else:
            getattr(parent, name)[index] = self.node.operand


def _wanted(qualname: str, target: Target) -> bool:
    def under(prefixes: tuple[str, ...]) -> bool:
        return any(qualname == p or qualname.startswith(p + ".") for p in prefixes)

    return (not target.only or under(target.only)) and not under(target.skip)


def make_mutants(target: Target) -> list[Mutant]:
    """Every mutant of the module, in source order, without duplicates or no-op changes."""
    path = PACKAGE / target.module
    text = path.read_text()
    original = ast.unparse(ast.parse(text))
    described = list(_Sites(ast.parse(text)))
    mutants: list[Mutant] = []
    seen_sources = {original}
    seen_ids: dict[str, int] = {}
    for number, site in enumerate(described):
        if not _wanted(site.qualname, target):
            continue
        tree = ast.parse(text)
        fresh = next(s for i, s in enumerate(_Sites(tree, describe=False)) if i == number)
        fresh.apply()
        ast.fix_missing_locations(tree)
        try:
            source = ast.unparse(tree)
            compile(source, str(path), "exec")
        except (SyntaxError, ValueError):
            continue  # e.g. `pass` where an expression is needed: not a mutant Python runs
        if source in seen_sources:
            continue
        seen_sources.add(source)
        digest_in = f"{site.key}|{site.after}"
        occurrence = seen_ids.get(f"{site.qualname}|{site.kind}|{digest_in}", 0)
        seen_ids[f"{site.qualname}|{site.kind}|{digest_in}"] = occurrence + 1
        digest = hashlib.sha1(f"{digest_in}|{occurrence}".encode()).hexdigest()[:8]
        mutant_id = f"{target.module}:{site.qualname}:{site.kind}:{digest}"
        description = (
            f"{site.before}  =>  {site.after}" if site.kind != "delete" else f"deleted: {site.before}"
        )
        if site.kind in ("cmp", "bool", "arith"):
            description = f"{site.after} in {site.before}"
        mutants.append(
            Mutant(mutant_id, target.module, site.line, site.qualname, site.kind, description, source)
        )
    return mutants


def original_source(target: Target) -> str:
    return ast.unparse(ast.parse((PACKAGE / target.module).read_text()))


# --- running them ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, survived, timeout
    seconds: float


@dataclass
class Slot:
    """A private copy of the package, and the child running a mutant in it (if any)."""

    root: Path
    pid: int | None = None
    mutant: Mutant | None = None
    started: float = 0.0
    log: Path = field(default_factory=Path)


def _prepare_slot(base: Path, number: int) -> Slot:
    root = base / f"slot{number}"
    shutil.copytree(PACKAGE, root / "gcwm", ignore=shutil.ignore_patterns("__pycache__"))
    import compileall

    compileall.compile_dir(str(root / "gcwm"), quiet=2)
    (root / "work").mkdir()
    return Slot(root, log=root / "pytest.log")


def _cache_file(slot: Slot, module: str) -> Path:
    path = slot.root / "gcwm" / module
    return path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc"


def _pytest_args(tests: list[Path]) -> list[str]:
    return [
        *map(str, tests),
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        # Plugins' packages (anyio, hypothesis) are imported before pytest starts, so it cannot rewrite
        # their asserts, and says so; only the tests' own asserts matter here.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        f"--rootdir={ROOT}",
        "-c",
        str(ROOT / "pyproject.toml"),
    ]


def _start(
    slot: Slot, module: str, source: str | None, tests: list[Path], modules_out: Path | None = None
) -> int:
    """Fork a child that runs `tests` with `source` as `module` in the slot's package copy."""
    target = slot.root / "gcwm" / module
    _cache_file(slot, module).unlink(missing_ok=True)
    if source is not None:
        target.write_text(source)
    else:
        shutil.copyfile(PACKAGE / module, target)
    pid = os.fork()
    if pid:
        return pid
    # The child: its own process group (so a timeout ends whatever it started), its output to the log.
    try:
        os.setpgid(0, 0)
        fd = os.open(slot.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.chdir(slot.root / "work")
        sys.dont_write_bytecode = True
        for name in list(sys.modules):
            if name == "gcwm" or name.startswith(("gcwm.", "tests", "conftest")):
                del sys.modules[name]
        sys.path.insert(0, str(slot.root))
        os.environ["PYTHONPATH"] = os.pathsep.join([str(slot.root), os.environ.get("PYTHONPATH", "")])
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        import pytest

        code = int(pytest.main(_pytest_args(tests)))
        if modules_out is not None:
            modules_out.write_text("\n".join(sorted(sys.modules)))
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 99
    os._exit(code)


def _end(slot: Slot) -> None:
    if slot.pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(slot.pid, signal.SIGKILL)
        os.waitpid(slot.pid, 0)
    slot.pid = None


def _preload(names: list[str]) -> None:
    """Import the third-party modules the tests use, once, so children inherit them."""
    for name in names:
        if name.startswith(("gcwm", "tests", "conftest", "test_", "__main__", "__mp_main__")):
            continue
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except BaseException:
            continue


def run_target(
    target: Target,
    tests: list[Path],
    base: Path,
    slots: list[Slot],
    timeout_s: float | None,
    ids: set[str] | None = None,
) -> tuple[list[Outcome], float]:
    """Run every mutant of `target`; returns the outcomes and the unmutated run's seconds."""
    # The unmutated module as the mutants are written (unparsed), which must pass.
    started = time.monotonic()
    modules_out = base / "modules.txt"
    slot = slots[0]
    slot.pid = _start(slot, target.module, original_source(target), tests, modules_out)
    _, status = os.waitpid(slot.pid, 0)
    slot.pid = None
    baseline = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        names = ", ".join(t.name for t in tests)
        msg = f"{target.module}: its tests fail unmutated ({names}):\n{slot.log.read_text()[-3000:]}"
        raise SystemExit(msg)
    if modules_out.exists():
        _preload(modules_out.read_text().split())
        # And once more with those imported, as every mutant will run.
        slot.pid = _start(slot, target.module, original_source(target), tests)
        _, status = os.waitpid(slot.pid, 0)
        slot.pid = None
        if os.waitstatus_to_exitcode(status) != 0:
            msg = (
                f"{target.module}: its tests fail unmutated in a forked run:\n{slot.log.read_text()[-3000:]}"
            )
            raise SystemExit(msg)
    # Generous: a mutant that only makes the tests slower is not what a timeout should catch, and the
    # machine may be busy (a survivor runs every test; the unmutated run stops at none).
    limit = timeout_s or max(60.0, 10 * baseline)
    mutants = [m for m in make_mutants(target) if ids is None or m.id in ids]
    pending = list(mutants)
    outcomes: list[Outcome] = []
    running: dict[int, Slot] = {}
    while pending or running:
        for slot in slots:
            if slot.pid is None and pending:
                slot.mutant = pending.pop(0)
                slot.started = time.monotonic()
                slot.pid = _start(slot, target.module, slot.mutant.source, tests)
                running[slot.pid] = slot
        time.sleep(0.01)
        for pid, slot in list(running.items()):
            assert slot.mutant is not None
            done, status = os.waitpid(pid, os.WNOHANG)
            took = time.monotonic() - slot.started
            if done:
                code = os.waitstatus_to_exitcode(status)
                slot.pid = None
                outcomes.append(Outcome(slot.mutant, "survived" if code == 0 else "killed", took))
            elif took > limit:
                _end(slot)
                outcomes.append(Outcome(slot.mutant, "timeout", took))
            else:
                continue
            del running[pid]
            if sys.stderr.isatty():
                print(
                    f"\r  {target.module}: {len(outcomes)}/{len(mutants)}",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for slot in slots:  # the next module starts from the original package
        shutil.copyfile(PACKAGE / target.module, slot.root / "gcwm" / target.module)
        _cache_file(slot, target.module).unlink(missing_ok=True)
    order = {m.id: i for i, m in enumerate(mutants)}
    outcomes.sort(key=lambda o: order[o.mutant.id])
    return outcomes, baseline


# --- reporting ------------------------------------------------------------------------------------


def load_equivalent() -> dict[str, dict[str, str]]:
    if not EQUIVALENT_FILE.exists():
        return {}
    return json.loads(EQUIVALENT_FILE.read_text())


def _row(module: str, outcomes: list[Outcome], equivalent: dict[str, dict[str, str]]) -> dict[str, object]:
    made = len(outcomes)
    killed = sum(o.status == "killed" for o in outcomes)
    timeout = sum(o.status == "timeout" for o in outcomes)
    survivors = [o for o in outcomes if o.status == "survived"]
    equiv = [o for o in survivors if o.mutant.id in equivalent]
    scored = made - len(equiv)
    detected = killed + timeout
    return {
        "module": module,
        "made": made,
        "killed": killed,
        "survived": len(survivors),
        "timeout": timeout,
        "equivalent": len(equiv),
        "score": 100.0 * detected / scored if scored else 100.0,
    }


def print_table(rows: list[dict[str, object]]) -> None:
    head = f"{'module':28} {'made':>5} {'killed':>6} {'surv.':>5} {'t/o':>4} {'equiv':>5} {'% killed':>9}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['module']!s:28} {r['made']:>5} {r['killed']:>6} {r['survived']:>5} {r['timeout']:>4}"
            f" {r['equivalent']:>5} {r['score']:>8.1f}%"
        )
    print("(% killed: killed or timed out, of the mutants not listed as equivalent)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--module", action="append", help="a module under src/gcwm (repeatable); default: all"
    )
    parser.add_argument("--tests", nargs="+", type=Path, help="test files to run instead of the module's own")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants run at once")
    parser.add_argument(
        "--timeout", type=float, help="seconds per mutant (default: 10x the unmutated run, at least 60)"
    )
    parser.add_argument("--ids", nargs="+", help="run only these mutants (ids as listed)")
    parser.add_argument("--list", action="store_true", help="list the mutants; run nothing")
    parser.add_argument("--show", metavar="ID", help="print one mutant's diff and exit")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    args = parser.parse_args()

    by_module = {t.module: t for t in TARGETS}
    if args.module:
        unknown = [m for m in args.module if m not in by_module]
        if unknown:
            parser.error(f"unknown module {unknown}; known: {', '.join(by_module)}")
        targets = [by_module[m] for m in args.module]
    else:
        targets = list(TARGETS)
    equivalent = load_equivalent()

    if args.show:
        module = next(m for m in by_module if args.show.startswith(m + ":"))
        mutant = next((m for m in make_mutants(by_module[module]) if m.id == args.show), None)
        if mutant is None:
            raise SystemExit(f"no mutant {args.show}")
        diff = difflib.unified_diff(
            original_source(by_module[module]).splitlines(),
            mutant.source.splitlines(),
            "original",
            "mutant",
            lineterm="",
            n=2,
        )
        print(f"{mutant.id}  line {mutant.line}  {mutant.description}")
        print("\n".join(diff))
        return
    if args.list:
        for target in targets:
            for m in make_mutants(target):
                print(f"{m.module}:{m.line}\t{m.id}\t{m.description}")
        return

    rows: list[dict[str, object]] = []
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="gcwm-mutation-") as tmp:
        base = Path(tmp)
        slots = [_prepare_slot(base, n) for n in range(max(1, args.jobs))]
        for target in targets:
            tests = args.tests or [UNIT / name for name in target.tests if (UNIT / name).exists()]
            tests = [t.resolve() for t in tests]
            if not tests:
                print(f"{target.module}: no unit tests", file=sys.stderr)
                continue
            began = time.monotonic()
            ids = set(args.ids) if args.ids else None
            if ids is not None and not any(i.startswith(target.module + ":") for i in ids):
                continue
            outcomes, baseline = run_target(target, tests, base, slots, args.timeout, ids)
            row = _row(target.module, outcomes, equivalent)
            row["tests"] = [t.name for t in tests]
            row["seconds"] = round(time.monotonic() - began, 1)
            row["baseline_s"] = round(baseline, 2)
            rows.append(row)
            report[target.module] = {
                **row,
                "mutants": [
                    {"id": o.mutant.id, "line": o.mutant.line, "kind": o.mutant.kind,
                     "mutation": o.mutant.description, "status": o.status, "seconds": round(o.seconds, 2)}
                    for o in outcomes
                ],
            }  # fmt: skip
            print(
                f"{target.module}: {row['made']} mutants, {row['killed']} killed, {row['survived']} survived"
                f" ({row['equivalent']} equivalent), {row['timeout']} timed out; {row['seconds']} s",
                file=sys.stderr,
            )
            for o in outcomes:
                if o.status != "survived":
                    continue
                reason = equivalent.get(o.mutant.id, {}).get("reason")
                mark = f"  [equivalent: {reason}]" if reason else ""
                print(
                    f"  survived {o.mutant.module}:{o.mutant.line}  {o.mutant.id} "
                    f" {o.mutant.description}{mark}"
                )
    print()
    print_table(rows)
    made_ids = {m["id"] for r in report.values() for m in r["mutants"]}  # type: ignore[index, union-attr]
    ran = {t.module for t in targets}
    stale = [k for k in equivalent if k.split(":")[0] in ran and k not in made_ids]
    if stale and not args.ids:
        print(f"\n{len(stale)} entries of {EQUIVALENT_FILE.name} name no mutant made now: {', '.join(stale)}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
