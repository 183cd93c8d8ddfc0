"""A translated C function as a program of the spec language, with its line map."""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

from .. import files
from ..programs.parse import Call, If, ProgramError, Repeat, Return, parse_program
from .source import Function, SourceFile, read_source
from .translate import MACROS, RAII_GIL, Line, TooLarge, Translator, Warning_, _callee


class CFrontError(Exception):
    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message


class CSources:
    """The functions of the given C/C++ files, by name (C++ methods by their last name component)."""

    def __init__(self, paths: list[str | Path], shown: list[str] | None = None):
        self.files: list[SourceFile] = []
        for k, p in enumerate(paths):
            try:
                _check_readable(Path(p))
                self.files.append(read_source(p, shown[k] if shown else None))
            except OSError as err:
                raise CFrontError(str(p), f"cannot read the file: {err.strerror}") from err
        self.functions: dict[str, Function] = {}
        self.duplicates: list[Function] = []
        for f in self.files:
            for fn in f.functions:
                if fn.name in self.functions:
                    self.duplicates.append(fn)
                else:
                    self.functions[fn.name] = fn
        self.globals = set().union(*(f.globals for f in self.files)) if self.files else set()
        self.macros = set().union(*(f.macros for f in self.files)) if self.files else set()
        self.api_macros = set().union(*(f.api_macros for f in self.files)) if self.files else set()

    def function(self, name: str) -> Function:
        fn = self.functions.get(name) or next((f for f in self.functions.values() if f.qualified == name), None)
        if fn is None:
            where = self.files[0].shown if self.files else "?"
            known = ", ".join(sorted(self.functions)) or "none"
            raise CFrontError(where, f"no function `{name}` defined here (functions: {known})")
        return fn

    def callees(self, fn: Function) -> set[str]:
        """Iteratively: C nests deeper than Python's stack."""
        out: set[str] = set()
        stack = [fn.body]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                out.add(_callee(n))
            stack.extend(n.named_children)
        return out

    def uses_thread_state(self, fn: Function, names: set[str]) -> bool:
        """The function, or a function of these files it calls (at any depth), calls the
        thread-state API."""
        seen, todo = {fn.qualified}, [fn]
        while todo:
            f = todo.pop()
            body = f.body.text.decode("utf8", "replace")
            if RAII_GIL.search(body) or any(m in body for m in MACROS):
                return True
            for name in self.callees(f):
                if name in names:
                    return True
                g = self.functions.get(name)
                if g is not None and g.qualified not in seen:
                    seen.add(g.qualified)
                    todo.append(g)
        return False


MAX_C_BYTES = 32 << 20   # a C file of more is not an extension's source (Cython's output is a few MiB)


def _check_readable(path: Path) -> None:
    """Before reading: a FIFO would block, a device never end, a huge file fill the memory."""
    if (why := files.refusal(path, "C or C++ source", MAX_C_BYTES)) is not None:
        raise CFrontError(files.shown(path), why)


@dataclass
class CProgram:
    """One thread's program from C: the lines (each with its C location), and what it needs."""
    function: str
    lines: list[Line]
    warnings: list[Warning_]
    locks: list[str]
    free: dict[str, str]          # registers read before this program assigns them → kind (view, guard, ...)
    assigned: set[str]

    def text(self, locations: bool = True) -> str:
        out = []
        for x in self.lines:
            loc = f"{x.where[0]}:{x.where[1]}" if x.where else ""
            body = "    " * x.depth + x.text
            if locations and loc:
                pad = max(1, 56 - len(body))
                body += (" " * pad + f"# {loc}") if "#" not in x.text else f"  ({loc})"
            out.append(body)
        return "\n".join(out)

    def statements(self) -> tuple:
        """The parsed program: each node's line is its C line, each call knows its file:line."""
        if not self.lines:
            return ()
        where = [x.where for x in self.lines]
        try:
            parsed = parse_program(self.text(locations=False))
        except ProgramError as err:   # the translation is no program the checker reads: say where in the C
            at = where[err.line - 1] if 0 < err.line <= len(where) and where[err.line - 1] else None
            raise CFrontError(f"{at[0]}:{at[1]}" if at else self.function,
                              f"{self.function}(): cannot model this code: {err.message}") from err
        return _relocate(parsed, where)


