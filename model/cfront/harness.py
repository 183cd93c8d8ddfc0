"""The zero-configuration scenario of `interpcheck check-c`.

Entries: every function that calls the thread-state API (itself or through a function of
the given files) and that no function of the files calls. An entry Python calls (it
returns `PyObject *` or takes `PyObject *self`) runs on a Python thread that holds a
thread state of the main interpreter; any other entry runs on a foreign thread, started
with no thread state (a library callback). Python-facing functions that store API handles
in globals (registration, module init) run first on the main thread; handles an entry
reads but nothing assigns (a view passed as the callback's argument) are made by the main
thread too. Then the main thread runs Python and finalizes, concurrently with the entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..designs import DESIGNS, for_cpython, resolve
from ..programs import Scenario, ThreadSpec
from .program import CFrontError, CProgram, CSources, translate
from .source import Function
from .translate import ALIASES, CLIENT_ONLY, MACROS, Line, _declared_locals

READY = "harness_ready"
PEP788 = re.compile(r"\b(PyInterpreterGuard_\w+|PyInterpreterView_\w+|PyThreadState_Ensure\w*|PyThreadState_Release)\b")
MAKE = {"view": "PyInterpreterView_FromCurrent()", "guard": "PyInterpreterGuard_FromCurrent()",
        "interp": "PyInterpreterState_Get()", "tstate": "PyThreadState_Get()"}


def thread_state_api() -> set[str]:
    """Every C function some design models, the client primitives aside, and the macros."""
    names = {name for d in DESIGNS.values() for name in d.api} - CLIENT_ONLY
    return names | set(MACROS) | set(ALIASES)


def choose_design(sources: CSources, cpython: str | None = None, design: str | None = None) -> tuple[str, str]:
    """(design, why): --design wins; then --cpython X.Y (its own design when one exists);
    else `final` for code that uses PEP 788, `legacy` (3.14 semantics) for the rest."""
    if design is not None:
        if design not in DESIGNS:
            raise CFrontError("--design", f"unknown design `{design}`; known: {', '.join(DESIGNS)}")
        return resolve(design), "--design"
    if cpython is not None:
        name = for_cpython(cpython)
        if name is None:
            raise CFrontError("--cpython", f"unknown CPython release `{cpython}`: give X.Y or X.Y.Z, "
                                           "e.g. 3.12 or 3.13.8 (`interpcheck list` shows which releases each design covers)")
        return name, f"--cpython {cpython}"
    text = "\n".join(f.tree.root_node.text.decode("utf8", "replace") for f in sources.files)
    if PEP788.search(text):
        return "final", "the code uses PEP 788 functions"
    return resolve("legacy"), "the code uses only the legacy API (CPython 3.14 semantics)"


def python_signature(fn: Function) -> bool:
    """A module function or method: PyObject * in or out, or PyInit_."""
    params = fn.params()
    first = params[0][1] if params else ""
    return fn.name.startswith("PyInit_") or "PyObject" in fn.return_type() and "*" in fn.return_type() \
        or ("PyObject" in first and "*" in first)


def python_facing(fn: Function, probe: CProgram | None = None) -> bool:
    """Python calls it: a module-level signature (PyObject * in or out, PyInit_), or code whose
    first thread-state step lets go of a thread state it must already hold
    (Py_BEGIN_ALLOW_THREADS, PyEval_SaveThread, a C++ gil_scoped_release)."""
    if python_signature(fn):
        return True
    for line in (probe.lines if probe is not None else []):
        text = line.text.split("#")[0].strip()
        if text.startswith(("Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS")) or "PyEval_" in text or \
                "PyGILState_" in text or "PyThreadState_" in text or "PyInterpreter" in text:
            return text == "Py_BEGIN_ALLOW_THREADS" or "PyEval_SaveThread" in text
    return False


@dataclass
class Entry:
    function: Function
    program: CProgram
    python_thread: bool         # called by Python (a thread with a thread state) rather than a foreign thread


@dataclass
class Harness:
    sources: CSources
    design: str
    why: str
    entries: list[Entry]
    setup: list[CProgram]        # Python-facing functions that store handles, run first by main
    made: dict[str, str]         # handles main makes for the entries: register → kind
    loop_bound: int = 2
    skipped: list[str] = field(default_factory=list)   # entries not checked, and why

    @property
    def locks(self) -> list[str]:
        progs = [e.program for e in self.entries] + self.setup
        return list(dict.fromkeys(lock for p in progs for lock in p.locks))

    def main(self, entry: Entry | None = None) -> CProgram:
        """Setup functions, the handles the entries need, then Python, then Py_FinalizeEx; a
        Python-facing entry is called by main itself, before it finalizes."""
        api = DESIGNS[self.design].api
        tail = [Line(0, f"{reg} = {MAKE[kind]}   # harness: handed to the entries", None)
                for reg, kind in self.made.items()]
        rest = [Line(0, "run_python()   # harness: the application runs Python", None),
                Line(0, "Py_FinalizeEx()   # harness: and exits", None)]
        if entry is not None and entry.python_thread:
            rest = translate(self.sources, entry.function.name, api, self.loop_bound, epilogue=rest,
                             namespace="call_").lines
        else:
            tail.append(Line(0, f"set({READY})", None))
        tail += rest
        for k, p in reversed(list(enumerate(self.setup))):   # each, wherever it returns, goes on with the rest
            tail = translate(self.sources, p.function, api, self.loop_bound, epilogue=tail,
                             assume_success=True, namespace=f"setup{k}_").lines
        return CProgram("main", tail, [], [], {}, set())

    def counts(self, entry: Entry, wanted: tuple[int, ...]) -> tuple[int, ...]:
        return (1,) if entry.python_thread else wanted

    def scenario(self, entry: Entry, count: int) -> Scenario:
        name = re.sub(r"[^A-Za-z0-9_]", "_", entry.function.name)
        if name == "main":   # the harness's own thread: an embedding program's main() runs beside it
            name = "main_entry"
        threads = [ThreadSpec("main", self.main(entry).statements(), "main", True, 0, "main")]
        if not entry.python_thread:
            program = entry.program.statements()
            for i in range(count):
                inst = name if count == 1 else f"{name}{i + 1}"
                threads.append(ThreadSpec(inst, program, None, True, 1, name))
        shared = sorted(set(self.made) | {r for p in self.setup for r in p.assigned} | _shared_of(entry, self))
        return Scenario(f"{name}_x{count}", ("main",), tuple(threads), locks=tuple(self.locks),
                        events=(READY,), shared=tuple(shared))

    def describe(self) -> str:
        main = self.main()
        out = [f"harness: design `{self.design}` ({self.why}); the main thread, attached to the main interpreter, runs:"]
        out += ["    " + line for line in main.text().splitlines()]
        foreign = [e.function.name for e in self.entries if not e.python_thread]
        python = [e.function.name for e in self.entries if e.python_thread]
        if foreign:
            out.append(f"  concurrently, 1 and then 2 foreign threads (no thread state) each run: {', '.join(foreign)}")
        if python:
            out.append(f"  functions Python calls ({', '.join(python)}: a Python signature, or they first let "
                       "go of the GIL) are each called by the main thread, in place of set(...), before it finalizes")
        out.append("  another harness: write a spec whose [[thread]] takes `c = \"FILE.c:FUNCTION\"` "
                   "instead of `program` (docs/specs.md, \"Threads from C\")")
        return "\n".join(out)


def _shared_of(entry: Entry, h: Harness) -> set[str]:
    """Registers the entry reads or writes that are C globals or harness-made handles: one per process."""
    return {r for r in entry.program.assigned if r in h.sources.globals} | set(entry.program.free)


def _macro_users(sources: CSources, candidates: list[Function]) -> list[str]:
    """A warning per function that reaches the thread-state API only through a macro the files
    #define: macros are not expanded, so it would be passed over in silence."""
    if not sources.api_macros:
        return []
    words = re.compile(r"\b(" + "|".join(map(re.escape, sorted(sources.api_macros))) + r")\b")
    out = []
    for f in sorted(sources.functions.values(), key=lambda f: (f.file.shown, f.line)):
        if f in candidates or not (m := words.search(f.body.text.decode("utf8", "replace"))):
            continue
        out.append(f"{f.file.shown}:{f.line}: warning: {f.name}() uses `{m.group(1)}`, a macro these files #define "
                   "with thread-state calls; macros are not expanded, so its calls are not checked: write them out")
    return out


