"""The C search with symmetry and partial-order reduction explores as the Python search.

runtime.c's canon() mirrors symmetry.py's Canonicalizer (the same keys, the same stable
sort, the same renaming) on the Python layout's bytes, and its ample() mirrors por.py's
Ample (the same independence test, the same cycle proviso, the same stop after 4096 states
without a reduction), both from tables the Python objects themselves compute. On every spec
and benchmark with interchangeable threads, on a tiny model whose group is declared by hand,
and on random thread programs, both searches store the same states in the same order with
the same parents, actions, depths, findings, traces and stats, and reduce the same states;
`--backend auto` hands a growing reduced search over to C with the same verdicts and traces.
"""
import dataclasses
import random
import re
from pathlib import Path

import pytest
from test_por_random import random_system
from tiny_models import mutex

from interpcheck.checker.explicit import Limits, Options, _plan, check, explore, native
from interpcheck.checker.explicit import por as por_module
from interpcheck.checker.explicit import symmetry as symmetry_module
from interpcheck.checker.explicit.native.build import compiler
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.model.ir import (ActionProperty, Invariant, LeadsTo, NoDeadlock, NoHang, Sometimes, Symmetry,
                                  ThreadGroup)
from interpcheck.model.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.skipif(compiler() is None, reason="no C compiler"),
              pytest.mark.usefixtures("own_library_cache")]


def _canonicalizer(system):
    made = symmetry_module.canonicalizer(system, lambda order, shift: compile_system(system, True, order, shift))
    assert not isinstance(made, str), made
    return made


def explored(system, wanted, backend, symmetry=True, por=False, **kw):
    canon = _canonicalizer(system) if symmetry else None
    compiled = canon.compiled if canon else compile_system(system, packed=True)
    ample = por_module.ample_sets(system, compiled, sorted(wanted)) if por else None
    assert ample is not None or not por, "no ample sets: the test would not see a wrong reduction"
    ex = explore(system, compiled, wanted, backend=backend, symmetry=canon, ample=ample, **kw)
    assert isinstance(ex.states, native.StateArray) == (backend == "c"), "the search did not run where asked"
    traces = {i: (t.states, t.actions) for i, t in ex.found.items()}
    return (list(ex.states), list(ex.parent), list(ex.via), list(ex.depth), traces, ex.witness, ex.initial,
            ex.stats.states, ex.stats.transitions, ex.stats.depth, ex.limit, ample.reduced if ample else None)


def same_search(system, symmetry=True, por=False, safety_only=False, **kw):
    """`safety_only`: no witnesses (a witness makes the slots it reads visible: less to reduce)."""
    skip = (NoHang, LeadsTo, Sometimes) if safety_only else (NoHang, LeadsTo)
    wanted = {i for i, p in enumerate(system.properties) if not isinstance(p, skip)}
    if symmetry:
        wanted -= set(symmetry_module.unsupported(system, sorted(wanted)))
    python = explored(system, wanted, "python", symmetry, por, **kw)
    assert explored(system, wanted, "c", symmetry, por, **kw) == python
    return python


def _symmetric_mutex(n: int = 4, broken: bool = True):
    system = mutex(n, broken=broken)
    pc = system.var("pc")
    group = ThreadGroup(tuple(range(n)), tuple((pc.base + t,) for t in range(n)))
    return dataclasses.replace(system, symmetry=Symmetry((group,), (None,) * system.width))


def _spec(path: str, design: str, count: int | None = None, tmp: Path | None = None):
    file = ROOT / path
    if count is not None:
        file = tmp / f"{file.stem}_{count}.toml"
        file.write_text(re.sub(r"^count = \d+", f"count = {count}", (ROOT / path).read_text(), flags=re.M))
    return load_spec(file).system(design)


TWO_GROUPS = '''summary = "two tables of interchangeable threads: guards on two interpreters"
design = "final"
interpreters = ["main", "sub"]
shared = ["V", "W"]
events = ["ready", "go"]

[[thread]]
name = "main"
tstate = "main"
program = """
W = PyInterpreterView_FromCurrent()
set(go)
Py_FinalizeEx()
"""

[[thread]]
name = "owner"
tstate = "sub"
program = """
V = PyInterpreterView_FromCurrent()
set(ready)
ts = PyThreadState_Get()
Py_EndInterpreter(ts)
"""

[[thread]]
name = "T"
count = 2
program = """
wait(ready)
g = PyInterpreterGuard_FromView(V)
if g == NULL:
    return
tok = PyThreadState_Ensure(g)
work()
PyThreadState_Release(tok)
PyInterpreterGuard_Close(g)
"""

[[thread]]
name = "U"
count = 3
program = """
wait(go)
g = PyInterpreterGuard_FromView(W)
if g == NULL:
    return
tok = PyThreadState_Ensure(g)
PyThreadState_Release(tok)
PyInterpreterGuard_Close(g)
"""
'''


def _two_groups(tmp: Path):
    """Two tables of interchangeable threads, each a symmetry group of its own."""
    (tmp / "two_groups.toml").write_text(TWO_GROUPS)
    system = load_spec(tmp / "two_groups.toml").system("final")
    assert len(system.symmetry.groups) == 2
    return system


MODELS = {
    "mutex": lambda tmp: _symmetric_mutex(),
    "two_groups": _two_groups,
    "gilstate_nested": lambda tmp: _spec("specs/gilstate_nested.toml", "cpython_3_13"),
    "s7_view_after_finalize": lambda tmp: _spec("specs/s7_ensure_from_view_after_finalize.toml", "final"),
    "guard_threads": lambda tmp: _spec("benchmarks/guard_threads.toml", "final"),
    "two_interpreters": lambda tmp: _spec("benchmarks/two_interpreters.toml", "final", 2, tmp),
    "legacy_threads": lambda tmp: _spec("benchmarks/legacy_threads.toml", "legacy", 3, tmp),
}


