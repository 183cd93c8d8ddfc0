"""The Z3 engines (BMC, k-induction) against the explicit engine on tiny purpose-built models."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from interpcheck.checker.explicit import check
from interpcheck.checker.result import Verdict
from interpcheck.checker.smt import ReplayError, check_bmc, check_induction
from interpcheck.checker.smt import translate
from interpcheck.model.ir import (BOOL, Action, ActionProperty, Builder, Check, Domain, Invariant, LeadsTo,
                                  NoDeadlock, NoHang, Sometimes, FALSE, assign, interpret_successors, ite)
from tiny_models import counter, mutex, philosophers, spinner

DECIDED = (Invariant, ActionProperty, NoDeadlock, Sometimes)
MODELS = {
    "mutex": lambda: mutex(),
    "mutex-broken": lambda: mutex(broken=True),
    "mutex-3": lambda: mutex(3),
    "counter": lambda: counter(),
    "counter-short": lambda: counter(2, 5),
    "philosophers": lambda: philosophers(3),
}


def by_name(results):
    return {r.prop: r for r in results}


def assert_replays(system, trace):
    """Each action of the trace, run by the reference evaluator, yields the next state."""
    assert trace.states[0] in system.initial
    for pre, k, post in zip(trace.states, trace.actions, trace.states[1:]):
        assert (k, post) in interpret_successors(system, pre)


def twins():
    """x and y count up together; `apart` needs `twins` (x == y) to become 0-inductive."""
    b = Builder("twins", ["T"])
    x = b.scalar("x", Domain(0, 6))
    y = b.scalar("y", Domain(0, 6))
    b.action(Action("tick", 0, x < 6, (assign(x, x + 1), assign(y, y + 1)), "tick()"))
    b.prop(Invariant("apart", ~(x.eq(6) & y.eq(2))))
    b.prop(Invariant("twins", x.eq(y)))
    b.prop(Invariant("small", x <= 3))
    b.prop(NoDeadlock())
    return b.build([x.eq(6)])


def two_ways():
    """Two actions lead to the same successor; the trace must name the lower-numbered one."""
    b = Builder("two-ways", ["A", "B"])
    flag = b.scalar("flag", BOOL)
    b.action(Action("late", 1, flag.eq(0), (assign(flag, 1),), "late()"))
    b.action(Action("early", 0, flag.eq(0), (assign(flag, 1),), "early()"))
    b.prop(Invariant("unset", flag.eq(0)))
    return b.build([flag.eq(1), flag.eq(1)])


def pointer(length: int = 3, index_hi: int = 2):
    """A cursor walks an array, marking cells; reads and writes use the cursor as index."""
    b = Builder("pointer", ["T"])
    cur = b.scalar("cur", Domain(0, index_hi))
    cell = b.array("cell", length, Domain(0, 2))
    b.action(Action("mark", 0, cell[cur].eq(0), (assign(cell[cur], 1 + cur.eq(1)),), "mark()"))
    b.action(Action("move", 0, cell[cur] > 0, (assign(cur, ite(cur < index_hi, cur + 1, 0)),), "move()"))
    b.prop(Invariant("no_two", ~cell[2].eq(2)))
    b.prop(Invariant("second_marked_twice", ~(cell[1].eq(2) & cur.eq(2))))
    b.prop(NoDeadlock())
    b.prop(Sometimes("all_marked", (cell[0] > 0) & (cell[1] > 0) & (cell[2] > 0)))
    return b.build([FALSE])  # the pointer never stops


@pytest.mark.parametrize("name", list(MODELS))
def test_bmc_agrees_with_explicit_on_verdicts_and_trace_lengths(name):
    system = MODELS[name]()
    explicit = by_name(check(system))
    for r in check_bmc(system):
        prop = system.prop(r.prop)
        if not isinstance(prop, DECIDED):
            continue
        e = explicit[r.prop]
        assert r.verdict == e.verdict, (r.prop, r.reason)
        assert (r.trace is None) == (e.trace is None)
        if r.trace is not None:
            assert r.trace.length == e.trace.length
            assert_replays(system, r.trace)


def test_bmc_leaves_hang_and_liveness_to_the_explicit_engine():
    results = by_name(check_bmc(spinner()))
    for name in ("eventually_done", "toggles_back", "no_thread_hung"):
        assert results[name].verdict == Verdict.UNKNOWN
        assert results[name].undecided
        assert results[name].reason == ("not decided by this engine: bmc decides safety properties; use --engine "
                                        "explicit for hangs and liveness")


def test_bmc_proves_by_recurrence_diameter():
    r = by_name(check_bmc(mutex()))["mutual_exclusion"]
    assert r.verdict == Verdict.HOLDS
    assert r.reason == "complete: recurrence diameter 6"
    assert r.engine == "bmc" and r.stats.depth == 6


def test_bmc_below_the_violation_depth_is_unknown():
    r = by_name(check_bmc(mutex(broken=True), ["mutual_exclusion"], depth=3))["mutual_exclusion"]
    assert r.verdict == Verdict.UNKNOWN
    assert r.reason == "no violation up to depth 3"


def test_bmc_action_property_trace_ends_with_the_failing_step():
    system = mutex(broken=True)
    r = by_name(check_bmc(system, ["lock_was_free"]))["lock_was_free"]
    assert r.verdict == Verdict.VIOLATED
    assert system.actions[r.trace.actions[-1]].name == "lock"
    assert r.trace.states[-2][system.var("lock").base] == 1  # the lock was taken before the step


def test_bmc_sometimes_witness_and_vacuity():
    results = by_name(check_bmc(mutex()))
    assert results["crit_reachable"].verdict == Verdict.HOLDS
    assert results["crit_reachable"].trace.length == 2
    assert results["never_reachable"].verdict == Verdict.VIOLATED
    shallow = by_name(check_bmc(mutex(), ["never_reachable"], depth=2))
    assert shallow["never_reachable"].verdict == Verdict.UNKNOWN


def test_bmc_reports_a_bound_overflow_like_the_explicit_engine():
    system = counter(limit=6, bound=5)
    explicit = by_name(check(system))
    results = by_name(check_bmc(system))
    assert results["below_three"].verdict == explicit["below_three"].verdict == Verdict.VIOLATED
    assert results["no_deadlock"].verdict == explicit["no_deadlock"].verdict == Verdict.UNKNOWN
    assert "bound: x would become 6 in inc()" in results["no_deadlock"].reason


def test_bmc_is_deterministic():
    first = check_bmc(philosophers(3))
    second = check_bmc(philosophers(3))
    assert [r.trace for r in first] == [r.trace for r in second]


def test_traces_are_the_same_in_every_process():
    # A fresh interpreter (another hash seed) must produce the very same traces and reasons.
    script = ("import sys; sys.path.insert(0, 'tests'); from tiny_models import philosophers, mutex; "
              "from interpcheck.checker.smt import check_bmc, check_induction; "
              "print([r.trace for r in check_bmc(philosophers(3))]); "
              "print([r.reason for r in check_induction(mutex(), max_k=0)])")
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(outputs) == 1


def test_time_limit_gives_unknown():
    for engine in (check_bmc, check_induction):
        r = by_name(engine(mutex(3), ["mutual_exclusion"], time_limit=0.0))["mutual_exclusion"]
        assert r.verdict == Verdict.UNKNOWN
        assert r.reason == "limit reached: time-limit 0s at depth 0; nothing searched yet"


def test_bmc_names_the_lowest_numbered_action_for_a_step():
    r = by_name(check_bmc(two_ways()))["unset"]
    assert r.trace.actions == (0,)


def test_bmc_dynamic_indices_agree_with_explicit():
    system = pointer()
    explicit = by_name(check(system))
    for r in check_bmc(system, depth=30):
        assert r.verdict == explicit[r.prop].verdict, r.prop
        if r.trace is not None:
            assert r.trace.length == explicit[r.prop].trace.length
            assert_replays(system, r.trace)


def test_bmc_index_out_of_range_is_a_model_error_in_both_engines():
    system = pointer(length=3, index_hi=3)   # the cursor reaches 3, one past the array
    with pytest.raises(IndexError):
        check(system)
    with pytest.raises(IndexError):
        check_bmc(system, depth=30)


def test_a_trace_the_explicit_semantics_refutes_is_never_reported(monkeypatch):
    # Make the translation claim every state is bad: Z3 then offers traces that replay refutes.
    monkeypatch.setattr(translate.Translator, "bad", lambda self, prop, s: self.true)
    with pytest.raises(ReplayError):
        check_bmc(mutex(), ["mutual_exclusion"])
    with pytest.raises(ReplayError):
        check_induction(mutex(), ["no_deadlock"])


def test_induction_proves_mutual_exclusion():
    r = by_name(check_induction(mutex(), ["mutual_exclusion"]))["mutual_exclusion"]
    assert r.verdict == Verdict.HOLDS
    assert r.engine == "k-induction"
    assert r.reason.endswith("-inductive")


def test_induction_refutes_broken_mutex_with_the_shortest_trace():
    system = mutex(broken=True)
    explicit = by_name(check(system))
    results = by_name(check_induction(system, ["mutual_exclusion", "lock_was_free"]))
    for name, r in results.items():
        assert r.verdict == Verdict.VIOLATED
        assert r.trace.length == explicit[name].trace.length
        assert_replays(system, r.trace)


def test_induction_describes_the_counterexample_to_induction():
    r = by_name(check_induction(mutex(), ["mutual_exclusion"], max_k=0))["mutual_exclusion"]
    assert r.verdict == Verdict.UNKNOWN
    assert r.reason.startswith("not 0-inductive and no violation up to depth 0; counterexample to induction: ")
    assert r.reason.endswith("lock(L) leads to a state where mutual_exclusion is false")
    cti, system = r.cti, mutex()
    assert system.actions[cti.action].call == "lock(L)"
    assert system.slot_names().index("lock") in cti.shown
    assert cti.fails == "mutual_exclusion is false"


def test_a_counterexample_to_induction_names_the_call_that_would_index_out_of_range():
    # `go` is never enabled from the initial state; from a state where it is, `touch` reads cell[3].
    b = Builder("armed", ["T"])
    cur = b.scalar("cur", Domain(0, 3))
    armed = b.scalar("armed", BOOL)
    cell = b.array("cell", 3, BOOL)
    b.action(Action("go", 0, armed.eq(1), (assign(cur, 3),), "go()"))
    b.action(Action("touch", 0, cell[cur].eq(0), (assign(cell[cur], 1),), "touch()"))
    b.prop(Invariant("fine", cell[0] <= 1))
    r = by_name(check_induction(b.build([FALSE]), ["fine"], max_k=0))["fine"]
    assert r.verdict == Verdict.UNKNOWN
    assert r.cti.fails.startswith("T: touch() would index out of range (cell[3] out of range)")


def test_induction_proves_deadlock_freedom_and_refutes_the_philosophers():
    assert by_name(check_induction(mutex(), ["no_deadlock"]))["no_deadlock"].verdict == Verdict.HOLDS
    r = by_name(check_induction(philosophers(3), ["no_deadlock"]))["no_deadlock"]
    assert r.verdict == Verdict.VIOLATED and r.trace.length == 3


def test_induction_uses_a_proven_lemma():
    alone = by_name(check_induction(twins(), ["apart"], max_k=1))["apart"]
    assert alone.verdict == Verdict.UNKNOWN
    helped = by_name(check_induction(twins(), ["apart"], max_k=1, assume=["twins"]))["apart"]
    assert helped.verdict == Verdict.HOLDS
    assert helped.reason == "0-inductive assuming twins"


def test_induction_does_not_assume_an_unproven_lemma():
    # `small` (x <= 3) is false, but not refuted within depth 1: assuming it would "prove" apart.
    r = by_name(check_induction(twins(), ["apart", "small"], max_k=1, assume=["small"]))
    assert r["apart"].verdict == Verdict.UNKNOWN
    assert r["small"].verdict == Verdict.UNKNOWN
    deep = by_name(check_induction(twins(), ["small"], max_k=5, assume=["small"]))["small"]
    assert deep.verdict == Verdict.VIOLATED and deep.trace.length == 4


def test_induction_proves_a_property_together_with_its_lemma():
    # a and b swap: `a_clear` and `b_clear` are each not 0-inductive alone, but together are.
    b = Builder("swap", ["T"])
    x = b.scalar("a", BOOL)
    y = b.scalar("b", BOOL)
    b.action(Action("swap", 0, x.eq(x), (assign(x, y), assign(y, x)), "swap()"))
    b.prop(Invariant("a_clear", x.eq(0)))
    b.prop(Invariant("b_clear", y.eq(0)))
    system = b.build([FALSE])
    alone = by_name(check_induction(system, ["a_clear"], max_k=0))["a_clear"]
    assert alone.verdict == Verdict.UNKNOWN
    r = by_name(check_induction(system, max_k=0, assume=["b_clear"]))
    assert r["a_clear"].verdict == Verdict.HOLDS
    assert r["a_clear"].reason == "0-inductive together with b_clear"
    assert r["b_clear"].verdict == Verdict.HOLDS


def test_induction_lemmas_must_be_invariants():
    with pytest.raises(ValueError):
        check_induction(mutex(), assume=["no_deadlock"])
    with pytest.raises(ValueError):
        check_induction(mutex(), assume=["no_such_property"])


def test_induction_refutes_an_unreachable_witness():
    r = by_name(check_induction(mutex(4), ["never_reachable", "crit_reachable"]))
    assert r["never_reachable"].verdict == Verdict.VIOLATED
    assert r["crit_reachable"].verdict == Verdict.HOLDS


def test_induction_reports_a_bound_overflow():
    r = by_name(check_induction(counter(limit=6, bound=5), ["no_deadlock"]))["no_deadlock"]
    assert r.verdict == Verdict.UNKNOWN
    assert "bound: x would become 6" in r.reason


def test_induction_leaves_liveness_to_the_explicit_engine():
    system = spinner()
    for r in check_induction(system):
        assert r.verdict == Verdict.UNKNOWN
        assert "liveness" in r.reason
    assert isinstance(system.prop("eventually_done"), LeadsTo)
    assert isinstance(system.prop("no_thread_hung"), NoHang)


def test_action_checks_on_a_model_with_primed_reads():
    b = Builder("ratchet", ["T"])
    x = b.scalar("x", Domain(0, 3))
    b.action(Action("up", 0, x < 3, (assign(x, ite(x.eq(2), 0, x + 1)),), "up()",
                    checks=(Check("grows", x.prime() > x),)))
    b.prop(ActionProperty("grows"))
    system = b.build([x.eq(3)])
    explicit = by_name(check(system))["grows"]
    bmc = by_name(check_bmc(system))["grows"]
    ind = by_name(check_induction(system))["grows"]
    assert explicit.verdict == bmc.verdict == ind.verdict == Verdict.VIOLATED
    assert bmc.trace.length == ind.trace.length == explicit.trace.length == 3