def _no_entry(sources: CSources, skipped: list[str]) -> CFrontError:
    macro = [w for w in skipped if "a macro these files #define" in w]
    return CFrontError(sources.files[0].shown if sources.files else "?",
                       "no entry: no function here calls the thread-state API without being called from "
                       "these files (`interpcheck list --functions DESIGN` lists the API)"
                       + (f"; {len(macro)} reach it only through macros, which are not expanded: "
                          + macro[0].split(": warning: ", 1)[1] if macro else ""))


def build_harness(sources: CSources, design: str, why: str, loop_bound: int = 2,
                  only: list[str] | None = None) -> Harness:
    api = DESIGNS[design].api
    names = thread_state_api()
    for name in only or ():   # named with --entry: it must be here
        sources.function(name)
    for f in sources.functions.values():
        lacking = sorted((sources.callees(f) & names) - set(api) - set(MACROS) - set(ALIASES))
        if lacking:
            raise CFrontError(f"{f.file.shown}:{f.line}", f"{f.name}() calls {', '.join(lacking)}, which design "
                              f"`{design}` does not have: choose one that does (--design final for PEP 788)")
    called = set().union(*(sources.callees(f) for f in sources.functions.values())) if sources.functions else set()
    candidates = [f for f in sources.functions.values()
                  if (f.name not in called or f.name in (only or ())) and sources.uses_thread_state(f, names)]
    setup: list[CProgram] = []
    callers: list[tuple[Function, CProgram]] = []      # Python-facing entries
    skipped: list[str] = _macro_users(sources, candidates)
    for fn in sorted(candidates, key=lambda f: (f.file.shown, f.line)):
        try:
            probe = translate(sources, fn.name, api, loop_bound, assume_success=True)
        except CFrontError as err:
            skipped.append(f"{err.where}: warning: {err.message}; not checked")
            continue
        if python_facing(fn, probe):
            registers = python_signature(fn) and probe.assigned & _globals_of(fn) and fn.name not in (only or ())
            (setup if registers else callers).append((fn, probe))
    set_by_setup = {r for _, p in setup for r in p.assigned}
    keep = set_by_setup | sources.globals              # one per process: never made per thread
    entries: list[Entry] = []
    for fn in sorted(candidates, key=lambda f: (f.file.shown, f.line)):
        if any(fn is f for f, _ in setup) or (only and fn.name not in only):
            continue
        caller = next((p for f, p in callers if f is fn), None)
        if caller is not None:
            entries.append(Entry(fn, caller, True))
        else:
            try:
                prog = translate(sources, fn.name, api, loop_bound, _wait(fn))
            except CFrontError as err:   # one entry too large: the others are still checked
                skipped.append(f"{err.where}: warning: {err.message}; not checked")
                continue
            entries.append(Entry(fn, _own_handles(prog, api, keep, (fn.file.shown, fn.line)), False))
    setup = [p for _, p in setup]
    if not entries:
        raise _no_entry(sources, skipped)
    made: dict[str, str] = {}
    for e in entries:
        for reg, kind in e.program.free.items():
            if reg not in set_by_setup and reg not in made:
                made[reg] = kind
    for reg, kind in made.items():
        if kind not in MAKE or MAKE[kind].split("(")[0] not in api:
            raise CFrontError(f"{sources.files[0].shown}", f"the entries read `{reg}`, a {kind} nothing here makes, "
                              f"and design `{design}` cannot make one for them: write a spec (c = \"...\")")
    h = Harness(sources, design, why, entries, setup, made, loop_bound, skipped)
    return h


