"""Hangs and liveness: the whole state graph searched in Python and in C, side by side.

    python benchmarks/graph_in_c.py [--max-n 6] [--repeat 1]

For each reference spec and N, `check` with every property of the spec's design (the hang
and leads-to properties need the whole graph, so no reduction is used), once with
`--backend python` and once with `--backend c` (the library built before the timing), each
in a fresh process of its own, alternating. Prints wall seconds, the states and edges, the
peak memory of each process, and whether every verdict and trace agrees (issue 18).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPECS = [("guard_threads.toml", "final"), ("legacy_threads.toml", "legacy"), ("two_interpreters.toml", "final")]

ONE = """
import json, resource, sys, time
from interpcheck.checker.explicit import Options, check, native
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.model.spec import load_spec
system = load_spec(sys.argv[1]).system(sys.argv[2])
names = [p.name for p in system.properties]
if sys.argv[3] == "c":
    native.build_for(system, compile_system(system, packed=True)).library()   # built or cached before the timing
start = time.perf_counter()
results = check(system, names, Options(backend=sys.argv[3]))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "states": results[0].stats.states,
                  "transitions": results[0].stats.transitions,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "verdicts": [(r.prop, r.verdict.value, repr(r.trace)) for r in results]}))
"""


def with_count(name: str, n: int, tmp: Path) -> Path:
    out = tmp / f"{Path(name).stem}_{n}.toml"
    out.write_text(re.sub(r"^count = \d+", f"count = {n}", (HERE / name).read_text(), flags=re.M))
    return out


def measure(spec: Path, design: str, backend: str) -> dict:
    done = subprocess.run([sys.executable, "-c", ONE, str(spec), design, backend], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-n", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell; the fastest is shown")
    args = ap.parse_args()
    print("| spec | N | states | transitions | Python s | C s | Python / C | peak MB Python / C | same verdicts and traces |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, design in SPECS:
            for n in range(2, args.max_n + 1):
                spec = with_count(name, n, Path(tmp))
                runs = {"python": [], "c": []}
                for _ in range(args.repeat):
                    for backend in runs:
                        runs[backend].append(measure(spec, design, backend))
                py, c = (min(runs[b], key=lambda r: r["seconds"]) for b in ("python", "c"))
                same = all(r["verdicts"] == py["verdicts"] for b in runs for r in runs[b])
                print(f"| {name} | {n} | {py['states']:,} | {py['transitions']:,} | {py['seconds']:.2f} | "
                      f"{c['seconds']:.2f} | {py['seconds'] / c['seconds']:.1f}x | "
                      f"{py['peak_mib']:.0f} / {c['peak_mib']:.0f} | {'yes' if same else 'NO'} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
