"""The explicit engine's speed-ups change how much is explored, never what is decided.

Packed states compute the reference successor relation; the symmetry description the
program compiler writes is a true automorphism of every model that has one; symmetry,
partial-order reduction, the fingerprint store and worker processes give the unreduced
verdicts on every committed spec; symmetric traces are real concrete traces of the same
(shortest) length; and properties the quotient cannot decide are refused.
"""
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_models import mutex

from interpcheck.checker.explicit import Options, check
from interpcheck.checker.explicit.symmetry import Transposition, canonicalizer, unsupported
from interpcheck.checker.result import Verdict
from interpcheck.model.ir import Symmetry, ThreadGroup, interpret_successors
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.model.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.toml"))
BENCH = ROOT / "benchmarks"
REFERENCE = ["guard_threads", "legacy_threads", "two_interpreters"]
OFF = Options(symmetry="off", por="off")


def with_count(name: str, n: int, tmp: Path) -> Path:
    text = re.sub(r"^count = \d+", f"count = {n}", (BENCH / f"{name}.toml").read_text(), flags=re.M)
    out = tmp / f"{name}_{n}.toml"
    out.write_text(text)
    return out


def reachable(system, successors, start, cap=2000):
    seen, todo = {start}, [start]
    while todo and len(seen) < cap:
        s = todo.pop()
        for _, n in successors(s):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def outcome(results):
    return [(r.prop, r.verdict, r.trace.length if r.trace is not None else None) for r in results]


def replays(system, trace) -> bool:
    """Each step of the trace is a step of the IR's reference semantics."""
    return all((k, post) in interpret_successors(system, pre)
               for pre, k, post in zip(trace.states, trace.actions, trace.states[1:]))


# ----- packed states ---------------------------------------------------------------------------

HEAVY = {"pep_my_gilstate_ensure"}   # whole graphs too large for the default run: in the slow pass


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.stem in HEAVY else p for p in SPECS[::3]],
                         ids=[p.stem for p in SPECS[::3]])
def test_packed_states_follow_the_reference_semantics(path):
    spec = load_spec(path)
    system = spec.system(spec.designs[0])
    packed = compile_system(system, packed=True)
    for s in reachable(system, compile_system(system).successors, system.initial[0], cap=600):
        got = [(k, packed.decode(n)) for k, n in packed.successors(packed.encode(s))]
        assert got == interpret_successors(system, s)
        assert packed.invariants(packed.encode(s)) == compile_system(system).invariants(s)


def test_packed_states_with_a_symmetric_layout_follow_the_reference_semantics(tmp_path):
    system = load_spec(with_count("guard_threads", 3, tmp_path)).system("final")
    canon = canonicalizer(system, lambda order, shift: compile_system(system, True, order, shift))
    packed = canon.compiled
    assert list(packed.packing.offset) != [0] * system.width     # value classes really were shifted
    for s in reachable(system, compile_system(system).successors, system.initial[0], cap=800):
        got = [(k, packed.decode(n)) for k, n in packed.successors(packed.encode(s))]
        assert got == interpret_successors(system, s)


def _explored(system, wanted, **hooks):
    from interpcheck.checker.explicit import explore
    ex = explore(system, compile_system(system, packed=True), wanted, **hooks)
    return (list(ex.states), list(ex.parent), list(ex.via), list(ex.depth), ex.found, ex.witness,
            ex.stats.states, ex.stats.transitions, ex.limit)


@pytest.mark.parametrize("path", SPECS[1::3], ids=[p.stem for p in SPECS[1::3]])
def test_the_plain_search_loop_explores_as_the_general_one(path):
    """No reduction: the plain loop (the raw engine's) and the general loop (taken here
    through an identity canonicalizer) store the same states in the same order, with the
    same parents and the same verdicts and traces."""
    spec = load_spec(path)
    for design in spec.designs:
        system = spec.system(design)
        wanted = {i for i, p in enumerate(system.properties) if p.name in (spec.properties(design) or [p.name])}
        for stop_early in (True, False):
            assert _explored(system, wanted, stop_early=stop_early) == \
                _explored(system, wanted, stop_early=stop_early, canon=lambda s: s), (design, stop_early)


# ----- symmetry ----------------------------------------------------------------------------------

def _grouped_systems(tmp: Path):
    for path in SPECS:
        spec = load_spec(path)
        for design in spec.designs:
            system = spec.system(design)
            if system.symmetry is not None:
                yield f"{path.stem}[{design}]", system
    for name in REFERENCE:
        spec = load_spec(with_count(name, 3, tmp))
        yield f"{name}_3", spec.system(spec.designs[0])