def _globals_of(fn: Function) -> set[str]:
    """The file-scope names of fn's file that fn does not shadow with a local or parameter."""
    return fn.file.globals - _declared_locals(fn.body) - {name for name, _ in fn.params()}


def _own_handles(prog: CProgram, api: dict, keep: set[str], where: tuple[str, int]) -> CProgram:
    """A view or guard the entry gets as its argument is made for each thread, just before
    it runs (as each registration hands its callback its own): one from
    PyInterpreterView_FromMain (the entry does not run when that fails), a guard from such a view."""
    lines: list[Line] = []
    for reg, kind in list(prog.free.items()):
        if kind not in ("view", "guard") or "PyInterpreterView_FromMain" not in api or reg in keep:
            continue
        view = reg if kind == "view" else f"{reg}_view"
        lines += [Line(0, f"{view} = PyInterpreterView_FromMain()   # harness: the view handed to this thread", where),
                  Line(0, f"if not {view}:", where), Line(1, "return", where)]
        if kind == "guard":
            lines += [Line(0, f"{reg} = PyInterpreterGuard_FromView({view})   # harness: the guard handed to this "
                              "thread, to close", where),
                      Line(0, f"PyInterpreterView_Close({view})", where),
                      Line(0, f"if not {reg}:", where), Line(1, "return", where)]
        del prog.free[reg]
        prog.assigned.add(reg)
    prog.lines[1:1] = lines
    return prog


def _wait(fn: Function) -> list[Line]:
    return [Line(0, f"wait({READY})   # harness: this thread starts once main is set up", None)]