@pytest.mark.parametrize("name", MODELS)
def test_the_c_search_keeps_the_same_representatives_as_the_python_search(name, tmp_path):
    system = MODELS[name](tmp_path)
    for stop_early in (True, False):
        states, *_ = same_search(system, stop_early=stop_early)
    plain = explore(system, compile_system(system, packed=True), set(), backend="c", stop_early=False)
    assert len(states) < plain.stats.states, "symmetry reduced nothing: the test would not see a wrong canon"


def test_violations_found_under_symmetry_in_c_unfold_to_the_same_concrete_traces(tmp_path):
    system = _spec("benchmarks/legacy_threads.toml", "legacy", 3, tmp_path)
    *_, traces, _, _, _, _, _, _, _ = same_search(system, stop_early=True)
    assert traces and all(states[0] == system.initial[0] for states, _ in traces.values())


def test_the_bits_store_with_symmetry_explores_as_the_python_search(monkeypatch):
    monkeypatch.setenv(native.STORE_VARIABLE, "bits")
    same_search(_spec("benchmarks/guard_threads.toml", "final"), stop_early=False)


@pytest.mark.parametrize("limits", [Limits(max_states=40), Limits(max_depth=3)], ids=["max-states", "max-depth"])
def test_limits_stop_both_symmetric_searches_at_the_same_state(limits):
    *_, limit, _ = same_search(_spec("benchmarks/guard_threads.toml", "final"), limits=limits)
    assert limit == ("max-states 40" if limits.max_states else "max-depth 3")


def test_auto_hands_a_growing_symmetric_search_over_to_c(monkeypatch, tmp_path):
    system = _spec("benchmarks/guard_threads.toml", "final", 6, tmp_path)
    names = [p.name for p in system.properties if isinstance(p, (Invariant, ActionProperty, NoDeadlock))]
    options = Options(symmetry="on", por="off")
    python = check(system, names, dataclasses.replace(options, backend="python"))
    native.build_for(system, _canonicalizer(system).compiled, _canonicalizer(system)).library()   # cached
    runs = []
    real = native.breadth_first
    monkeypatch.setattr(native, "breadth_first", lambda *a, **k: runs.append(a[9]) or real(*a, **k))
    monkeypatch.setattr(native, "HANDOVER_STATES", 1000)
    auto = check(system, names, options)
    assert runs and runs[0] is not None and python[0].stats.states > 2048, "the search was not handed over"
    assert [(r.prop, r.verdict, r.trace, r.reason, r.stats.states, r.stats.transitions) for r in auto] == \
        [(r.prop, r.verdict, r.trace, r.reason, r.stats.states, r.stats.transitions) for r in python]


POR_MODELS = {name: MODELS[name] for name in ("guard_threads", "two_interpreters", "two_groups")}   # legacy: nothing to reduce


@pytest.mark.parametrize("name", POR_MODELS)
@pytest.mark.parametrize("symmetry", [False, True], ids=["por", "por+symmetry"])
def test_the_c_search_takes_the_same_ample_sets_as_the_python_search(name, symmetry, tmp_path):
    system = POR_MODELS[name](tmp_path)
    for stop_early in (True, False):
        *_, reduced = same_search(system, symmetry, por=True, safety_only=True, stop_early=stop_early)
    assert reduced, "POR reduced nothing: the test would not see a wrong ample set"


def test_the_c_search_reduces_random_thread_programs_as_the_python_search():
    """test_por_random's programs (blocking, crashing, visible steps): 40 with ample sets."""
    compared = reduced = 0
    for seed in range(200):
        system = random_system(random.Random(seed), seed)
        wanted = set(range(len(system.properties)))
        if por_module.ample_sets(system, compile_system(system, packed=True), sorted(wanted)) is None:
            continue
        *_, count = same_search(system, symmetry=False, por=True, stop_early=False)
        compared, reduced = compared + 1, reduced + bool(count)
        if compared == 40:
            break
    assert compared == 40 and reduced >= 5, (compared, reduced)   # 8 of these 40 reduce some state


def test_auto_hands_a_growing_reduced_search_over_to_c(monkeypatch, tmp_path):
    """Symmetry and POR (the defaults) both stay on in C; traces still come from the
    unreduced rerun, which also runs in C."""
    system = _spec("benchmarks/two_interpreters.toml", "final", 4, tmp_path)
    names = [p.name for p in system.properties if isinstance(p, (Invariant, ActionProperty, NoDeadlock))]
    python = check(system, names, Options(backend="python"))
    wanted = [i for i, p in enumerate(system.properties) if p.name in names]
    plan = _plan(system, wanted, Options(), {}, reduce=True)
    assert plan.canon is not None and plan.ample is not None
    native.build_for(system, plan.compiled, plan.canon, plan.ample).library()   # cached: ready at once
    runs = []
    real = native.breadth_first
    monkeypatch.setattr(native, "breadth_first", lambda *a, **k: runs.append(a[11]) or real(*a, **k))
    monkeypatch.setattr(native, "HANDOVER_STATES", 1000)
    auto = check(system, names, Options())
    assert runs and runs[0] is not None, "the reduced search was not handed over"
    assert [(r.prop, r.verdict, r.trace, r.reason, r.stats.states, r.stats.transitions) for r in auto] == \
        [(r.prop, r.verdict, r.trace, r.reason, r.stats.states, r.stats.transitions) for r in python]
