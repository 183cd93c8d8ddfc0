"""Every bundled spec gives its expected verdicts, and the shortest traces keep their length.

tests/golden/scenarios.txt pins (spec, design, property, verdict, trace length); run with
INTERPCHECK_UPDATE_GOLDEN=1 to rewrite it after a deliberate model change.
"""
import fcntl
import os
from pathlib import Path

import pytest

from interpcheck.checker.engines import run
from interpcheck.checker.options import Options
from interpcheck.model.ir import interpret_successors
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.model.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.toml"))
GOLDEN = Path(__file__).parent / "golden" / "scenarios.txt"


def _rows(path: Path) -> list[str]:
    spec = load_spec(path)
    rows = []
    for design in spec.designs:
        system = spec.system(design)
        for r in run(system, spec.properties(design), Options()):
            expected = spec.expect[design][r.prop]
            assert r.verdict.value == expected, f"{path.name} [{design}] {r.prop}: {r.verdict.value}"
            length = r.trace.length if r.trace is not None and r.verdict.value == "violated" else "-"
            rows.append(f"{path.stem} {design} {r.prop} {r.verdict.value} {length}")
    return rows


@pytest.fixture(scope="module")
def golden() -> set[str]:
    return set(GOLDEN.read_text().split("\n")) if GOLDEN.exists() else set()


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_spec_verdicts_and_trace_lengths(path, golden):
    rows = _rows(path)
    if os.environ.get("INTERPCHECK_UPDATE_GOLDEN"):
        with open(GOLDEN.with_suffix(".lock"), "w") as lock:   # xdist workers update the one file in turn
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = set(GOLDEN.read_text().split("\n")) if GOLDEN.exists() else set()
            keep = {r for r in current if r and not r.startswith(path.stem + " ")}
            GOLDEN.write_text("\n".join(sorted(keep | set(rows))) + "\n")
        return
    pinned = sorted(r for r in golden if r.startswith(path.stem + " "))
    assert sorted(rows) == pinned


def test_every_spec_is_pinned(golden):
    if os.environ.get("INTERPCHECK_UPDATE_GOLDEN"):
        return
    pinned = {r.split()[0] for r in golden if r}
    assert pinned == {p.stem for p in SPECS}


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
