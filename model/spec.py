"""Reads a spec file (TOML): the designs to check, the interpreters, the thread programs,
the bounds and the verdict expected for each property. docs/specs.md describes the format.

Every mistake becomes one SpecError naming the file, the line and what to do.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from . import files, spec_schema
from .designs import DESIGNS, resolve
from .spec_schema import did_you_mean
from .ir import System
from .programs import ProgramError, Scenario, ThreadSpec, build_system, parse_program, resize
from .programs.parse import MAX_STATEMENTS, Arg, Call, assigned, size

MAX_BYTES = 1 << 20     # a spec is a few kilobytes; a bigger file is not one
MAX_THREADS = 64        # thread instances, `count` included
MAX_TOTAL = 4 * MAX_STATEMENTS   # statements of all thread instances: loading stays within seconds


def one_line(text: str) -> str:
    """`text` with newlines and other control characters escaped: a message quotes the user's
    input, which must neither break the one-line contract nor drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class SpecError(Exception):
    def __init__(self, path: str, line: int, message: str, design_mismatch: bool = False):
        path, message = one_line(str(path)), one_line(message)
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
    built: dict = field(default_factory=dict, compare=False, repr=False)   # design -> its System, built once

    def system(self, design: str) -> System:
        """The System of this spec on `design`, built once (loading builds each, to report
        program errors at their line; every later use shares it: a System is immutable)."""
        design = resolve(design)
        if design not in self.built:
            self.built[design] = self.fresh_system(design)
        return self.built[design]

    def fresh_system(self, design: str) -> System:
        """Built again, for callers that change how designs build (the mutation tool)."""
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
        for pat in (re.compile(rf"^\s*(\[+\s*)?\"?{re.escape(key)}\b"), re.compile(rf"\b{re.escape(key)}\s*="),
                    re.compile(rf"^\s*\[+[^\]]*\.\s*\"?{re.escape(key)}\b")):
            hits = [i + 1 for i, line in enumerate(self.lines) if i + 1 > after and pat.search(line)]
            if hits:
                return hits[nth] if nth < len(hits) else hits[-1]
        return 1

    def at(self, path: tuple) -> int:
        """The line of a schema path: ("thread", 2, "count") is `count` after the third [[thread]]."""
        line = 0
        for i, part in enumerate(path):
            if isinstance(part, int):
                if i == 1:   # the nth table of a top-level array of tables
                    line = self.of(path[0], part)
                continue
            line = self.of(part, 0, max(line - 1, 0))
        return line or 1

    def program_start(self, key: str, nth: int) -> int:
        """First line of the nth `key = \"\"\"...` string's content."""
        pat = re.compile(rf"^\s*{re.escape(key)}\s*=\s*(\"\"\"|''')(.*)$")
        hits = [(i + 1, m.group(2)) for i, line in enumerate(self.lines) if (m := pat.match(line))]
        if nth >= len(hits):
            return self.of(key, nth)
        line, rest = hits[nth]
        return line if rest.strip() else line + 1


