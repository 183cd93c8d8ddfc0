"""The Promela export and SPIN as a second engine (same verdicts, same states, IR traces),
and the TLA+ export's shape."""
from __future__ import annotations

import dataclasses
import functools

import pytest
from tiny_models import counter, mutex, philosophers, spinner

from interpcheck.checker.explicit import check
from interpcheck.checker.explicit.explore import explore
from interpcheck.checker.export import (check_spin, module_name, spin_available, state_space, tla_config, to_promela,
                                        to_tla, translate)
from interpcheck.checker.result import Verdict
from interpcheck.model.ir import (FALSE, Action, ActionProperty, Builder, Check, Domain, Invariant, NoDeadlock,
                                  Op, Sometimes, System, assign, ite)
from interpcheck.checker.explicit.semantics import compile_system

needs_spin = pytest.mark.skipif(not spin_available(), reason="SPIN is not installed (CI: apt-get install -y spin)")

FAST = dict(cflags=("-O0",), pan_args=("-w16",))  # the tiny models need neither -O2 nor pan's 128 MB table


def rotor() -> System:
    """Three cells start as the permutation 0 1 2 (an initial d_step in Promela); a cursor
    moves round them and swaps neighbours: dynamic-index reads and simultaneous writes."""
    b = Builder("rotor", ["T"])
    a = b.array("a", 3, Domain(0, 2), init=[0, 1, 2])
    i = b.scalar("i", Domain(0, 2))
    nxt = ite(i.eq(2), 0, i + 1)
    b.action(Action("swap", 0, a[i].ne(a[nxt]), (assign(a[i], a[nxt]), assign(a[nxt], a[i])), "swap(a, i)",
                    checks=(Check("swap_exchanges", a[i].prime().eq(a[nxt]) & a[nxt].prime().eq(a[i])),
                            Check("cursor_kept", i.prime().eq(i)),
                            Check("swap_is_identity", a[i.prime()].prime().eq(a[i])))))
    b.action(Action("step", 0, i <= 2, (assign(i, nxt),), "step(i)"))
    b.prop(Invariant("permutation", (a[0] + a[1] + a[2]).eq(3), "the cells stay a permutation"))
    b.prop(Invariant("never_reversed", ~(a[0].eq(2) & a[1].eq(1) & a[2].eq(0)), "false: 2 1 0 is reachable"))
    b.prop(ActionProperty("swap_exchanges", "swap exchanges the two cells"))
    b.prop(ActionProperty("cursor_kept", "swap leaves the cursor"))
    b.prop(ActionProperty("swap_is_identity", "false: swap changes a[i]"))
    b.prop(NoDeadlock())
    b.prop(Sometimes("reversed", a[0].eq(2) & a[1].eq(1) & a[2].eq(0), "2 1 0 is reachable"))
    return b.build([FALSE])


def seesaw(halts: bool = True) -> System:
    """v in -2..2 (a Promela short), negated and decremented; stuck at -2, which is a halt
    or, without `halts`, a deadlock."""
    b = Builder("seesaw" + ("" if halts else "-stuck"), ["T"])
    v = b.scalar("v", Domain(-2, 2), init=2)
    b.action(Action("dec", 0, v > -2, (assign(v, v - 1),), "dec(v)"))
    b.action(Action("flip", 0, (v < 0) & (v > -2), (assign(v, Op("neg", (v,))),), "flip(v)"))
    b.prop(Invariant("above_bottom", v > -2, "false: v reaches -2"))
    b.prop(NoDeadlock())
    return b.build([FALSE], halted=v.eq(-2) if halts else FALSE)


def two_starts() -> System:
    """Two initial states (a nondeterministic initial d_step in Promela)."""
    system = counter()
    x = system.var("x")
    return dataclasses.replace(system, name="two-starts", initial=((0,), (2,)),
                               properties=system.properties + (Sometimes("starts_high", x[0].eq(2)),))


MODELS = {
    "mutex": lambda: mutex(2), "mutex-broken": lambda: mutex(2, broken=True), "mutex-3": lambda: mutex(3),
    "counter": counter, "philosophers": lambda: philosophers(3), "spinner": spinner, "rotor": rotor,
    "seesaw": seesaw, "seesaw-stuck": lambda: seesaw(halts=False), "two-starts": two_starts,
}
EXPORTED = (Invariant, ActionProperty, NoDeadlock, Sometimes)