def translate(sources: CSources, name: str, api: dict, loop_bound: int = 2, prologue: list[Line] = (),
              epilogue: list[Line] = (), assume_success: bool = False, namespace: str = "") -> CProgram:
    """`assume_success`: unmodelled failure checks (`if (!PyCallable_Check(h)) return NULL;`)
    are taken as passed, as a harness does for the code that registers a callback."""
    fn = sources.function(name)
    # Continuation passing recurses once per statement along a path; a long function needs
    # more than Python's default 1000 frames (Python-to-Python calls use no C stack).
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 200_000))
    try:
        return _translate(sources, fn, api, loop_bound, prologue, epilogue, assume_success, namespace)
    finally:
        sys.setrecursionlimit(limit)


def _translate(sources, fn, api, loop_bound, prologue, epilogue, assume_success, namespace) -> CProgram:
    seen: set[str] = set()
    known: dict[str, str | None] = {}
    for _ in range(2):   # the second pass knows every register some path assigns, and the API's registers
        tr = Translator(api, sources.functions, loop_bound)
        tr.assume_success = assume_success
        tr.namespace = namespace
        tr.assigned |= seen
        tr.known = known
        tr.macros = sources.macros
        try:
            body = tr.function(fn, list(epilogue))
        except TooLarge as err:
            raise CFrontError(f"{fn.file.shown}:{fn.line}", f"{fn.name}: {err}; lower --loop-bound") from err
        seen = set(tr.assigned)
        known = {r: tr.kinds.get(r) or tr.taken.get(r) for r in tr.handles}
    _syntax_warnings(tr, fn)
    return CProgram(fn.name, list(prologue) + body, tr.warnings, tr.locks, tr.free, tr.assigned)


def _syntax_warnings(tr: Translator, fn: Function) -> None:
    """tree-sitter's ERROR and MISSING nodes inside the function: said, never silently dropped."""
    def walk(n) -> None:
        if n.type == "ERROR" or n.is_missing:
            text = " ".join(n.text.decode("utf8", "replace").split())[:50]
            tr.warn(fn.file.where(n), f"could not parse `{text}` (macro or syntax the parser does not know): "
                                      "its calls are kept in order where it reads as a statement")
            return
        for c in n.children:
            walk(c)
    walk(fn.body)


def _relocate(stmts: tuple, where: list) -> tuple:
    """Program line k (1-based) → its C line; calls also get `file:line` as `where`."""
    def loc(line: int):
        return where[line - 1] if 0 < line <= len(where) and where[line - 1] else None

    def line_of(line: int) -> int:
        w = loc(line)
        return w[1] if w else line

    def call(c: Call) -> Call:
        w = loc(c.line)
        return replace(c, line=line_of(c.line), args=tuple(replace(a, line=line_of(a.line)) for a in c.args),
                       where=f"{w[0]}:{w[1]}" if w else "")

    def node(st):
        if isinstance(st, Call):
            return call(st)
        if isinstance(st, If):
            subj = st.cond.subject
            cond = replace(st.cond, subject=call(subj) if isinstance(subj, Call) else subj, line=line_of(st.cond.line))
            return If(cond, tuple(map(node, st.body)), tuple(map(node, st.orelse)), line_of(st.line))
        if isinstance(st, Repeat):
            return Repeat(st.count, tuple(map(node, st.body)), line_of(st.line))
        if isinstance(st, Return):
            return Return(line_of(st.line))
        return st
    return tuple(map(node, stmts))
