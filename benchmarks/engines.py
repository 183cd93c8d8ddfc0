"""Time to verdict of the three engines side by side, for N = 2..6 client threads.

    python benchmarks/engines.py [--max-n 6] [--bmc-limit 60] [--quick]

For each reference spec and N, the same IR is checked by the explicit engine (BFS), Z3 BMC
(depth: the explicit engine's depth + 1, so BMC can prove completeness) and SPIN (the
exported Promela, translation and gcc included). Prints a markdown table; times are wall
seconds on this machine, measured in one run so the ratios compare like with like.
"""
from __future__ import annotations

import argparse
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

from interpcheck.checker.explicit import check
from interpcheck.checker.export.spin import check_spin, spin_available
from interpcheck.checker.smt import check_bmc
from interpcheck.model.spec import load_spec

HERE = Path(__file__).resolve().parent
REFERENCE = [("final: guard per thread", HERE / "guard_threads.toml", "final"),
             ("legacy: PyGILState per thread", HERE / "legacy_threads.toml", "legacy")]


def with_count(path: Path, n: int, tmp: Path) -> Path:
    text = re.sub(r"^count = \d+", f"count = {n}", path.read_text(), flags=re.M)
    out = tmp / f"{path.stem}_{n}.toml"
    out.write_text(text)
    return out


def verdicts(results) -> str:
    return " ".join(r.verdict.value[0] for r in results)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-n", type=int, default=6)
    ap.add_argument("--bmc-limit", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true", help="N = 2..3 only, short limits (smoke test)")
    args = ap.parse_args()
    max_n = 3 if args.quick else args.max_n
    limit = 10.0 if args.quick else args.bmc_limit
    print(f"# Engines side by side ({platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()})\n")
    print("| spec | N | states | explicit s | BMC s | SPIN s (build + search) | verdicts agree |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for title, path, design in REFERENCE:
            for n in range(2, max_n + 1):
                spec = load_spec(with_count(path, n, Path(tmp)))
                system = spec.system(design)
                props = spec.properties(design)
                ex, t_ex = timed(lambda: check(system, props))
                depth = max(r.stats.depth for r in ex) + 1
                bmc, t_bmc = timed(lambda: check_bmc(system, props, depth=depth, time_limit=limit))
                bmc_known = [r for r in bmc if r.verdict.value != "unknown"]
                bmc_cell = f"{t_bmc:.2f}" if len(bmc_known) == len(bmc) else f"> {limit:g} (limit)"
                spin_cell, agree = "not installed", all(a.verdict == b.verdict for a, b in zip(ex, bmc_known))
                if spin_available():
                    sp, t_sp = timed(lambda: check_spin(system, props))
                    spin_cell = f"{t_sp:.2f}"
                    agree = agree and verdicts(sp) == verdicts(ex)
                print(f"| {title} | {n} | {ex[0].stats.states} | {t_ex:.2f} | {bmc_cell} | {spin_cell} | "
                      f"{'yes' if agree else 'NO'} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
