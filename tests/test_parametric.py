"""The parametric engine: proofs for any number of a thread table's threads, violations only
once the explicit engine confirms them at some N, refusals where the abstraction is not exact."""
from __future__ import annotations

import textwrap
from collections import deque
from itertools import combinations
from dataclasses import replace
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.explicit import Limits, check
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.checker.parametric import check_parametric
from interpcheck.checker.result import Verdict
from interpcheck.model.ir import (Action, Builder, Domain, Invariant, Sometimes, Symmetry, System, ThreadGroup,
                                  all_of, any_of, assign)
from interpcheck.model.spec import load_spec

def guards_from_a_view(main_after: str, thread_after: str) -> str:
    """main makes a view and signals `ready`; each of the T threads waits, then takes a guard
    from the view; both go on with the lines given."""
    return f"""
design = "final"
shared = ["V"]
events = ["ready"]

[[thread]]
name = "main"
tstate = "main"
program = '''
V = PyInterpreterView_FromCurrent()
set(ready)
{main_after}'''

[[thread]]
name = "T"
count = 2
program = '''
wait(ready)
g = PyInterpreterGuard_FromView(V)
{thread_after}'''
"""


GUARD_THREADS = guards_from_a_view("Py_FinalizeEx()\n", """if g == NULL:
    return
tok = PyThreadState_Ensure(g)
PyThreadState_Release(tok)
PyInterpreterGuard_Close(g)
""")

LEGACY_THREADS = """
design = "legacy"

[[thread]]
name = "main"
tstate = "main"
program = '''
Py_FinalizeEx()
'''

[[thread]]
name = "T"
count = 2
program = '''
st = PyGILState_Ensure()
PyGILState_Release(st)
'''
"""

SAFETY = ["no_use_after_free", "no_attach_after_finalize", "no_deadlock", "right_interpreter",
          "release_restores", "no_fatal_error", "no_call_without_thread_state", "no_stale_check"]


def spec_of(tmp_path, text: str, extra: str = ""):
    path = tmp_path / "spec.toml"
    path.write_text(textwrap.dedent(text) + textwrap.dedent(extra))
    return load_spec(path)


def parametric(spec, design: str, names=None, limits=Limits()):
    family = spec.family(design)
    return {r.prop: r for r in check_parametric(family.build, family.table, names, limits)}


UNREACHABLE = '[queries]\nguard_while_finalizing = "finalizing(main) and guards(main) > 0"\n'


@pytest.fixture(scope="module")
def guard_threads(tmp_path_factory):
    """One run over every property of the final design's reference model (the slow part)."""
    spec = spec_of(tmp_path_factory.mktemp("guard"), GUARD_THREADS, UNREACHABLE)
    return spec, parametric(spec, "final")


def test_final_design_safety_holds_for_any_number_of_threads(guard_threads):
    _, results = guard_threads
    for name in SAFETY:
        assert results[name].verdict is Verdict.HOLDS, (name, results[name].reason)
        assert "for any number of T threads" in results[name].reason


def test_a_proof_agrees_with_the_explicit_engine_at_every_small_n(guard_threads):
    spec, results = guard_threads
    proven = [n for n, r in results.items() if r.verdict is Verdict.HOLDS and r.trace is None]
    family = spec.family("final")
    for n in (1, 2, 3, 4):
        for r in check(family.build(n), proven):
            assert r.verdict is Verdict.HOLDS, (n, r.prop)


def test_a_violation_comes_with_the_explicit_engines_trace_at_the_smallest_n(tmp_path):
    spec = spec_of(tmp_path, LEGACY_THREADS)
    results = parametric(spec, "legacy", ["no_attach_after_finalize", "no_use_after_free"])
    family = spec.family("legacy")
    for name, r in results.items():
        assert r.verdict is Verdict.VIOLATED, (name, r.reason)
        assert "confirms it with 1 T thread" in r.reason
        assert r.system.threads == family.build(1).threads
        [explicit] = check(family.build(1), [name])
        assert r.trace == explicit.trace


