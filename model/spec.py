"""Reads a spec file (TOML): the designs to check, the interpreters, the thread programs,
the bounds and the verdict expected for each property. docs/specs.md describes the format.

Every mistake becomes one SpecError naming the file, the line and what to do.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .designs import DESIGNS, resolve
from .ir import System
from .programs import ProgramError, Scenario, ThreadSpec, build_system, parse_program, resize
from .programs.parse import Arg, Call

VERDICTS = ("holds", "violated")
TOP_KEYS = {"name", "summary", "design", "designs", "interpreters", "locks", "events", "shared", "bounds",
            "thread", "atexit", "finalizers", "expect", "queries", "invariants"}
THREAD_KEYS = {"name", "count", "program", "c", "after", "tstate", "attached"}
BOUNDS = {"tstates_per_thread": (1, 6), "nesting": (1, 6), "max_counter": (1, 8)}


class SpecError(Exception):
    def __init__(self, path: str, line: int, message: str, design_mismatch: bool = False):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message
        self.design_mismatch = design_mismatch


@dataclass(frozen=True)
class Spec:
    path: str
    name: str
    summary: str
    scenario: Scenario
    designs: tuple[str, ...]
    expect: dict[str, dict[str, str]]    # design → property → "holds" | "violated"
    warnings: tuple[str, ...] = ()        # what a C translation (`c = ...`) over-approximated, file:line first

    def system(self, design: str) -> System:
        try:
            return build_system(self.scenario, DESIGNS[resolve(design)])
        except ProgramError as err:
            raise SpecError(self.path, err.line, err.message, err.design_mismatch) from err

    def family(self, design: str) -> "Family | None":
        """The systems of this spec with any number of threads of its first thread table
        that has a `count` of 2 or more; None when it has none."""
        tables = [t.table for t in self.scenario.threads]
        table = next((x for x in dict.fromkeys(tables) if tables.count(x) > 1), None)
        if table is None:
            return None

        @lru_cache(maxsize=None)
        def build(count: int) -> System:
            try:
                return build_system(resize(self.scenario, table, count), DESIGNS[resolve(design)], group=table)
            except ProgramError as err:
                raise SpecError(self.path, err.line, err.message, err.design_mismatch) from err
        return Family(table, tables.count(table), build)

    def properties(self, design: str) -> list[str]:
        return list(self.expect.get(resolve(design), {}))


@dataclass(frozen=True)
class Family:
    """One spec's systems for every number of threads of one thread table."""
    table: str
    count: int                        # how many the spec itself asks for
    build: Callable[[int], System]    # the system with that many (its symmetry lists them)


