"""One whole unreduced C search of a reference spec: its CPU time, states per CPU second,
the C store's bytes per state and the process's peak RSS (issue 18), per C store.

    python benchmarks/c_store.py guard_threads.toml 7 [--repeat 2] [--stores tree,bits]

Each measurement runs in a fresh process (peak RSS is per process), the stores taking
turns (tree, bits, tree, bits, ...) so they share the machine's minutes; the best of
`--repeat` by CPU seconds is printed, one table row per store. The library is built (or
found cached) before the timing; the search is what `check --no-symmetry --no-por
--backend c` runs, with every property of the spec's first design. To compare two
checkouts side by side, run this file under each (PYTHONPATH=<other tree's parent>, the
tree exported as `interpcheck/`), alternating, on the same machine in the same minutes.
"""
from __future__ import annotations

import argparse
import gc
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(path: str) -> str:
    from interpcheck.checker.explicit import explore, native
    from interpcheck.checker.explicit.semantics import compile_system
    from interpcheck.model.spec import load_spec
    spec = load_spec(path)
    design = spec.designs[0]
    system = spec.system(design)
    wanted = {i for i, p in enumerate(system.properties) if p.name in spec.properties(design)}
    compiled = compile_system(system, packed=True)
    native.build_for(system, compiled).library()
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu = time.process_time()
    ex = explore(system, compiled, wanted, backend="c")
    cpu = time.process_time() - cpu
    st = ex.stats
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert isinstance(ex.states, native.StateArray) and ex.limit is None, ex.limit
    return (f"{st.states} {st.transitions} {cpu:.2f} {st.states / cpu:.0f} {st.bytes_per_state:.1f} "
            f"{peak / 1024:.0f} {(peak - before) * 1024 / st.states:.0f} {sorted(ex.found)}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("n", type=int)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--stores", default="tree,bits", help="the C stores to measure (INTERPCHECK_C_STORE values)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(one(args.spec))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        text = re.sub(r"^count = \d+", f"count = {args.n}", (HERE / args.spec).read_text(), flags=re.M)
        path = Path(tmp) / f"{Path(args.spec).stem}_{args.n}.toml"
        path.write_text(text)
        stores = args.stores.split(",")
        runs: dict[str, list] = {store: [] for store in stores}
        for _ in range(args.repeat):
            for store in stores:
                env = dict(os.environ, INTERPCHECK_C_STORE=store)
                out = subprocess.run([sys.executable, __file__, str(path), str(args.n), "--one"], env=env,
                                     capture_output=True, text=True, check=True).stdout.split(maxsplit=7)
                runs[store].append(out)
        for store in stores:
            best = min(runs[store], key=lambda r: float(r[2]))
            states, transitions, cpu, rate, per_state, peak, rss_per_state, found = best
            print(f"| {args.spec} | {args.n} | {int(states):,} | {int(transitions):,} | {store} | {cpu} | "
                  f"{int(rate):,} | {per_state} | {peak} | {rss_per_state} | {found.strip()} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
