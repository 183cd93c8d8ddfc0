"""A proof for every N against the explicit engine at fixed N, side by side.

    python benchmarks/parametric.py [--max-n 10] [--time-limit 300]

For each reference spec: the parametric engine's time and abstract states to a verdict for
every number of client threads, then the explicit engine (default reductions: symmetry) at
N = 2..max-n. Prints a markdown table; wall seconds on this machine, measured in one run.
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from common import run_parametric, verdicts
from interpcheck.checker.explicit import Limits, Options, check
from interpcheck.model.spec import load_spec

HERE = Path(__file__).resolve().parent
REFERENCE = [("final: guard per thread", HERE / "guard_threads.toml", "final"),
             ("final: two interpreters", HERE / "two_interpreters.toml", "final"),
             ("legacy: PyGILState per thread", HERE / "legacy_threads.toml", "legacy")]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-n", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=300.0)
    args = ap.parse_args()
    print(f"# Parametric vs explicit ({platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()})\n")
    print("| spec | N | engine | states | seconds | verdicts (h holds, v violated, u unknown) |")
    print("|---|---|---|---|---|---|")
    for title, path, design in REFERENCE:
        spec = load_spec(path)
        names = spec.properties(design)
        family = spec.family(design)
        results, took = run_parametric(spec, design, args.time_limit)
        print(f"| {title} | any | parametric | {results[0].stats.states:,} abstract | {took:.1f} | "
              f"{verdicts(results)} |", flush=True)
        for n in range(2, args.max_n + 1):
            start = time.perf_counter()
            explicit = check(family.build(n), names, Options(limits=Limits(time_limit=args.time_limit)))
            took = time.perf_counter() - start
            print(f"| {title} | {n} | explicit | {explicit[0].stats.states:,} | {took:.2f} | "
                  f"{verdicts(explicit)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
