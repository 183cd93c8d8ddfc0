"""The parametric engine's two abstractions against each other and against the explicit
engine, on random specs.

Each spec is a main thread and a table of T threads (count 2) running random sequences of the
calls of one design (PEP 788's `final`, or the PyGILState API of `legacy`), with random
invariants and queries over the guard count, events and finalization. Per property, the coarse
abstraction alone, the finer one alone and the explicit engine at N = 1..3 must not contradict
each other: a proof for every N ("holds", or a query unreachable) must hold at each small N,
and no abstraction may prove what the other one, or the explicit engine, breaks. The coarse
one covers every run of the finer one, so it may leave open what the finer one decides, never
the reverse direction of a verdict.
"""
from __future__ import annotations

import random
import textwrap

import pytest

from interpcheck.checker.explicit import Limits, check
from interpcheck.checker.parametric import check_parametric
from interpcheck.checker.result import Verdict
from interpcheck.model.ir import Sometimes
from interpcheck.model.spec import SpecError, load_spec

FAST, SLOW = 6, 120     # specs in the README's test run, and in the slow pass

# (statement, the local it binds, the local it uses)
T_FINAL = [("wait(ready)", None, None), ("g = PyInterpreterGuard_FromView(V)\nif g == NULL:\n    return", "g", None),
           ("g = PyInterpreterGuard_FromView(V)", "g", None), ("tok = PyThreadState_Ensure(g)", "tok", "g"),
           ("PyThreadState_Release(tok)", None, "tok"), ("PyInterpreterGuard_Close(g)", None, "g"),
           ("t2 = PyThreadState_EnsureFromView(V)", "t2", None), ("PyThreadState_Release(t2)", None, "t2"),
           ("run_python()", None, None), ("work()", None, None), ("lock(L)", None, None), ("unlock(L)", None, None),
           ("set(E)", None, None), ("wait(E)", None, None), ("wait(M)", None, None),
           ("if Py_IsFinalizing():\n    return", None, None), ("st = PyGILState_Ensure()", "st", None),
           ("PyGILState_Release(st)", None, "st")]
MAIN_FINAL = ["run_python()", "set(M)", "wait(E)", "lock(L)\nunlock(L)", "work()", "PyInterpreterView_Close(V)"]
T_LEGACY = [("st = PyGILState_Ensure()", "st", None), ("PyGILState_Release(st)", None, "st"),
            ("run_python()", None, None), ("work()", None, None), ("set(E)", None, None), ("wait(M)", None, None),
            ("lock(L)", None, None), ("unlock(L)", None, None), ("Py_BEGIN_ALLOW_THREADS", None, None),
            ("Py_END_ALLOW_THREADS", None, None)]
MAIN_LEGACY = ["run_python()", "set(M)", "wait(E)", "work()"]
QUERIES = {"final": ["guards(main) >= {k}", "guards(main) == {k}", "finalizing(main) and guards(main) > {k}",
                     "event(E) and guards(main) >= {k}", "crashed", "finished(main) and guards(main) > 0",
                     "finalizing(main) and not guards_closed(main)"],
           "legacy": ["finalizing(main) and event(E)", "crashed", "finished(main) and not event(E)",
                      "holds_lock(main, L)", "attached(main) and event(M)"]}
INVARIANTS = {"final": ["guards(main) <= {k}", "not (finalizing(main) and guards(main) >= {k})",
                        "not crashed or guards(main) < {k}"],
              "legacy": ["not (finalizing(main) and event(E))", "not crashed"]}