@functools.cache
def model(name: str) -> System:
    return MODELS[name]()


@functools.cache
def explicit(name: str) -> dict:
    return {r.prop: r for r in check(model(name))}


@functools.cache
def spin(name: str, order: str = "dfs") -> dict:
    return {r.prop: r for r in check_spin(model(name), reduce=False, order=order, **FAST)}


def test_every_action_is_one_d_step_commented_with_its_call_and_thread():
    system = mutex(2)
    text = to_promela(system)
    for k, action in enumerate(system.actions):
        assert f"/* {system.threads[action.thread]}: {action.call}  [{action.name}] */" in text
        assert f'printf("IC_STEP {k}\\n");' in text
    assert text.count(":: d_step {  /* T") == len(system.actions)
    assert text.count("do ") == 1 and "active proctype" in text


def test_each_checkable_property_has_its_own_macro_and_the_rest_say_why_not():
    exported = translate(mutex(2))
    assert set(exported.macros) == {"mutual_exclusion", "lock_was_free", "no_deadlock", "crit_reachable",
                                    "never_reachable"}
    for name, macro in exported.macros.items():
        assert f"#ifdef {macro}" in exported.text
    assert set(exported.unsupported) == {"no_thread_hung", "all_done"}


def test_variables_get_the_smallest_promela_type_of_their_domain():
    assert "bit lock = 0;" in to_promela(mutex(2))
    assert "byte x = 0;" in to_promela(counter())
    assert "short v = 2;" in to_promela(seesaw())


def test_initial_values_need_a_start_step_only_when_initializers_cannot_say_them():
    assert translate(mutex(2)).extra_states == 0
    assert translate(rotor()).extra_states == 1      # a = 0 1 2
    assert translate(two_starts()).extra_states == 1


def test_a_swap_goes_through_temporaries_reset_inside_the_step():
    text = to_promela(rotor())
    before, after = text.split("a[i] = a[")  # the first write
    assert "ic_i1 = ((i == 2) -> 0 : (i + 1));" in before and "ic_v1 = a[i];" in before
    assert "a[ic_i1] = ic_v1;" in after and "ic_v1 = 0;" in after and "ic_i1 = 0;" in after


@needs_spin
@pytest.mark.parametrize("name", MODELS)
def test_spin_verdicts_match_the_explicit_engine(name):
    mine, theirs = spin(name), explicit(name)
    for prop in model(name).properties:
        if isinstance(prop, EXPORTED):
            assert mine[prop.name].verdict == theirs[prop.name].verdict, (prop.name, mine[prop.name].reason)
        else:
            assert mine[prop.name].verdict == Verdict.UNKNOWN and "explicit engine" in mine[prop.name].reason


@needs_spin
@pytest.mark.parametrize("name", MODELS)
def test_spin_stores_exactly_the_explicit_engines_states(name):
    system = model(name)
    ex = explore(system, compile_system(system), set(), stop_early=False)
    census = state_space(system, reduce=False, **FAST)
    extra = translate(system).extra_states
    assert census.states == len(ex.states)
    assert census.spin_states == len(ex.states) + extra
    assert census.transitions == ex.stats.transitions + 1 + extra * len(system.initial)


@needs_spin
@pytest.mark.parametrize("name", MODELS)
def test_spin_counterexamples_are_paths_of_the_ir_ending_where_the_property_fails(name):
    system = model(name)
    compiled = compile_system(system)
    for result in spin(name).values():
        if result.trace is None:
            continue
        prop, trace, last = system.prop(result.prop), result.trace, result.trace.states[-1]
        assert trace.states[0] in system.initial
        for k, (pre, post) in enumerate(zip(trace.states, trace.states[1:])):
            assert (trace.actions[k], post) in compiled.successors(pre)
        i = system.properties.index(prop)
        if isinstance(prop, Invariant):
            assert i in compiled.invariants(last)
        elif isinstance(prop, ActionProperty):
            assert i in compiled.action_checks(trace.actions[-1], trace.states[-2], last)
        elif isinstance(prop, NoDeadlock):
            assert not compiled.successors(last) and not compiled.halted(last)
        elif isinstance(prop, Sometimes):
            assert compiled.predicate(prop.expr)(last)