def test_the_compiled_symmetry_maps_reachable_steps_onto_reachable_steps(tmp_path):
    """For every model with interchangeable threads, swapping two of them commutes with
    the successor relation, the invariants and `finished` on the whole reachable graph."""
    checked = 0
    for name, system in _grouped_systems(tmp_path):
        compiled = compile_system(system)
        swaps = [Transposition(system, system.symmetry, gi, j) for gi, g in enumerate(system.symmetry.groups)
                 for j in range(len(g.threads) - 1)]
        for s in reachable(system, compiled.successors, system.initial[0], cap=20000):
            for sw in swaps:
                p = sw.state(s)
                assert sorted(n for _, n in compiled.successors(p)) == \
                    sorted(sw.state(n) for _, n in compiled.successors(s)), name
                assert compiled.invariants(p) == compiled.invariants(s), name
                other = {sw.a: sw.b, sw.b: sw.a}
                assert [f(p) for f in compiled.finished] == \
                    [compiled.finished[other.get(t, t)](s) for t in range(len(compiled.finished))], name
        checked += 1
    assert checked >= 6


def test_representatives_are_one_per_orbit_on_the_guard_model(tmp_path):
    import itertools
    system = load_spec(with_count("guard_threads", 4, tmp_path)).system("final")
    canon = canonicalizer(system, lambda order, shift: compile_system(system, True, order, shift))
    states = reachable(system, canon.compiled.successors, canon.compiled.encode(system.initial[0]), cap=10**6)
    perms = list(itertools.permutations(range(4)))
    orbits = {min(canon.permute(s, (p,)) for p in perms) for s in states}
    reps = {canon.canon(s) for s in states}
    assert len(reps) == len(orbits) < len(states) / 10
    for s in list(states)[:300]:
        assert canon.canon(s) in {canon.permute(s, (p,)) for p in perms}     # a member of its own orbit


def test_symmetric_counterexamples_are_concrete_shortest_traces(tmp_path):
    system = load_spec(with_count("legacy_threads", 3, tmp_path)).system("legacy")
    props = ["no_use_after_free", "no_attach_after_finalize"]   # (a hung thread after main returned is no deadlock)
    plain = {r.prop: r for r in check(system, props, OFF)}
    reduced = check(system, props, Options(symmetry="on", por="off"))
    assert reduced[0].stats.states < plain[props[0]].stats.states
    for r in reduced:
        assert r.verdict is Verdict.VIOLATED and not r.reason
        assert r.trace.states[0] == system.initial[0]
        assert replays(system, r.trace)
        assert r.trace.length == plain[r.prop].trace.length


def test_symmetry_refuses_liveness_and_hangs_and_falls_back_with_a_note():
    spec = load_spec(ROOT / "specs" / "pep_my_gilstate_ensure.toml")
    system = spec.system("final")
    why = unsupported(system, [i for i, p in enumerate(system.properties)
                               if p.name in ("no_thread_hung", "finalization_completes")])
    assert all("liveness" in w for w in why.values()) and len(why) == 2
    results = check(system, ["no_thread_hung", "finalization_completes"], Options(symmetry="on"))
    assert outcome(results) == outcome(check(system, ["no_thread_hung", "finalization_completes"], OFF))
    assert all("not used" in r.reason for r in results)


def _symmetric_mutex():
    system = mutex(3)
    pc = system.var("pc")
    group = ThreadGroup((0, 1, 2), tuple((pc.base + t,) for t in range(3)))
    return dataclasses.replace(system, symmetry=Symmetry((group,), (None,) * system.width))


def test_a_property_naming_one_thread_of_a_group_is_refused():
    system = _symmetric_mutex()
    index = {p.name: i for i, p in enumerate(system.properties)}
    why = unsupported(system, [index["crit_reachable"], index["mutual_exclusion"], index["no_deadlock"]])
    assert "names one thread" in why[index["crit_reachable"]]
    assert index["mutual_exclusion"] not in why and index["no_deadlock"] not in why
    results = check(system, ["crit_reachable", "mutual_exclusion"], Options(symmetry="on", por="off"))
    assert all("symmetry not used" in r.reason for r in results)
    assert results[0].stats.states == check(system, ["mutual_exclusion"], OFF)[0].stats.states


def test_a_symmetric_tiny_model_explores_one_state_per_orbit():
    system = _symmetric_mutex()
    plain = check(system, ["mutual_exclusion", "lock_was_free", "no_deadlock"], OFF)
    reduced = check(system, ["mutual_exclusion", "lock_was_free", "no_deadlock"], Options(symmetry="on", por="off"))
    assert outcome(plain) == outcome(reduced)
    pc = system.var("pc")
    states = reachable(system, compile_system(system).successors, system.initial[0])
    orbits = {tuple(sorted(s[pc.base:pc.base + 3])) + s[pc.base + 3:] for s in states}   # pcs as a multiset
    assert reduced[0].stats.states == len(orbits) < plain[0].stats.states


