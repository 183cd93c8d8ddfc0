"""Every bundled spec gives its expected verdicts, and the shortest traces keep their length.

The (spec, design, property) → (verdict, trace length) facts are pinned once, in the gate's
baseline counterexamples/verdicts.json; after a deliberate model change, rewrite it with
`interpcheck matrix --write-counterexamples counterexamples/` and explain the moves.
"""
import json
from pathlib import Path

import pytest

from interpcheck.checker.engines import run
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.checker.options import Options
from interpcheck.model.ir import interpret_successors
from interpcheck.model.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.toml"))
BASELINE = ROOT / "counterexamples" / "verdicts.json"
REGENERATE = "interpcheck matrix --write-counterexamples counterexamples/"


@pytest.fixture(scope="module")
def baseline() -> dict:
    return json.loads(BASELINE.read_text())


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_spec_verdicts_and_trace_lengths(path, baseline):
    spec = load_spec(path)
    for design in spec.designs:
        for r in run(spec.system(design), spec.properties(design), Options()):
            expected = spec.expect[design][r.prop]
            assert r.verdict.value == expected, f"{path.name} [{design}] {r.prop}: {r.verdict.value}"
            length = r.trace.length if r.trace is not None and r.verdict.value == "violated" else None
            pinned = baseline.get(spec.name, {}).get(design, {}).get(r.prop)
            assert pinned is not None, f"{spec.name} [{design}] {r.prop} is not in the baseline: run `{REGENERATE}`"
            assert (r.verdict.value, length) == (pinned["verdict"], pinned["trace_length"]), \
                f"{spec.name} [{design}] {r.prop}: {r.verdict.value}/{length}, baseline {pinned}: run `{REGENERATE}`"


def test_every_spec_is_pinned(baseline):
    assert set(baseline) == {load_spec(p).name for p in SPECS}


def test_known_bugs_found_on_the_design_that_has_them_and_absent_on_the_fix():
    s14 = load_spec(ROOT / "specs" / "s14_same_interpreter_ensure.toml")
    draft = {r.prop: r.verdict.value for r in run(s14.system("final_draft"), ["release_restores"], Options())}
    final = {r.prop: r.verdict.value for r in run(s14.system("final"), ["release_restores"], Options())}
    assert draft["release_restores"] == "violated" and final["release_restores"] == "holds"


@pytest.mark.parametrize("name", ["s1_isfinalizing_toctou", "s13_non_lifo_release", "s3_guard_protects_lock"])
def test_model_compiles_to_the_reference_semantics(name):
    spec = load_spec(ROOT / "specs" / f"{name}.toml")
    system = spec.system(spec.designs[0])
    fast = compile_system(system).successors
    seen, todo = {system.initial[0]}, [system.initial[0]]
    while todo:
        s = todo.pop()
        assert sorted(fast(s)) == sorted(interpret_successors(system, s))
        for _, n in fast(s):
            if n not in seen:
                seen.add(n)
                todo.append(n)
