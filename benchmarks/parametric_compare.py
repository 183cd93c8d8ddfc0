"""The parametric engine of two checkouts side by side, in one run.

    python benchmarks/parametric_compare.py BEFORE_ROOT [AFTER_ROOT] [--time-limit 240]

Each reference spec of benchmarks/parametric.py is checked by the engine of BEFORE_ROOT and
then of AFTER_ROOT (default: this checkout), each in its own process run by that checkout's
.venv/bin/python, one after the other, so both meet the same machine load. Prints a
markdown table (the engine as `check --engine parametric` runs it) with wall seconds and the CPU seconds the process used (user + system: on a
shared machine the CPU seconds say more than the wall seconds).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUN = """
import json, sys, time
from interpcheck.checker.engines import run
from interpcheck.checker.explicit import Limits
from interpcheck.checker.options import Options
from interpcheck.model.spec import load_spec
spec = load_spec(sys.argv[1]); design = sys.argv[2]
family = spec.family(design)
start = time.perf_counter()
results = run(spec.system(design), spec.properties(design),
              Options(engine="parametric", limits=Limits(time_limit=float(sys.argv[3]))), family=family)
print(json.dumps({"states": results[0].stats.states, "verdicts": " ".join(r.verdict.value[0] for r in results),
                  "seconds": time.perf_counter() - start,
                  "limit": any("limit reached" in (r.reason or "") for r in results)}))
"""


def measure(root: Path, spec: Path, design: str, time_limit: float) -> dict:
    before = os.times()
    start = time.perf_counter()
    out = subprocess.run([str(root / ".venv" / "bin" / "python"), "-c", RUN, str(spec), design, str(time_limit)],
                         capture_output=True, text=True, cwd=root, check=True).stdout
    wall = time.perf_counter() - start
    after = os.times()
    got = json.loads(out.strip().splitlines()[-1])
    got["wall"] = wall
    got["cpu"] = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return got


def main() -> int:
    from parametric import REFERENCE   # benchmarks/parametric.py
    ap = argparse.ArgumentParser()
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path, nargs="?", default=HERE.parent)
    ap.add_argument("--time-limit", type=float, default=240.0)
    args = ap.parse_args()
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("| spec | engine | abstract states | verdicts | wall s | CPU s |")
    print("|---|---|---|---|---|---|")
    for title, path, design in REFERENCE:
        for name, root in (("before", args.before), ("after", args.after)):
            got = measure(root.resolve(), path, design, args.time_limit)
            states = f"{got['states']:,}" + (" (limit)" if got["limit"] else "")
            print(f"| {title} | {name} | {states} | {got['verdicts']} | {got['wall']:.1f} | {got['cpu']:.1f} |",
                  flush=True)
    print(f"\nload average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
