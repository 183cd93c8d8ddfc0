"""Every committed spec: Z3 BMC agrees with explicit BFS on safety verdicts, and finds the
same shortest counterexample length (SPIN's agreement is in tests/test_promela.py)."""
from pathlib import Path

import pytest

from interpcheck.checker.explicit import check
from interpcheck.checker.smt import check_bmc
from interpcheck.model.ir import ActionProperty, Invariant, NoDeadlock
from interpcheck.model.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.toml"))
SAFETY = (Invariant, ActionProperty, NoDeadlock)


@pytest.mark.slow   # a cross-check of two engines on every spec: .ci/run runs it (pytest -m slow)
@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_bmc_agrees_with_bfs(path):
    spec = load_spec(path)
    design = spec.designs[0]
    system = spec.system(design)
    props = [n for n in spec.properties(design) if isinstance(system.prop(n), SAFETY)]
    if not props:
        pytest.skip("no safety property expected in this spec")
    for bfs in check(system, props):
        if bfs.verdict.value == "violated":
            bmc, = check_bmc(system, [bfs.prop], depth=bfs.trace.length, time_limit=60)
            assert bmc.verdict.value == "violated", (bfs.prop, bmc.reason)
            assert bmc.trace.length == bfs.trace.length, bfs.prop
        else:
            # BMC must not find what BFS proved absent (up to a depth it can afford).
            bmc, = check_bmc(system, [bfs.prop], depth=min(bfs.stats.depth, 5), time_limit=5)
            assert bmc.verdict.value != "violated", (bfs.prop, bmc.trace)
