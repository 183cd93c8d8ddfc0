"""What more than one benchmark script runs the same way: the parametric engine's run on a
reference spec, and a row's verdicts written as letters. The scripts import it as `common`
(Python puts the running script's folder, benchmarks/, first on the path)."""
from __future__ import annotations

import time

from interpcheck.checker.explicit import Limits
from interpcheck.checker.engines import run
from interpcheck.checker.options import Options


def verdicts(results) -> str:
    """h holds, v violated, u unknown: one letter per property, in the spec's order."""
    return " ".join(r.verdict.value[0] for r in results)


def run_parametric(spec, design: str, time_limit: float):
    """The parametric engine on `design` for every number of threads of the spec's family,
    as `check --engine parametric` calls it; returns the results and the wall seconds."""
    family = spec.family(design)
    start = time.perf_counter()
    results = run(spec.system(design), spec.properties(design),
                  Options(engine="parametric", limits=Limits(time_limit=time_limit)), family=family)
    return results, time.perf_counter() - start
