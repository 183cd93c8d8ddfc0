"""Partial-order reduction against the unreduced search on random thread programs.

Each system is a few threads, each a program counter walking straight-line code over shared
variables: steps that read and write them, steps that block on them, and steps that crash
the process (halt the system, as a C call does on a use after free). Properties are random
invariants and reachability queries over the counters and the shared variables, and
no-deadlock. With and without reduction the verdicts must agree, case by case: a reduction
that hides a violation or a reachable state is unsound (a crashing step once counted as
independent of every other thread, and hid what they did before it).
"""
from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.explicit import Options, _plan, check
from interpcheck.model.ir import (Action, Builder, Const, Domain, Invariant, NoDeadlock, Op, Sometimes, System,
                                  all_of, any_of, assign, enum)

CASES = 1000
CRASH = enum("none", "crashed")


def random_system(rng: random.Random, seed: int) -> System:
    n = rng.randint(2, 3)
    names = [f"T{i}" for i in range(n)]
    b = Builder(f"por-{seed}", names)
    crash = b.scalar("crash", CRASH)
    shared = [b.scalar(f"x{i}", Domain(0, 2)) for i in range(rng.randint(1, 3))]
    lengths = [rng.randint(1, 4) for _ in names]
    pcs = [b.scalar(f"pc{t}", Domain(0, lengths[t])) for t in range(n)]
    running = crash.eq(0)
    for t in range(n):
        for at in range(lengths[t]):
            here = all_of(running, pcs[t].eq(at))
            for alt in range(rng.choice([1, 1, 2])):
                guard = here
                kind = rng.choice(["local", "read", "write", "write", "block", "crash"])
                x = rng.choice(shared)
                updates = [assign(pcs[t], at + 1)]
                if kind == "read":
                    guard = all_of(here, Op(rng.choice(["==", "!="]), (x, Const(rng.randint(0, 2)))))
                elif kind == "write":
                    updates.append(assign(x, rng.randint(0, 2)))
                elif kind == "block":
                    guard = all_of(here, x.eq(rng.randint(0, 2)))
                elif kind == "crash":
                    guard = all_of(here, x.eq(rng.randint(0, 2))) if rng.random() < 0.5 else here
                    updates = [assign(crash, 1)]
                b.action(Action(f"{kind}{at}.{alt}", t, guard, tuple(updates), f"{kind}()"))
    finished = [pcs[t].eq(lengths[t]) for t in range(n)]

    def atom():
        if rng.random() < 0.6:
            t = rng.randrange(n)
            return Op(rng.choice(["==", ">="]), (pcs[t], Const(rng.randint(1, lengths[t]))))
        return rng.choice(shared).eq(rng.randint(0, 2))

    for k in range(2):
        b.prop(Invariant(f"inv{k}", ~all_of(*[atom() for _ in range(rng.randint(1, 2))]), "random"))
        b.prop(Sometimes(f"query{k}", all_of(*[atom() for _ in range(rng.randint(1, 2))]), "random"))
    b.prop(NoDeadlock())
    return b.build(finished, halted=crash.ne(0))


def verdicts(system: System, por: str) -> list[tuple[str, str]]:
    results = check(system, options=Options(por=por, symmetry="off", backend="python"))
    return [(r.prop, r.verdict.value) for r in results]


@pytest.mark.parametrize("block", range(10))
def test_reduction_keeps_every_verdict(block):
    for seed in range(block * CASES // 10, (block + 1) * CASES // 10):
        system = random_system(random.Random(seed), seed)
        assert verdicts(system, "on") == verdicts(system, "off"), f"seed {seed}"


def test_random_systems_exercise_the_reduction():
    """The test means something only if the reduction does reduce on these systems."""
    reducible = sum(_plan(s, list(range(len(s.properties))), Options(), {}, reduce=True).ample is not None
                    for s in (random_system(random.Random(seed), seed) for seed in range(100)))
    assert reducible >= 50


CRASH_FIRST = '''design = "final"
[[thread]]
name = "T1"
program = """
run_python()
"""
[[thread]]
name = "T2"
program = """
work()
work()
"""
[invariants]
t2_never_finishes = "not finished(T2)"
[queries]
t2_finishes = "finished(T2)"
'''


@pytest.mark.parametrize("por", ["--por", "--no-por"])
def test_a_crash_on_one_thread_does_not_hide_what_another_did_first(tmp_path, por):
    """T1's first call crashes (no thread state); T2 can finish before it does."""
    spec = tmp_path / "crash_first.toml"
    spec.write_text(CRASH_FIRST)
    out = CliRunner().invoke(main, ["check", str(spec), por, "--format", "json", "-p", "t2_never_finishes",
                                    "-p", "t2_finishes"], catch_exceptions=False).output
    got = {r["property"]: r["verdict"] for r in json.loads(out)["results"]}
    assert got == {"t2_never_finishes": "violated", "t2_finishes": "holds"}


def test_future_footprints_are_the_union_over_every_reachable_location():
    """The linear-time future footprint (SCCs) equals the plain search from each location."""
    from interpcheck.checker.explicit.por import _reachable_union
    for seed in range(200):
        rng = random.Random(seed)
        nodes = list(range(rng.randint(1, 12)))
        edges = {v: {rng.choice(nodes) for _ in range(rng.randint(0, 2))} for v in nodes}
        own = {v: (rng.getrandbits(8), rng.getrandbits(8)) for v in nodes}
        got = _reachable_union(nodes, edges, own)
        for v in nodes:
            reach, todo = {v}, [v]
            while todo:
                for x in edges[todo.pop()] - reach:
                    reach.add(x)
                    todo.append(x)
            want = (0, 0)
            for x in reach:
                want = (want[0] | own[x][0], want[1] | own[x][1])
            assert got[v] == want, (seed, v)