@needs_spin
@pytest.mark.parametrize("name", ["mutex-broken", "philosophers", "rotor", "seesaw-stuck", "two-starts"])
def test_breadth_first_spin_traces_are_as_short_as_the_explicit_ones(name):
    for prop, result in spin(name, "bfs").items():
        if result.trace is not None:
            assert result.trace.length == explicit(name)[prop].trace.length, prop


@needs_spin
def test_a_value_leaving_its_domain_is_unknown_not_a_verdict():
    result, = check_spin(counter(limit=7, bound=5), names=["no_deadlock"], **FAST)
    assert result.verdict == Verdict.UNKNOWN and "bound: x" in result.reason


@needs_spin
def test_default_build_with_reduction_agrees_and_times_build_and_search_apart(tmp_path):
    result, = check_spin(mutex(2, broken=True), names=["mutual_exclusion"], workdir=tmp_path)
    assert result.verdict == Verdict.VIOLATED and result.engine == "spin"
    assert result.stats.compile_seconds > 0 and result.stats.translate_seconds > 0
    assert {"compile_seconds", "translate_seconds", "spin_states"} <= result.stats.as_dict().keys()
    assert "gcc" in result.reason and "pan" in result.reason
    assert (tmp_path / "model.pml").exists() and list(tmp_path.glob("error*.trail"))


@needs_spin
def test_a_search_deeper_than_pans_stack_is_retried_with_a_deeper_stack():
    result, = check_spin(counter(limit=150, bound=150), names=["no_deadlock"], max_depth=10, **FAST)
    assert result.verdict == Verdict.HOLDS and result.stats.depth == 150


def test_tla_module_has_variables_init_one_operator_per_action_next_and_properties():
    system = mutex(2)
    text = to_tla(system)
    assert text.startswith(f"---- MODULE {module_name(system)} ----") and text.rstrip().endswith("====")
    assert "VARIABLES pc, lock" in text and "Init == pc = [n \\in 0..1 |-> 0] /\\ lock = 0" in text
    for name in ("T0_want", "T0_lock", "T0_unlock", "T1_want", "T1_lock", "T1_unlock"):
        assert f"\n{name} ==\n" in text and f"    \\/ {name}\n" in text
    assert "\\* T1: lock(L)  [lock]" in text
    assert "    \\/ (Done /\\ UNCHANGED vars)" in text  # stopping allowed: TLC's deadlock check is ours
    assert "WF_vars(T0_want \\/ T0_lock \\/ T0_unlock)" in text
    assert "mutual_exclusion == ~((pc[0] = 2) /\\ (pc[1] = 2))" in text
    assert "lock_was_free == [][(T0_lock => (lock = 0)) /\\ (T1_lock => (lock = 0))]_vars" in text
    assert "all_done == TRUE ~> ((pc[0] = 3) /\\ (pc[1] = 3))" in text


def test_tla_writes_are_simultaneous_and_ints_become_formulas_where_needed():
    text = to_tla(rotor())
    nxt = "(IF (i = 2) THEN 0 ELSE (i + 1))"
    assert f"a' = [a EXCEPT ![i] = a[{nxt}], ![{nxt}] = a[i]]" in text
    assert "<<0, 1, 2>>[n + 1]" in text and "swap_is_identity == [][(T_swap => (a'[i'] = a[i]))]_vars" in text
    assert "(-v)" in to_tla(seesaw())


def test_tla_config_lists_what_tlc_should_check():
    assert tla_config(mutex(2)).splitlines() == [
        "SPECIFICATION Spec", "INVARIANT TypeOK", "INVARIANT mutual_exclusion", "PROPERTY lock_was_free",
        "PROPERTY all_done", "INVARIANT never_crit_reachable", "INVARIANT never_never_reachable"]
    assert "CHECK_DEADLOCK FALSE" in tla_config(spinner())


@pytest.mark.parametrize("name", MODELS)
def test_tla_modules_parse(name):
    tla = pytest.importorskip("tla", reason="the `tla` parser (pip install tla) is not installed")
    assert tla.parse(to_tla(model(name))) is not None