def random_spec(rng: random.Random) -> str:
    design = "final" if rng.random() < 0.7 else "legacy"
    body = T_FINAL if design == "final" else T_LEGACY
    if design == "final":
        main = ["V = PyInterpreterView_FromCurrent()"] + rng.sample(MAIN_FINAL, rng.randint(0, 1))
        if rng.random() < 0.3:   # main's own guard, which a T may close (taking from the guard count)
            main.append("G = PyInterpreterGuard_FromCurrent()")
            body = body + [("PyInterpreterGuard_Close(G)", None, None)]
        main.append("set(ready)")
        lines = ["wait(ready)"] if rng.random() < 0.8 else []
    else:
        main, lines = [], []
    main += rng.sample(MAIN_FINAL if design == "final" else MAIN_LEGACY, rng.randint(0, 1))
    if rng.random() < 0.8:
        main.append("Py_FinalizeEx()")
    bound: set[str] = set()
    for _ in range(rng.randint(1, 5)):
        step, binds, uses = rng.choice([b for b in body if b[2] is None or b[2] in bound])
        bound.add(binds)
        if rng.random() < 0.15 and binds is None:
            step = "if choose():\n" + textwrap.indent(step, "    ")
        elif rng.random() < 0.1 and binds is None:
            step = "repeat 2:\n" + textwrap.indent(step, "    ")
        lines.append(step)
    checks = [f'q{i} = "{rng.choice(QUERIES[design]).format(k=rng.randint(0, 3))}"' for i in range(2)]
    asserts = [f'i{i} = "{rng.choice(INVARIANTS[design]).format(k=rng.randint(1, 3))}"' for i in range(1)]
    shared = '["V", "G"]' if "G = " in "\n".join(main) else '["V"]'
    return (f'design = "{design}"\n' + (f'shared = {shared}\nevents = ["ready", "E", "M"]\n' if design == "final"
                                         else 'events = ["E", "M"]\n') + 'locks = ["L"]\n\n'
            f'[[thread]]\nname = "main"\ntstate = "main"\nprogram = """\n' + "\n".join(main) + '\n"""\n\n'
            f'[[thread]]\nname = "T"\ncount = 2\nprogram = """\n' + "\n".join(lines) + '\n"""\n\n'
            "[queries]\n" + "\n".join(checks) + "\n\n[invariants]\n" + "\n".join(asserts) + "\n")


def claims(results) -> dict[str, str]:
    """Per property: "all" (holds, or a query unreachable: violated with no trace, for every N),
    "broken" (a trace the explicit engine confirmed) or "open"."""
    return {r.prop: "broken" if r.trace is not None else "all" if r.verdict is not Verdict.UNKNOWN else "open"
            for r in results}


def compare(path, seed: int) -> int | None:
    """The properties proven for every N in this spec (None when it does not load)."""
    try:
        spec = load_spec(path)
    except SpecError:
        return None
    design = spec.designs[0]
    family = spec.family(design)
    limits = Limits(max_states=1500, time_limit=30)
    coarse = claims(check_parametric(family.build, family.table, None, limits, passes=(True,)))
    fine = claims(check_parametric(family.build, family.table, None, limits, passes=(False,)))
    both = claims(check_parametric(family.build, family.table, None, limits))
    proven = 0
    for n in (1, 2, 3):
        system = family.build(n)
        explicit = {r.prop: r for r in check(system, list(coarse))}
        for name in coarse:
            r = explicit[name]
            kind = system.prop(name)
            concrete = "broken" if (r.verdict is Verdict.HOLDS) == isinstance(kind, Sometimes) \
                and r.verdict is not Verdict.UNKNOWN else "fine"
            for which, said in (("coarse", coarse), ("fine", fine), ("both", both)):
                assert not (said[name] == "all" and concrete == "broken"), \
                    f"seed {seed}: {which} proves {name} for every N, the explicit engine breaks it with N = {n}"
    for name in coarse:
        pair = {coarse[name], fine[name]}
        assert pair != {"all", "broken"}, f"seed {seed}: the abstractions contradict each other on {name}"
        assert both[name] in (coarse[name], fine[name]) or coarse[name] == "open", \
            f"seed {seed}: {name}: coarse {coarse[name]}, fine {fine[name]}, both passes {both[name]}"
        proven += coarse[name] == "all"
    return proven


@pytest.mark.parametrize("seed", range(FAST))
def test_the_abstractions_and_the_explicit_engine_agree_on_random_specs(seed, tmp_path):
    path = tmp_path / "random.toml"
    path.write_text(random_spec(random.Random(seed)))
    assert compare(path, seed) is not None, "the random spec does not load"


@pytest.mark.slow
@pytest.mark.parametrize("block", range(4))
def test_the_abstractions_and_the_explicit_engine_agree_on_many_random_specs(block, tmp_path):
    loaded = proven = 0
    for seed in range(FAST + block * SLOW // 4, FAST + (block + 1) * SLOW // 4):
        path = tmp_path / f"random{seed}.toml"
        path.write_text(random_spec(random.Random(seed)))
        got = compare(path, seed)
        if got is not None:
            loaded += 1
            proven += got
    assert loaded >= SLOW // 8 and proven > 0, f"{loaded} specs loaded, {proven} proofs: the test compares nothing"