def read_text(path: Path, what: str = "spec", limit: int = MAX_BYTES) -> str:
    """The file's text, refusing what is not a `what` before reading it: not a regular file
    (a FIFO would block, /dev/zero never ends), over `limit` bytes, or not UTF-8."""
    shown = files.shown(path)
    try:
        why = files.refusal(path, what, limit)
    except OSError as err:
        raise SpecError(shown, 0, f"cannot read the {what}: {err.strerror}") from err
    if why is not None:
        raise SpecError(shown, 0, why)
    try:
        with path.open("rb") as f:
            raw = f.read(limit + 1)
    except OSError as err:
        raise SpecError(shown, 0, f"cannot read the {what}: {err.strerror}") from err
    if len(raw) > limit:
        raise SpecError(shown, 0, f"too large for a {what} (more than {limit:,} bytes)")
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise SpecError(shown, 1, "the file is UTF-32; save it as UTF-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw[:2].count(0) == 1:
        raise SpecError(shown, 1, "the file is UTF-16; save it as UTF-8")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise SpecError(shown, line, f"not UTF-8 (byte 0x{raw[err.start]:02x}); save the {what} as UTF-8") from err
    if "\x00" in text:
        raise SpecError(shown, text[:text.index("\x00")].count("\n") + 1, "a NUL byte: this is not a text file")
    return text


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    shown = str(path)
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+)", str(err))
        raise SpecError(shown, int(m.group(1)) if m else 1, f"not valid TOML: {err}") from err
    except RecursionError as err:
        raise SpecError(shown, 1, "not valid TOML: arrays or tables nested too deep") from err
    lines = _Lines(text)

    def fail(key: str, message: str, nth: int = 0) -> SpecError:
        return SpecError(shown, lines.of(key, nth), message)

    try:
        spec_schema.check(data)
    except spec_schema.Problem as err:
        raise SpecError(shown, lines.at(err.path), err.message) from err
    spec_name = data.get("name", path.stem)
    if not spec_schema.FILE_NAME.fullmatch(spec_name):
        raise SpecError(shown, 1, f"the file name gives the spec no safe name (\"{spec_name}\": it names output "
                                  "files); add a `name` of letters, digits, _ . -")
    designs = (data["design"],) if "design" in data else tuple(data["designs"])
    designs = tuple(dict.fromkeys(resolve(d) for d in designs))   # an old name checks the design it is an alias of

    def program(key: str, text: str, nth: int) -> tuple:
        try:
            return parse_program(text, lines.program_start(key, nth))
        except ProgramError as err:
            raise SpecError(shown, err.line, err.message) from err

    c_needs: dict[str, list] = {"locks": [], "warnings": []}    # what threads taken from C functions add
    threads = _threads(data, lines, path, shown, designs[0], program, c_needs)
    if len(threads) > MAX_THREADS:
        raise SpecError(shown, lines.of("count"), f"{len(threads)} threads in all (with `count`); at most {MAX_THREADS}")
    total = sum(size(t.program) for t in threads)
    if total > MAX_TOTAL:
        raise SpecError(shown, lines.of("thread"), f"{total:,} statements over all threads (with `count` and "
                                                   f"`repeat`); at most {MAX_TOTAL:,}: split the scenario")
    names = [t.name for t in threads]
    twice = next((t for k, t in enumerate(threads) if t.name in names[:k]), None)
    if twice is not None:
        raise SpecError(shown, twice.line, f"two threads are named {twice.name}; give each its own name")
    finishing = {key: program(key, data[key], 0) for key in ("atexit", "finalizers", "pending_calls", "c_atexit",
                                                             "tstate_clear", "unstable_atexit")
                 if key in data}
    _check_registers(shown, data, [t.program for t in threads] + list(finishing.values()))

    scenario = _scenario(data, lines, spec_name, threads, finishing, c_needs["locks"])
    expect = _expectations(data.get("expect", {}), designs, fail)
    # one line of text, printed and put in reports as it is: control characters escaped (BEL, NUL, U+2028)
    summary = one_line(data.get("summary", ""))
    spec = Spec(shown, scenario.name, summary, scenario, designs, expect, tuple(c_needs["warnings"]))
    _check_compiles(spec, fail)
    return spec


def _scenario(data: dict, lines: "_Lines", name: str, threads: list, finishing: dict, c_locks: list) -> Scenario:
    queries, invariants = _predicates(data, "queries"), _predicates(data, "invariants")
    where = {"shared": lines.of("shared"),
             **{f"query:{q}": lines.of(q, 0, lines.of("queries") - 1) for q in queries},
             **{f"invariant:{n}": lines.of(n, 0, lines.of("invariants") - 1) for n in invariants}}
    bounds = data.get("bounds", {})
    return Scenario(name, tuple(data.get("interpreters", ["main"])), tuple(threads), finishing.get("atexit", ()),
                    finishing.get("finalizers", ()), tuple(dict.fromkeys(data.get("locks", []) + c_locks)),
                    tuple(data.get("events", [])), tuple(data.get("shared", [])),
                    bounds.get("tstates_per_thread", 2), bounds.get("nesting", 3), bounds.get("max_counter", 4),
                    where, tuple(queries.items()), tuple(invariants.items()),
                    finishing.get("pending_calls", ()), finishing.get("c_atexit", ()),
                    finishing.get("tstate_clear", ()), finishing.get("unstable_atexit", ()))