def test_a_property_that_holds_is_proven_where_another_is_violated(tmp_path):
    spec = spec_of(tmp_path, LEGACY_THREADS)
    results = parametric(spec, "legacy", ["release_restores", "no_fatal_error"])
    assert results["release_restores"].verdict is Verdict.HOLDS
    assert results["no_fatal_error"].verdict is Verdict.HOLDS


def test_a_model_that_counts_threads_is_refused_not_proven(tmp_path):
    """`guards(main) >= 3` needs three threads: with 2 and 3 copies of a view the answers
    differ, so the engine must not call it unreachable for every N."""
    spec = spec_of(tmp_path, GUARD_THREADS.replace("PyInterpreterGuard_Close(g)\n", ""),
                   '[queries]\nthree_guards = "guards(main) >= 3"\n')
    results = parametric(spec, "final", ["three_guards", "no_use_after_free"])
    r = results["three_guards"]
    assert r.verdict is not Verdict.VIOLATED
    if r.verdict is Verdict.UNKNOWN:
        assert "counts threads" in r.reason
    else:
        assert "confirms it with 3 T threads" in r.reason
    assert results["no_use_after_free"].verdict is Verdict.HOLDS   # the other properties still stand


def test_a_query_unreachable_for_any_n(guard_threads):
    r = guard_threads[1]["guard_while_finalizing"]
    assert r.verdict is Verdict.VIOLATED and r.trace is None
    assert "unreachable for any number of T threads" in r.reason


def test_a_property_naming_one_thread_of_the_table_is_refused(tmp_path):
    spec = spec_of(tmp_path, GUARD_THREADS, '[queries]\nfirst_done = "finished(T1)"\n')
    r = parametric(spec, "final", ["first_done"])["first_done"]
    assert r.verdict is Verdict.UNKNOWN and "names one thread" in r.reason


def test_hangs_and_liveness_are_left_to_the_explicit_engine(guard_threads):
    results = guard_threads[1]
    for name in ("no_thread_hung", "finalization_completes"):
        assert results[name].verdict is Verdict.UNKNOWN and "explicit engine" in results[name].reason


def test_a_witness_is_confirmed_concretely(guard_threads):
    r = guard_threads[1]["completes"]
    assert r.verdict is Verdict.HOLDS and r.trace is not None and "confirms it with 1 T thread" in r.reason


def test_a_limit_is_reported_with_what_was_established(tmp_path):
    spec = spec_of(tmp_path, GUARD_THREADS)
    r = parametric(spec, "final", ["no_deadlock"], Limits(max_states=20))["no_deadlock"]
    assert r.verdict is Verdict.UNKNOWN and "max-states 20" in r.reason and "no violation" in r.reason


def test_the_same_spec_gives_the_same_answers(tmp_path):
    spec = spec_of(tmp_path, LEGACY_THREADS)
    first = parametric(spec, "legacy")
    again = parametric(spec_of(tmp_path, LEGACY_THREADS), "legacy")
    assert [(r.prop, r.verdict, r.trace, r.stats.states) for r in first.values()] == \
           [(r.prop, r.verdict, r.trace, r.stats.states) for r in again.values()]