class _Lines:
    """Finds the line of a key in the raw text (tomllib keeps no positions)."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def of(self, key: str, nth: int = 0, after: int = 0) -> int:
        for pat in (re.compile(rf"^\s*(\[+\s*)?\"?{re.escape(key)}\b"), re.compile(rf"\b{re.escape(key)}\s*=")):
            hits = [i + 1 for i, line in enumerate(self.lines) if i + 1 > after and pat.search(line)]
            if hits:
                return hits[nth] if nth < len(hits) else hits[-1]
        return 1

    def program_start(self, key: str, nth: int) -> int:
        """First line of the nth `key = \"\"\"...` string's content."""
        pat = re.compile(rf"^\s*{re.escape(key)}\s*=\s*(\"\"\"|''')(.*)$")
        hits = [(i + 1, m.group(2)) for i, line in enumerate(self.lines) if (m := pat.match(line))]
        if nth >= len(hits):
            return self.of(key, nth)
        line, rest = hits[nth]
        return line if rest.strip() else line + 1


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise SpecError(shown, 0, f"cannot read the spec: {err.strerror}") from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+)", str(err))
        raise SpecError(shown, int(m.group(1)) if m else 1, f"not valid TOML: {err}") from err
    lines = _Lines(text)

    def fail(key: str, message: str, nth: int = 0) -> SpecError:
        return SpecError(shown, lines.of(key, nth), message)

    for key in data:
        if key not in TOP_KEYS:
            raise fail(key, f"unknown key `{key}`; known keys: {', '.join(sorted(TOP_KEYS))}")
    designs = data.get("designs", data.get("design"))
    if designs is None:
        raise SpecError(shown, 1, "no `design`: name one of " + ", ".join(DESIGNS))
    designs = (designs,) if isinstance(designs, str) else tuple(designs)
    for d in designs:
        if resolve(d) not in DESIGNS:
            key = "designs" if "designs" in data else "design"
            raise fail(key, f"unknown design `{d}`; known designs: {', '.join(DESIGNS)}")
    designs = tuple(dict.fromkeys(resolve(d) for d in designs))   # an old name checks the design it is an alias of

    interps = tuple(data.get("interpreters", ["main"]))
    if not interps or interps[0] != "main":
        raise fail("interpreters", "`interpreters` must start with \"main\"")
    bounds = data.get("bounds", {})
    for key, value in bounds.items():
        if key not in BOUNDS:
            raise fail(key, f"unknown bound `{key}`; known bounds: {', '.join(BOUNDS)}")
        lo, hi = BOUNDS[key]
        if not isinstance(value, int) or not lo <= value <= hi:
            raise fail(key, f"bound `{key}` = {value!r} is impossible: use an integer from {lo} to {hi}")

    threads = []
    c_needs = {"locks": [], "warnings": []}    # what threads taken from C functions add to the spec
    raw_threads = data.get("thread", [])
    if not isinstance(raw_threads, list) or not raw_threads:
        raise SpecError(shown, 1, "no threads: add at least one [[thread]] table with a `program`")
    for k, th in enumerate(raw_threads):
        at = lines.of("thread", k)
        for key in th:
            if key not in THREAD_KEYS:
                raise SpecError(shown, lines.of(key, 0, at), f"unknown thread key `{key}`; known: "
                                + ", ".join(sorted(THREAD_KEYS)))
        name = th.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise SpecError(shown, at, "each [[thread]] needs a `name` (letters, digits, _)")
        if ("program" in th) == ("c" in th):
            raise SpecError(shown, at, f"thread {name} needs either a `program` or `c = \"FILE.c:FUNCTION\"`")
        count = th.get("count", 1)
        if not isinstance(count, int) or not 1 <= count <= 12:
            raise SpecError(shown, lines.of("count", 0, at), f"thread {name}: `count` = {count!r} is impossible: "
                            "use an integer from 1 to 12")
        if "c" in th:
            program = _c_thread(th["c"], path, shown, lines.of("c", 0, at), designs[0], data, c_needs)
        else:
            try:
                program = parse_program(th["program"], lines.program_start("program", k))
            except ProgramError as err:
                raise SpecError(shown, err.line, err.message) from err
        if "after" in th:   # the thread starts once another sets this event (a C function cannot wait(E) itself)
            program = (Call(None, "wait", (Arg(str(th["after"]), lines.of("after", 0, at)),),
                            lines.of("after", 0, at)),) + tuple(program)
        for i in range(count):
            inst = name if count == 1 else f"{name}{i + 1}"
            threads.append(ThreadSpec(inst, program, th.get("tstate"), th.get("attached", True), at, name))
    names = [t.name for t in threads]
    if len(set(names)) != len(names):
        raise SpecError(shown, 1, "two threads have the same name: " + ", ".join(sorted({n for n in names if names.count(n) > 1})))

    def prog(key: str) -> tuple:
        if key not in data:
            return ()
        try:
            return parse_program(data[key], lines.program_start(key, 0))
        except ProgramError as err:
            raise SpecError(shown, err.line, err.message) from err

    queries = _predicates(data, "queries", "finalizing(main)", lines, shown)
    invariants = _predicates(data, "invariants", "not deleted(main) or finished(T1)", lines, shown)
    where = {"shared": lines.of("shared"),
             **{f"query:{q}": lines.of(q, 0, lines.of("queries") - 1) for q in queries},
             **{f"invariant:{n}": lines.of(n, 0, lines.of("invariants") - 1) for n in invariants}}
    scenario = Scenario(data.get("name", path.stem), interps, tuple(threads), prog("atexit"), prog("finalizers"),
                        tuple(dict.fromkeys(data.get("locks", []) + c_needs["locks"])), tuple(data.get("events", [])),
                        tuple(data.get("shared", [])),
                        bounds.get("tstates_per_thread", 2), bounds.get("nesting", 3), bounds.get("max_counter", 4),
                        where, tuple(queries.items()), tuple(invariants.items()))
    expect = _expectations(data.get("expect", {}), designs, fail)
    spec = Spec(shown, scenario.name, data.get("summary", ""), scenario, designs, expect, tuple(c_needs["warnings"]))
    for d in designs:   # compile once now so program errors surface at load time
        system = spec.system(d)
        known = {p.name for p in system.properties}
        for prop in expect.get(d, {}):
            if prop not in known:
                raise fail(prop, f"unknown property `{prop}`; known: {', '.join(sorted(known))}")
    return spec


