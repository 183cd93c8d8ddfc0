"""interpcheck's explicit engine against SPIN: time to verdict on the reference models.

    python benchmarks/vs_spin.py [--quick] [--max-n 10] [--limit 30] [--spin-limit 40]
    python benchmarks/vs_spin.py --raw [--raw-states 300000]

For each reference spec (final design: guard per thread; legacy: PyGILState per thread;
final with two interpreters) and N = 2..max-n client threads, one process runs, side by
side: the explicit engine with no reduction, with partial-order reduction, with symmetry,
and with both; then SPIN on the exported Promela (spin -a, gcc -O2, pan with SPIN's own
partial-order reduction: its default, best configuration; build time included, as a
user waits for it). Each cell is wall seconds to all verdicts, with the distinct states
explored. A configuration is not run for larger N once it hit its time limit, or once the
growth from N-1 to N predicts it would (marked "> limit (est.)"). The last columns give
SPIN's time over interpcheck's best and whether every verdict agrees.
Then the unreduced engine's states per second on each spec for N = 6..10, in Python and
in C (issue 7's throughput target: 200k states/s on one core), alone with `--raw`.
`--quick` (N = 2..3, short limits) is the smoke test the test suite runs.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from interpcheck.checker.explicit import Limits, Options, check, explore, native
from interpcheck.checker.export.spin import check_spin, spin_available
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.model.spec import load_spec

HERE = Path(__file__).resolve().parent
REFERENCE = [("final: guard per thread", "guard_threads.toml"),
             ("legacy: PyGILState per thread", "legacy_threads.toml"),
             ("final: two interpreters", "two_interpreters.toml")]
CONFIGS = [("none", "off", "off"), ("POR", "off", "on"), ("symmetry", "on", "off"), ("both", "on", "on")]


def with_count(path: Path, n: int, tmp: Path) -> Path:
    text = re.sub(r"^count = \d+", f"count = {n}", path.read_text(), flags=re.M)
    out = tmp / f"{path.stem}_{n}.toml"
    out.write_text(text)
    return out


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    spin = "not installed"
    if spin_available():
        out = subprocess.run(["spin", "-V"], capture_output=True, text=True).stdout.strip()
        spin = out or "installed"
    return (f"{os.cpu_count()} CPUs ({cpu}), {platform.python_implementation()} {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}; {spin}")


def timed(fn):
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run_explicit(system, props, sym: str, por: str, limit: float):
    results, seconds = timed(lambda: check(system, props, Options(limits=Limits(time_limit=limit),
                                                                  symmetry=sym, por=por)))
    done = all(r.verdict.value != "unknown" for r in results)
    return results, seconds, done


def raw_throughput(tmp: Path, name: str, n: int, cap: int, repeat: int = 2) -> str:
    """States per second of the unreduced search (no symmetry, no POR, exact store, one
    process: what `check --no-symmetry --no-por` runs), in Python and in C, on the first
    `cap` states of a reference spec with n client threads. Exploration only (compiled once
    before; the C library's build time is its own column), timed in CPU seconds of this
    process, best of `repeat` runs: on a shared machine wall time counts the other jobs too."""
    spec = load_spec(with_count(HERE / name, n, tmp))
    design = spec.designs[0]
    system = spec.system(design)
    wanted = {i for i, p in enumerate(system.properties) if p.name in spec.properties(design)}
    compiled = compile_system(system, packed=True)
    build_seconds = None
    if native.unavailable(compiled) is None:
        build = native.build_for(system, compiled)
        build.path.unlink(missing_ok=True)   # time a real build, not a cached one
        _, build_seconds = timed(build.library)
    cells = []
    for backend in ("python", "c"):
        if backend == "c" and build_seconds is None:
            cells.append("no C compiler | |")
            continue
        best = None
        for _ in range(repeat):
            gc.collect()
            cpu = time.process_time()
            ex = explore(system, compiled, wanted, limits=Limits(max_states=cap), backend=backend)
            cpu = time.process_time() - cpu
            if best is None or cpu < best[0]:
                best = (cpu, ex.stats)
            del ex
        cpu, st = best
        cells.append(f"{cpu:.2f} | {st.states / cpu:,.0f} | {st.bytes_per_state:.0f}")
    build_cell = f"{build_seconds:.1f}" if build_seconds is not None else "-"
    return f"| {name} | {n} | {system.width} | {st.states} | {st.transitions} | " + " | ".join(cells) + \
        f" | {build_cell} |"


def raw_table(tmp: Path, ns: range, cap: int) -> None:
    print(f"Unreduced explicit engine, one core: the first {cap:,} states of each spec (all of them when "
          "fewer), exploration only, best of 2 runs; rates per CPU second. Python: the generated Python "
          "search; C: the generated C search (`--backend c`; `auto` hands a search over to it once it "
          "passes 20,000 states), its library's build (gcc -O1) timed apart.\n")
    print("| spec | N | slots | states | transitions | Python CPU s | Python states/s | Python bytes/state "
          "| C CPU s | C states/s | C bytes/state | C build s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for _, name in REFERENCE:
        for n in ns:
            print(raw_throughput(tmp, name, n, cap), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="N = 2..3, short limits (smoke test)")
    ap.add_argument("--max-n", type=int, default=10)
    ap.add_argument("--limit", type=float, default=20.0, help="seconds per interpcheck run")
    ap.add_argument("--spin-limit", type=float, default=30.0, help="seconds per SPIN step (spin, gcc, pan)")
    ap.add_argument("--raw", action="store_true", help="only the unreduced engine's states/s, N = 6..10")
    ap.add_argument("--raw-states", type=int, default=300_000, help="states explored per raw throughput run")
    args = ap.parse_args()
    if args.raw:
        print(f"Machine: {machine()}\n")
        with tempfile.TemporaryDirectory() as tmp:
            raw_table(Path(tmp), range(6, 11), args.raw_states)
        return 0
    max_n = 3 if args.quick else args.max_n
    limit = 10.0 if args.quick else args.limit
    spin_limit = 60.0 if args.quick else args.spin_limit
    use_spin = spin_available()
    print(f"Machine: {machine()}\n")
    print("Wall seconds to every verdict (distinct states explored). Reductions: none (defaults otherwise: "
          "the search moves to C once it passes 20,000 states, build included); POR = partial-order "
          "reduction; symmetry; both. SPIN: spin -a + gcc -O2 + pan (its own POR on), build included. "
          f"Limits: {limit:g} s per interpcheck run, {spin_limit:g} s per SPIN step; '> L (est.)' = not run: "
          "the growth from N-1 to N predicts more than the limit; '-' = not run after that.\n")
    head = ["spec", "N"] + [f"interpcheck {c[0]}" for c in CONFIGS] + ["SPIN (build + pan)", "SPIN / best", "agree"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for title, name in REFERENCE:
            stopped: set[str] = set()
            last: dict[str, list[float]] = {}

            def predict(label: str, seconds: float, cap: float) -> None:
                """Stop a configuration whose next N would pass its limit at the growth seen so far."""
                times = last.setdefault(label, [])
                times.append(seconds)
                if len(times) >= 2 and times[-2] > 0.05:
                    growth = max(times[-1] / times[-2], 1.5)
                    if times[-1] * growth > cap:
                        stopped.add(label)
                        estimated.add(label)

            estimated: set[str] = set()
            for n in range(2, max_n + 1):
                spec = load_spec(with_count(HERE / name, n, tmp_path))
                design = spec.designs[0]
                system = spec.system(design)
                props = spec.properties(design)
                cells, best, verdicts = [], None, set()
                for label, sym, por in CONFIGS:
                    if label in stopped:
                        cells.append(f"> {limit:g} (est.)" if label in estimated else "-")
                        estimated.discard(label)
                        continue
                    results, seconds, done = run_explicit(system, props, sym, por, limit)
                    if not done:
                        stopped.add(label)
                        cells.append(f"> {limit:g} (limit)")
                        continue
                    verdicts.add(tuple(r.verdict.value for r in results))
                    cells.append(f"{seconds:.2f} ({results[0].stats.states})")
                    best = seconds if best is None else min(best, seconds)
                    predict(label, seconds, limit)
                spin_cell, ratio = "not installed", ""
                if use_spin and "spin" not in stopped and not (args.quick and n > 2):
                    results, seconds = timed(lambda: check_spin(system, props, timeout=spin_limit))
                    st = results[0].stats
                    if any(r.verdict.value == "unknown" for r in results):
                        stopped.add("spin")
                        spin_cell = f"> {spin_limit:g} (limit)" if "time" in results[0].reason or \
                            "longer" in results[0].reason else f"no verdict ({results[0].reason[:60]})"
                        ratio = f"> {spin_limit / best:.0f}x" if best else ""
                    else:
                        verdicts.add(tuple(r.verdict.value for r in results))
                        build = st.translate_seconds + st.compile_seconds
                        spin_cell = f"{seconds:.2f} ({build:.1f} + {st.pan_seconds:.2f}) ({st.states})"
                        ratio = f"{seconds / best:.1f}x" if best else ""
                        predict("spin", st.seconds, spin_limit)
                elif use_spin:
                    if "spin" in estimated:
                        spin_cell = f"> {spin_limit:g} (est.)"
                        ratio = f"> {spin_limit / best:.0f}x" if best else ""
                        estimated.discard("spin")
                    else:
                        spin_cell = "-" if "spin" in stopped else "(quick: N = 2 only)"
                agree = "yes" if len(verdicts) <= 1 else "NO"
                print(f"| {title} | {n} | " + " | ".join(cells) + f" | {spin_cell} | {ratio} | {agree} |", flush=True)
        print()
        if not args.quick:
            raw_table(tmp_path, range(6, 11), args.raw_states)
    return 0


if __name__ == "__main__":
    sys.exit(main())