def _threads(data: dict, lines: "_Lines", path: Path, shown: str, design: str, program, c_needs: dict) -> list:
    """The [[thread]] tables as threads, `count` copies of each (a C function's body for `c`)."""
    threads = []
    for k, th in enumerate(data["thread"]):
        at = lines.of("thread", k)
        name, count = th["name"], th.get("count", 1)
        if "c" in th:
            body = _c_thread(th["c"], path, shown, lines.of("c", 0, at), design, data, c_needs)
        else:
            body = program("program", th["program"], k)
        if "after" in th:   # the thread starts once another sets this event (a C function cannot wait(E) itself)
            body = (Call(None, "wait", (Arg(th["after"], lines.of("after", 0, at)),),
                         lines.of("after", 0, at)),) + tuple(body)
        for i in range(count):
            inst = name if count == 1 else f"{name}{i + 1}"
            python = th.get("python_thread")   # a threading.Thread: its own thread state of main, detached
            threads.append(ThreadSpec(inst, body, "main" if python else th.get("tstate"),
                                      False if python else th.get("attached", True), at, name, python))
    return threads


def _check_compiles(spec: Spec, fail) -> None:
    """Compile every design once now, so program errors and unknown expected properties
    surface at load time, at their line."""
    for d in spec.designs:
        known = {p.name for p in spec.system(d).properties}
        for prop in spec.expect.get(d, {}):
            if prop not in known:
                raise fail(prop, f"unknown property `{prop}`; {did_you_mean(prop, known)}known: {', '.join(sorted(known))}")


def _check_registers(shown: str, data: dict, programs: list[tuple]) -> None:
    """A register may not share a name with an interpreter, lock or event: an argument `L`
    would mean two things."""
    names = {n: key for key in ("interpreters", "locks", "events")
             for n in data.get(key, ["main"] if key == "interpreters" else [])}
    what = {"interpreters": "an interpreter", "locks": "a lock", "events": "an event"}
    for body in programs:
        for register, line in assigned(body):
            if register in names:
                raise SpecError(shown, line, f"register `{register}` has the name of {what[names[register]]}; "
                                             "choose another register name")


def _predicates(data: dict, table: str) -> dict[str, str]:
    """[queries] and [invariants] (their shape checked by the schema), each predicate on one line."""
    return {name: " ".join(text.split()) for name, text in data.get(table, {}).items()}


def _c_thread(ref, path: Path, shown: str, line: int, design: str, data: dict, needs: dict) -> tuple:
    """A thread's program from a C function, `c = "FILE.c:FUNCTION"` (FILE relative to the spec)."""
    from .cfront import CFrontError, CSources, translate
    if not isinstance(ref, str) or ":" not in ref:
        raise SpecError(shown, line, "`c` must be \"FILE.c:FUNCTION\", the file relative to this spec")
    file, func = ref.rsplit(":", 1)
    try:   # CSources refuses a FIFO, a device or a huge file before reading it
        program = translate(CSources([path.parent / file], [str(path.parent / file)]), func, DESIGNS[design].api)
    except CFrontError as err:
        raise SpecError(shown, line, f"`c`: {err.where}: {err.message}") from err
    declared = set(data.get("shared", [])) | set(data.get("interpreters", ["main"]))
    missing = [name for name in program.free if name not in declared]
    if missing:
        raise SpecError(shown, line, f"{func}() reads {', '.join(f'`{m}`' for m in missing)} before assigning it: "
                                     "list it under `shared` and assign it in another thread "
                                     f"(e.g. `{missing[0]} = PyInterpreterView_FromCurrent()`)")
    needs["locks"] += program.locks
    needs["warnings"] += [str(w) for w in program.warnings]
    try:
        return program.statements()
    except CFrontError as err:
        raise SpecError(shown, line, f"`c`: {err.where}: {err.message}") from err


def _expectations(raw: dict, designs: tuple[str, ...], fail) -> dict[str, dict[str, str]]:
    """`prop = verdict` applies to every design; an [expect.DESIGN] table overrides it."""
    out: dict[str, dict[str, str]] = {d: {} for d in designs}
    general = [(k, v) for k, v in raw.items() if not isinstance(v, dict)]
    for key, table in raw.items():
        if isinstance(table, dict) and resolve(key) not in designs:
            raise fail(key, f"[expect.{key}] names a design this spec does not list in `designs`")
    specific = [(resolve(k), v) for k, v in raw.items() if isinstance(v, dict)]
    for targets, items in [(list(designs), general)] + [([k], list(t.items())) for k, t in specific]:
        for prop, verdict in items:
            for d in targets:
                out[d][prop] = verdict
    return out
