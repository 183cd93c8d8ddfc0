"""The explicit engine on tiny models whose answers are known by hand."""
import pytest
from tiny_models import counter, mutex, philosophers, spinner

from interpcheck.checker.explicit import Limits, Options, check
from interpcheck.checker.result import Verdict
from interpcheck.model.ir import interpret_successors
from interpcheck.checker.explicit.semantics import compile_system


def verdicts(system, **kw):
    return {r.prop: r for r in check(system, options=Options(**kw))}


def test_mutex_holds_every_property_and_counts_states():
    r = verdicts(mutex(2))
    for name in ("mutual_exclusion", "lock_was_free", "no_deadlock", "no_thread_hung", "all_done"):
        assert r[name].verdict is Verdict.HOLDS, name
    assert r["mutual_exclusion"].stats.states == 15


def test_broken_mutex_violates_invariant_with_shortest_trace():
    r = verdicts(mutex(2, broken=True))
    assert r["mutual_exclusion"].verdict is Verdict.VIOLATED
    assert r["mutual_exclusion"].trace.length == 4   # want, want, lock, lock


def test_action_property_violated_on_the_transition():
    r = verdicts(mutex(2, broken=True))
    assert r["lock_was_free"].verdict is Verdict.VIOLATED
    assert r["lock_was_free"].trace.length == 4


def test_deadlock_found_and_absent():
    assert verdicts(philosophers(3))["no_deadlock"].verdict is Verdict.VIOLATED
    assert verdicts(philosophers(3))["no_deadlock"].trace.length == 3
    assert verdicts(mutex(2))["no_deadlock"].verdict is Verdict.HOLDS


def test_hang_found_and_absent():
    r = verdicts(philosophers(3))["no_thread_hung"]
    assert r.verdict is Verdict.VIOLATED and r.trace.thread is not None
    assert verdicts(mutex(3))["no_thread_hung"].verdict is Verdict.HOLDS


def test_leads_to_violated_by_a_fair_cycle_and_held_under_fairness():
    r = verdicts(spinner())
    assert r["eventually_done"].verdict is Verdict.VIOLATED
    assert r["eventually_done"].trace.loop is not None
    assert r["toggles_back"].verdict is Verdict.HOLDS


def test_witness_reached_and_vacuity_caught():
    r = verdicts(mutex(2))
    assert r["crit_reachable"].verdict is Verdict.HOLDS and r["crit_reachable"].trace.length == 2
    assert r["never_reachable"].verdict is Verdict.VIOLATED


def test_invariant_violated_in_a_bounded_counter():
    r = verdicts(counter(5, 5))
    assert r["below_three"].trace.length == 3
    assert r["no_deadlock"].verdict is Verdict.HOLDS


def test_value_outside_a_domain_is_a_limit_not_a_verdict():
    r = verdicts(counter(7, 5))
    assert r["no_deadlock"].verdict is Verdict.UNKNOWN
    assert "bound" in r["no_deadlock"].reason


def test_max_states_limit_gives_unknown():
    r = verdicts(mutex(3), limits=Limits(max_states=5))
    assert r["mutual_exclusion"].verdict is Verdict.UNKNOWN
    assert "max-states" in r["mutual_exclusion"].reason


def test_limit_keeps_violations_already_found():
    r = verdicts(mutex(3, broken=True), limits=Limits(max_states=40))
    assert r["mutual_exclusion"].verdict is Verdict.VIOLATED
    assert r["no_deadlock"].verdict is Verdict.UNKNOWN


def test_dfs_agrees_on_verdicts():
    bfs, dfs = verdicts(philosophers(3)), verdicts(philosophers(3), order="dfs")
    assert {k: v.verdict for k, v in bfs.items()} == {k: v.verdict for k, v in dfs.items()}


def test_simulation_finds_violation_but_never_proves():
    r = verdicts(mutex(2, broken=True), order="simulate", seed=1, walks=200)
    assert r["mutual_exclusion"].verdict is Verdict.VIOLATED
    assert r["no_deadlock"].verdict is Verdict.UNKNOWN


def test_simulation_is_reproducible_by_seed():
    a = verdicts(philosophers(3), order="simulate", seed=7, walks=50)["no_deadlock"].trace
    b = verdicts(philosophers(3), order="simulate", seed=7, walks=50)["no_deadlock"].trace
    assert a == b


@pytest.mark.parametrize("model", [mutex(3), mutex(2, True), philosophers(3), spinner(), counter()])
def test_compiled_successors_equal_the_reference_semantics(model):
    fast = compile_system(model).successors
    seen, todo = {model.initial[0]}, [model.initial[0]]
    while todo:
        s = todo.pop()
        assert sorted(fast(s)) == sorted(interpret_successors(model, s))
        for _, n in fast(s):
            if n not in seen:
                seen.add(n)
                todo.append(n)


def test_memory_limit_gives_unknown_and_keeps_what_was_found(monkeypatch):
    from interpcheck.checker import options   # where Limits reads the process's memory
    calls = []
    monkeypatch.setattr(options, "resident_mib", lambda: calls.append(1) or 10 ** 6)
    r = verdicts(mutex(6, broken=True), limits=Limits(max_memory=100))
    assert calls, "the limit was never looked at"
    assert r["mutual_exclusion"].verdict is Verdict.VIOLATED      # met before the limit: kept
    assert r["mutual_exclusion"].trace.length == 4
    assert r["no_deadlock"].verdict is Verdict.UNKNOWN
    assert "max-memory 100 MiB (1,000,000 MiB in use)" in r["no_deadlock"].reason


def test_memory_limit_above_use_changes_nothing():
    assert {k: v.verdict for k, v in verdicts(mutex(6, broken=True), limits=Limits(max_memory=10 ** 6)).items()} == \
        {k: v.verdict for k, v in verdicts(mutex(6, broken=True)).items()}