def interpcheck(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_states_the_claim_for_every_n(tmp_path):
    spec_of(tmp_path, LEGACY_THREADS, '[expect]\nrelease_restores = "holds"\nno_attach_after_finalize = "violated"\n')
    run = interpcheck("check", "-q", "--engine", "parametric", str(tmp_path / "spec.toml"))
    assert run.exit_code == 0, run.output
    assert "holds     holds     ok  for any number of T threads" in run.output
    assert "violated  violated  ok  the abstraction breaks it at depth" in run.output
    assert "counterexample for no_attach_after_finalize" in run.output and "T1    PyGILState_Ensure()" in run.output
    assert "abstract states" in run.output


def test_cli_without_a_thread_table_to_count_has_no_verdict(tmp_path):
    spec_of(tmp_path, LEGACY_THREADS.replace("count = 2\n", ""), '[expect]\nno_deadlock = "violated"\n')
    run = interpcheck("check", "-q", "--engine", "parametric", str(tmp_path / "spec.toml"))
    assert run.exit_code == 152
    assert "no thread table with a `count` of 2 or more" in run.output


@pytest.mark.slow   # proofs on the reference model and cross-checks with the explicit engine: .ci/run runs them
@pytest.mark.parametrize("design", ["final_draft"])
def test_the_final_designs_reference_model_holds_for_any_n(design, tmp_path):
    spec = spec_of(tmp_path, GUARD_THREADS.replace('design = "final"', f'design = "{design}"'))
    results = parametric(spec, design, ["no_use_after_free", "no_attach_after_finalize", "no_deadlock"])
    assert all(r.verdict is Verdict.HOLDS for r in results.values()), \
        {n: r.reason for n, r in results.items()}


BUNDLED = ["specs/gilstate_nested.toml", "specs/pep_my_gilstate_ensure.toml",
           "specs/s7_ensure_from_view_after_finalize.toml", "benchmarks/legacy_threads.toml"]


@pytest.mark.slow
@pytest.mark.parametrize("path", BUNDLED)
def test_bundled_specs_never_contradict_the_explicit_engine(path):
    """Every proof for all N holds at N = 1..3; every violation is the explicit engine's."""
    spec = load_spec(path)
    for design in spec.designs:
        family = spec.family(design)
        results = check_parametric(family.build, family.table, None, Limits(max_states=1500))
        for r in results:
            if r.verdict is Verdict.HOLDS and r.trace is None:
                for n in (1, 2, 3):
                    [explicit] = check(family.build(n), [r.prop])
                    assert explicit.verdict is Verdict.HOLDS, (design, r.prop, n)
            elif r.trace is not None:
                [explicit] = check(r.system, [r.prop])
                assert (explicit.verdict, explicit.trace) == (r.verdict, r.trace), (design, r.prop)


ONE_GUARD_EACH = guards_from_a_view("", "")   # every T holds its guard to the end


def test_a_count_no_instance_of_two_or_three_threads_reaches_is_never_called_unreachable(tmp_path):
    """All guards are held in one local state: 2 and 3 copies of it give 2 and 3 guards and
    agree that `guards(main) >= 4` is false, yet four threads reach it."""
    spec = spec_of(tmp_path, ONE_GUARD_EACH, '[queries]\nfour_guards = "guards(main) >= 4"\n')
    [explicit] = check(spec.family("final").build(4), ["four_guards"])
    assert explicit.verdict is Verdict.HOLDS and explicit.trace is not None
    r = parametric(spec, "final", ["four_guards"])["four_guards"]
    assert r.verdict is not Verdict.VIOLATED, r.reason
    if r.verdict is Verdict.UNKNOWN:
        assert "counts threads" in r.reason and "four_guards" in r.reason
    else:
        assert "confirms it with 4 T threads" in r.reason


def symmetric(build_parts: Callable) -> Callable[[int], System]:
    """A family of N interchangeable threads T1..TN whose own slot is `pc`."""
    def build(n: int) -> System:
        b = Builder("family", [f"T{t + 1}" for t in range(n)])
        pc, finished = build_parts(b, n)
        system = b.build(finished)
        group = ThreadGroup(tuple(range(n)), tuple((pc.base + t,) for t in range(n)))
        return replace(system, symmetry=Symmetry((group,), (None,) * system.width))
    return build


def barrier(release: Callable) -> Callable[[int], System]:
    """N threads each add one to `arrived`, then pass once `release(arrived)` holds; the
    invariant says none ever passes. A tiny model where only counting decides."""
    def parts(b, n: int):
        arrived = b.scalar("arrived", Domain(0, n))
        pc = b.array("pc", n, Domain(0, 2))
        for t in range(n):
            b.action(Action("arrive", t, pc[t].eq(0), (assign(pc[t], 1), assign(arrived, arrived + 1)), "arrive()"))
            b.action(Action("pass", t, pc[t].eq(1) & release(arrived), (assign(pc[t], 2),), "pass()"))
        b.prop(Invariant("nobody_passes", all_of(*(pc[t].ne(2) for t in range(n)))))
        return pc, [pc[t].eq(2) for t in range(n)]
    return symmetric(parts)


FOUR_ARRIVED = {"arrived >= 4": (lambda a: a >= 4, 4), "4 <= arrived": (lambda a: 4 <= a, 4),
                "arrived - 1 >= 3": (lambda a: a - 1 >= 3, 4), "not arrived < 4": (lambda a: ~(a < 4), 4),
                "3 < arrived": (lambda a: 3 < a, 3), "arrived + 2 == 6": (lambda a: (a + 2).eq(6), 4)}


@pytest.mark.parametrize("written", list(FOUR_ARRIVED))
def test_a_step_guarded_by_a_count_no_instance_of_two_or_three_threads_reaches_refuses_the_run(written):
    release, threshold = FOUR_ARRIVED[written]
    family = barrier(release)
    [explicit] = check(family(4), ["nobody_passes"])
    assert explicit.verdict is Verdict.VIOLATED
    [r] = check_parametric(family, "T")
    assert r.verdict is Verdict.UNKNOWN, r.reason
    assert f"a step compares arrived with {threshold}," in r.reason


def test_a_step_guarded_by_a_count_two_threads_in_a_view_pass_is_still_decided():
    """Waiting for one arrival: two threads in a view are already past the threshold, so the
    engine is not refused, and finds the break at N = 1."""
    [r] = check_parametric(barrier(lambda a: a >= 1), "T")
    assert r.verdict is Verdict.VIOLATED and "confirms it with 1 T thread" in r.reason


def test_a_counter_used_other_than_in_a_comparison_with_a_constant_refuses_the_run():
    [r] = check_parametric(barrier(lambda arrived: arrived * 2 >= 8), "T")
    assert r.verdict is Verdict.UNKNOWN
    assert "pass() reads the counter arrived other than by comparing it with a constant" in r.reason


@pytest.mark.slow
def test_a_property_using_a_counter_other_than_in_a_comparison_with_a_constant_is_left_unknown(tmp_path):
    spec = spec_of(tmp_path, GUARD_THREADS, '[queries]\nmore_guards_than_events = "guards(main) > event(ready)"\n')
    results = parametric(spec, "final", ["more_guards_than_events", "no_use_after_free"])
    r = results["more_guards_than_events"]
    assert r.verdict is Verdict.UNKNOWN
    assert "more_guards_than_events compares a counter with another counter or a non-constant" in r.reason
    assert results["no_use_after_free"].verdict is Verdict.HOLDS


def test_lazily_compiled_successors_are_the_eager_ones_on_a_whole_state_graph():
    """Instances compile each thread's steps at a program counter when first reached
    (compile_system(lazy=True)): the same successors, in the same order, on every state."""
    spec = load_spec(Path(__file__).resolve().parent.parent / "benchmarks" / "two_interpreters.toml")
    system = spec.family("final").build(2)
    eager, lazy = compile_system(system), compile_system(system, lazy=True)
    seen, queue = set(system.initial), deque(system.initial)
    while queue:
        s = queue.popleft()
        succ = eager.successors(s)
        assert lazy.successors(s) == succ
        for _, n in succ:
            if n not in seen:
                seen.add(n)
                queue.append(n)
    assert len(seen) > 1000


def refused_though_n_decides(family: Callable[[int], System], n: int, concrete: Verdict, why: str) -> None:
    """The family's one property is `concrete` with n threads, and the parametric engine
    refuses the family (saying `why`) rather than claim anything for every N."""
    [explicit] = check(family(n))
    assert explicit.verdict is concrete
    [r] = check_parametric(family, "T")
    assert r.verdict is Verdict.UNKNOWN and why in r.reason, r.reason


def test_a_family_that_starts_differently_with_more_threads_is_refused_not_proven():
    """`left` starts at N and no step moves it: 3 left is reached with 3 threads, which the
    initial states of 1 and 2 threads do not show."""
    def parts(b, n):
        left = b.scalar("left", Domain(0, n), init=n)
        pc = b.array("pc", n, Domain(0, 1))
        for t in range(n):
            b.action(Action("go", t, pc[t].eq(0), (assign(pc[t], 1),), "go()"))
        b.prop(Sometimes("three_left", left >= 3))
        return pc, [pc[t].eq(1) for t in range(n)]
    refused_though_n_decides(symmetric(parts), 3, Verdict.HOLDS, "starts differently with 3 threads")


def test_a_family_whose_threads_gain_a_step_at_four_threads_is_refused_not_proven():
    """`pass` exists only from 4 threads on (four threads at pc 1, written out per 4-subset):
    counting the 2-vs-3 check cannot see, caught because the model is not the same one."""
    def parts(b, n):
        b.scalar("unused", Domain(0, 1))
        pc = b.array("pc", n, Domain(0, 2))
        four = any_of(*[all_of(*[pc[i].eq(1) for i in c]) for c in combinations(range(n), 4)])
        for t in range(n):
            b.action(Action("arrive", t, pc[t].eq(0), (assign(pc[t], 1),), "arrive()"))
            if n >= 4:
                b.action(Action("pass", t, pc[t].eq(1) & four, (assign(pc[t], 2),), "pass()"))
        b.prop(Invariant("nobody_passes", all_of(*(pc[t].ne(2) for t in range(n)))))
        return pc, [pc[t].eq(2) for t in range(n)]
    refused_though_n_decides(symmetric(parts), 4, Verdict.VIOLATED, "other steps with 4 threads")


def test_a_family_whose_every_slot_is_a_threads_own_is_checked_without_a_traceback():
    def parts(b, n):
        pc = b.array("pc", n, Domain(0, 1))
        for t in range(n):
            b.action(Action("go", t, pc[t].eq(0), (assign(pc[t], 1),), "go()"))
        b.prop(Invariant("never_done", all_of(*(pc[t].ne(1) for t in range(n)))))
        return pc, [pc[t].eq(1) for t in range(n)]
    family = symmetric(parts)
    [r] = check_parametric(family, "T")
    assert r.verdict is Verdict.VIOLATED and r.trace is not None, r.reason


def test_a_slot_that_exists_only_from_three_threads_on_is_refused_not_ignored():
    """`crowd` is no thread's and is not there with 1 or 2 threads (which fix the shared
    part): an instance would leave it at its initial value whatever the abstract state says."""
    def parts(b, n):
        b.scalar("flag", Domain(0, 1))
        pair = b.scalar("crowd", Domain(0, 1)) if n >= 3 else None
        pc = b.array("pc", n, Domain(0, 1))
        for t in range(n):
            b.action(Action("go", t, pc[t].eq(0), (assign(pc[t], 1),) + ((assign(pair, 1),) if pair is not None else ()),
                            "go()"))
        b.prop(Invariant("never_done", all_of(*(pc[t].ne(1) for t in range(n)))))
        return pc, [pc[t].eq(1) for t in range(n)]
    family = symmetric(parts)
    [r] = check_parametric(family, "T")
    assert r.verdict is Verdict.UNKNOWN and "slot crowd belongs to no thread" in r.reason, r.reason


EVERY_T_CLOSES_MAINS_GUARD = """
design = "final"
shared = ["V", "G"]
events = ["ready"]

[[thread]]
name = "main"
tstate = "main"
program = '''
V = PyInterpreterView_FromCurrent()
G = PyInterpreterGuard_FromCurrent()
set(ready)
Py_FinalizeEx()
'''

[[thread]]
name = "T"
count = 2
program = '''
wait(ready)
PyInterpreterGuard_Close(G)
'''
"""


def test_a_view_that_takes_from_a_counter_is_left_to_the_finer_abstraction(tmp_path):
    """Every T closes main's one guard: their view takes 1 from the guard count each, so two
    or three copies of it would make the count negative. The coarse pass refuses (it used to
    crash on the negative count); the finer pass decides, as the explicit engine does."""
    spec = spec_of(tmp_path, EVERY_T_CLOSES_MAINS_GUARD)
    family = spec.family("final")
    coarse = check_parametric(family.build, family.table, ["no_use_after_free"], passes=(True,))
    assert coarse[0].verdict is Verdict.UNKNOWN and "would be -1" in coarse[0].reason, coarse[0].reason
    [r] = parametric(spec, "final", ["no_use_after_free"]).values()
    [explicit] = check(family.build(2), ["no_use_after_free"])
    assert r.verdict is explicit.verdict is Verdict.VIOLATED and r.trace is not None, r.reason