# ----- every reduction, every committed spec --------------------------------------------------------

CONFIGS = {
    "symmetry": Options(symmetry="on", por="off"),
    "por": Options(symmetry="off", por="on"),
    "both": Options(symmetry="on", por="on"),
    "fingerprint": Options(symmetry="off", por="off", fingerprint=True),
    "defaults": Options(),
}


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_reductions_keep_every_verdict(path):
    """Same verdicts as the unreduced search; without POR the same trace lengths (BFS on the
    symmetry quotient is still shortest); with the defaults exactly the same traces where
    no symmetry applies (with it, equally short ones)."""
    spec = load_spec(path)
    for design in spec.designs:
        system = spec.system(design)
        props = spec.properties(design) or None
        plain = check(system, props, OFF)
        for name, options in CONFIGS.items():
            got = check(system, props, options)
            assert [(r.prop, r.verdict) for r in got] == [(r.prop, r.verdict) for r in plain], (name, design)
            for a, b in zip(got, plain):
                assert (a.trace is None) == (b.trace is None), (name, design, a.prop)
                if a.trace is not None:
                    assert replays(system, a.trace), (name, design, a.prop)
                    if options.por != "on":
                        assert a.trace.length == b.trace.length, (name, design, a.prop)
                    if name == "fingerprint" or (name == "defaults" and system.symmetry is None):
                        assert a.trace == b.trace, (name, design, a.prop)


@pytest.mark.parametrize("name", REFERENCE)
def test_reductions_shrink_the_reference_models_and_agree(name, tmp_path):
    spec = load_spec(with_count(name, 3, tmp_path))
    design = spec.designs[0]
    system = spec.system(design)
    props = spec.properties(design)
    plain = check(system, props, OFF)
    for options in CONFIGS.values():
        got = check(system, props, options)
        assert [(r.prop, r.verdict) for r in got] == [(r.prop, r.verdict) for r in plain]
    sym = check(system, props, CONFIGS["symmetry"])
    assert sym[0].stats.states < plain[0].stats.states


def test_partial_order_reduction_expands_fewer_states_on_the_guard_model(tmp_path):
    system = load_spec(with_count("guard_threads", 3, tmp_path)).system("final")
    props = ["no_use_after_free", "no_deadlock", "release_restores"]
    plain, reduced = check(system, props, OFF), check(system, props, CONFIGS["por"])
    assert outcome(plain) == outcome(reduced)
    assert reduced[0].stats.states < plain[0].stats.states


def test_partial_order_reduction_is_not_used_for_graph_properties():
    spec = load_spec(ROOT / "specs" / "s7_ensure_from_view_after_finalize.toml")
    system = spec.system("final")
    props = ["no_thread_hung", "no_use_after_free"]
    results = check(system, props, Options(por="on", symmetry="off"))
    assert results[0].stats.states == check(system, props, OFF)[0].stats.states
    assert all("needs the whole state graph" in r.reason for r in results)


# ----- stores ------------------------------------------------------------------------------------------

def test_fingerprints_report_bytes_per_state_and_the_collision_chance(tmp_path):
    system = load_spec(with_count("guard_threads", 3, tmp_path)).system("final")
    exact = check(system, ["no_deadlock"], OFF)[0]
    fp = check(system, ["no_deadlock"], CONFIGS["fingerprint"])[0]
    assert fp.stats.states == exact.stats.states
    assert fp.stats.bytes_per_state < exact.stats.bytes_per_state
    assert 0 < fp.stats.as_dict()["fingerprint_collision"] < 1e-9
    assert "collision" in fp.reason


def test_cli_takes_the_reduction_flags(tmp_path):
    from click.testing import CliRunner

    from interpcheck.checker.cli import main
    spec = with_count("guard_threads", 3, tmp_path)
    for flags in (["--symmetry", "--por"], ["--no-symmetry", "--no-por", "--fingerprint"]):
        r = CliRunner().invoke(main, ["check", "-q", str(spec), *flags])
        assert r.exit_code == 0, r.output
        assert "4 verdicts: 4 as expected" in r.output


@pytest.mark.slow   # runs the benchmark script end to end (and SPIN when installed)
def test_benchmark_quick_mode_runs():
    done = subprocess.run([sys.executable, str(BENCH / "vs_spin.py"), "--quick"], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| spec |" in done.stdout and "guard" in done.stdout


@pytest.mark.slow   # builds a C library per spec
def test_graph_benchmark_runs_and_finds_python_and_c_agree():
    done = subprocess.run([sys.executable, str(BENCH / "graph_in_c.py"), "--max-n", "2"], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and ".toml" in line]
    assert len(rows) == 3 and all(line.rstrip().endswith("| yes |") for line in rows), done.stdout