def _c_thread(ref, path: Path, shown: str, line: int, design: str, data: dict, needs: dict) -> tuple:
    """A thread's program from a C function, `c = "FILE.c:FUNCTION"` (FILE relative to the spec)."""
    from .cfront import CFrontError, CSources, translate
    if not isinstance(ref, str) or ":" not in ref:
        raise SpecError(shown, line, "`c` must be \"FILE.c:FUNCTION\", the file relative to this spec")
    file, func = ref.rsplit(":", 1)
    try:
        program = translate(CSources([path.parent / file], [str(path.parent / file)]), func, DESIGNS[design].api)
    except CFrontError as err:
        raise SpecError(shown, line, err.message) from err
    declared = set(data.get("shared", [])) | set(data.get("interpreters", ["main"]))
    missing = [name for name in program.free if name not in declared]
    if missing:
        raise SpecError(shown, line, f"{func}() reads {', '.join(f'`{m}`' for m in missing)} before assigning it: "
                                     "list it under `shared` and assign it in another thread "
                                     f"(e.g. `{missing[0]} = PyInterpreterView_FromCurrent()`)")
    needs["locks"] += program.locks
    needs["warnings"] += [str(w) for w in program.warnings]
    return program.statements()


def _predicates(data: dict, table: str, example: str, lines: _Lines, shown: str) -> dict[str, str]:
    """[queries] and [invariants]: a name (letters, digits, _) to a predicate string."""
    raw = data.get(table, {})
    at = lines.of(table)
    if not isinstance(raw, dict):
        raise SpecError(shown, at, f"[{table}] is a table mapping a name to a predicate string, "
                                   f"e.g. x = \"{example}\"")
    for name, text in raw.items():
        line = lines.of(name, 0, at - 1)
        if not isinstance(text, str) or not text.strip():
            raise SpecError(shown, line, f"[{table}] `{name}` must be a predicate string, "
                                         f"e.g. {name} = \"{example}\"")
        if table == "invariants" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise SpecError(shown, line, f"invariant name `{name}` must be letters, digits and _ "
                                         "(it names a property)")
    return {name: " ".join(text.split()) for name, text in raw.items()}   # a predicate may span lines


def _expectations(raw: dict, designs: tuple[str, ...], fail) -> dict[str, dict[str, str]]:
    """`prop = verdict` applies to every design; an [expect.DESIGN] table overrides it."""
    out: dict[str, dict[str, str]] = {d: {} for d in designs}
    general = [(k, v) for k, v in raw.items() if not isinstance(v, dict)]
    specific = [(resolve(k), v) for k, v in raw.items() if isinstance(v, dict)]
    for key, table in specific:
        if key not in designs:
            raise fail(key, f"[expect.{key}] names a design this spec does not list in `designs`")
    for targets, items in [(list(designs), general)] + [([k], list(t.items())) for k, t in specific]:
        for prop, verdict in items:
            if verdict not in VERDICTS:
                raise fail(prop, f"expected verdict of `{prop}` must be \"holds\" or \"violated\", not {verdict!r}")
            for d in targets:
                out[d][prop] = verdict
    return out
