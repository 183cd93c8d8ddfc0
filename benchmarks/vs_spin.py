"""interpcheck's explicit engine against SPIN: time to verdict on the reference models.

    python benchmarks/vs_spin.py [--quick] [--max-n 10] [--limit 30] [--spin-limit 40]
    python benchmarks/vs_spin.py --raw [--raw-states 300000]

For each reference spec (final design: guard per thread; legacy: PyGILState per thread;
final with two interpreters) and N = 2..max-n client threads, one run measures, side by
side: the explicit engine with no reduction, with partial-order reduction, with symmetry,
and with both; then SPIN on the exported Promela (spin -a, gcc -O2, pan with SPIN's own
partial-order reduction: its default, best configuration; build time included, as a
user waits for it). Each cell is wall seconds to all verdicts, with the distinct states
explored. A configuration is not run for larger N once it hit its time limit, or once the
growth from N-1 to N predicts it would (marked "> limit (est.)"). Then come SPIN's time
over interpcheck's best and whether every verdict agrees.
The parametric column is the parametric engine's one run per spec (shown on its N = 2
row), which decides the properties for every N at once, with the same time limit: wall
seconds, abstract states, verdicts (h holds, v violated, u unknown) and peak MB.
The memory column is each configuration's peak resident memory in MiB, in the order
none / POR / symmetry / both / pan. Each interpcheck configuration (and the parametric
run) runs in a fresh Python process of its own (`--one`), which reports its ru_maxrss at
the end: Python, the loaded model and the search, and nothing of the runs before it. For
SPIN it is the pan search process's own peak, read with os.wait4 when it is reaped
(spin and gcc not counted; SpinStats.pan_peak_mib). pan's floor, about 135 MB, is the
128 MB hash table it allocates up front (-w24, its default), as its own report says.
Then the unreduced engine's states per second on each spec for N = 6..10, in Python and
in C (issue 7's throughput target: 200k states/s on one core), alone with `--raw`.
`--quick` (N = 2..3, short limits) is the smoke test the test suite runs.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import run_parametric
from interpcheck.checker.explicit import Limits, Options, check, explore, native
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.checker.export.spin import check_spin, spin_available
from interpcheck.checker.memory import peak_mib
from interpcheck.model.spec import load_spec

HERE = Path(__file__).resolve().parent
REFERENCE = [("final: guard per thread", "guard_threads.toml"),
             ("legacy: PyGILState per thread", "legacy_threads.toml"),
             ("final: two interpreters", "two_interpreters.toml")]
CONFIGS = [("none", "off", "off"), ("POR", "off", "on"), ("symmetry", "on", "off"), ("both", "on", "on")]
HEADER = ("Wall seconds to every verdict (distinct states explored). Reductions: none (defaults otherwise: "
          "the search moves to C once it passes 20,000 states, build included); POR = partial-order "
          "reduction; symmetry; both. SPIN: spin -a + gcc -O2 + pan (its own POR on), build included. "
          "Limits: {limit:g} s per interpcheck run, {spin_limit:g} s per SPIN step; '> L (est.)' = not run: "
          "the growth from N-1 to N predicts more than the limit; '-' = not run after that. "
          "Parametric: one run per spec, for every N at once (seconds, abstract states, verdicts h holds / "
          "v violated / u unknown, peak MB), same limit. Peak MB: the peak resident memory of each "
          "interpcheck configuration's own fresh process (Python and the model included; 'M+' = at its "
          "limit) and of SPIN's pan search process (wait4), MiB.\n")


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


def one(job: dict) -> dict:
    """Runs one configuration in this process, started fresh for it (`--one`), so its peak
    resident memory (Python, the model and the search) is its own, no earlier run's."""
    spec = load_spec(job["spec"])
    design = spec.designs[0]
    if job["engine"] == "parametric":
        results, seconds = run_parametric(spec, design, job["limit"])
    else:
        system = spec.system(design)
        opts = Options(limits=Limits(time_limit=job["limit"]), symmetry=job["symmetry"], por=job["por"])
        results, seconds = timed(lambda: check(system, spec.properties(design), opts))
    return {"verdicts": [r.verdict.value for r in results], "states": results[0].stats.states,
            "seconds": seconds, "limited": any(r.limit for r in results),
            "mib": peak_mib(resource.getrusage(resource.RUSAGE_SELF))}


def measured(job: dict) -> dict | None:
    """`one(job)` in a child process; None if it outlived its limit by far (the engines
    stop themselves at it, so that would be a bug to look at, not a row to lose)."""
    try:
        done = subprocess.run([sys.executable, __file__, "--one", json.dumps(job)], capture_output=True,
                              text=True, timeout=2 * job["limit"] + 60)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise RuntimeError(f"{job}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


class Budget:
    """Which configurations of one spec still run: one stops once it hit its limit, or once
    the growth from N-1 to N predicts it would (its next cell then says "(est.)")."""

    def __init__(self) -> None:
        self.stopped: set[str] = set()
        self.estimated: set[str] = set()
        self.times: dict[str, list[float]] = {}

    def record(self, label: str, seconds: float, cap: float) -> None:
        times = self.times.setdefault(label, [])
        times.append(seconds)
        if len(times) >= 2 and times[-2] > 0.05:   # shorter runs are mostly start-up: no growth to read
            growth = max(times[-1] / times[-2], 1.5)
            if times[-1] * growth > cap:
                self.stopped.add(label)
                self.estimated.add(label)

    def skipped(self, label: str, cap: float) -> str | None:
        """The cell of a configuration not run any more; None while it still runs."""
        if label not in self.stopped:
            return None
        if label in self.estimated:
            self.estimated.discard(label)
            return f"> {cap:g} (est.)"
        return "-"


def explicit_cells(path: Path, limit: float, budget: Budget, verdicts: set) -> tuple[list, list, float | None]:
    """Each explicit configuration on one spec at one N: its cells, its peak MiB, the best time."""
    cells, mibs, best = [], [], None
    for label, sym, por in CONFIGS:
        skipped = budget.skipped(label, limit)
        if skipped is not None:
            cells.append(skipped)
            mibs.append("-")
            continue
        got = measured({"spec": str(path), "engine": "explicit", "symmetry": sym, "por": por, "limit": limit})
        if got is None or "unknown" in got["verdicts"]:
            budget.stopped.add(label)
            cells.append(f"> {limit:g} (limit)")
            mibs.append(f"{got['mib']:.0f}+" if got else "?")
            continue
        verdicts.add(tuple(got["verdicts"]))
        cells.append(f"{got['seconds']:.2f} ({got['states']})")
        mibs.append(f"{got['mib']:.0f}")
        best = got["seconds"] if best is None else min(best, got["seconds"])
        budget.record(label, got["seconds"], limit)
    return cells, mibs, best


def spin_cells(system, props, spin_limit: float, best: float | None, budget: Budget,
               verdicts: set) -> tuple[str, str, str]:
    """SPIN on one spec at one N: its cell, its ratio to interpcheck's best, pan's peak MiB."""
    skipped = budget.skipped("spin", spin_limit)
    if skipped is not None:
        ratio = f"> {spin_limit / best:.0f}x" if best and "est." in skipped else ""
        return skipped, ratio, "-"
    results, seconds = timed(lambda: check_spin(system, props, timeout=spin_limit))
    st = results[0].stats
    if any(r.verdict.value == "unknown" for r in results):
        budget.stopped.add("spin")
        reason = results[0].reason
        cell = f"> {spin_limit:g} (limit)" if "time" in reason or "longer" in reason \
            else f"no verdict ({reason[:60]})"
        return cell, f"> {spin_limit / best:.0f}x" if best else "", "-"
    verdicts.add(tuple(r.verdict.value for r in results))
    budget.record("spin", st.seconds, spin_limit)
    build = st.translate_seconds + st.compile_seconds
    return (f"{seconds:.2f} ({build:.1f} + {st.pan_seconds:.2f}) ({st.states})",
            f"{seconds / best:.1f}x" if best else "", f"{st.pan_peak_mib:.0f}")


def parametric_cell(path: Path, limit: float) -> str:
    """The parametric engine's one run for every N: seconds, abstract states, verdicts, MiB."""
    got = measured({"spec": str(path), "engine": "parametric", "limit": limit})
    if got is None:
        return f"> {limit:g} (limit)"
    seconds = f"> {limit:g} (limit)" if got["limited"] else f"{got['seconds']:.2f}"
    letters = " ".join(v[0] for v in got["verdicts"])
    return f"{seconds} ({got['states']} abstract) {letters}; {got['mib']:.0f} MB"


def spec_rows(title: str, name: str, tmp: Path, args, max_n: int, limit: float, spin_limit: float) -> None:
    """The table's rows of one reference spec, N = 2..max_n, printed as they are measured."""
    budget = Budget()
    any_n = parametric_cell(HERE / name, limit)
    for n in range(2, max_n + 1):
        path = with_count(HERE / name, n, tmp)
        spec = load_spec(path)
        design = spec.designs[0]
        verdicts: set = set()
        cells, mibs, best = explicit_cells(path, limit, budget, verdicts)
        if not spin_available():
            spin_cell, ratio, pan_mib = "not installed", "", "-"
        elif args.quick and n > 2:
            spin_cell, ratio, pan_mib = "(quick: N = 2 only)", "", "-"
        else:
            spin_cell, ratio, pan_mib = spin_cells(spec.system(design), spec.properties(design), spin_limit,
                                                   best, budget, verdicts)
        agree = "yes" if len(verdicts) <= 1 else "NO"
        print(f"| {title} | {n} | " + " | ".join(cells) + f" | {spin_cell} | {ratio} | {agree} | "
              f"{any_n if n == 2 else ''} | {' / '.join(mibs + [pan_mib])} |", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="N = 2..3, short limits (smoke test)")
    ap.add_argument("--max-n", type=int, default=10)
    ap.add_argument("--limit", type=float, default=20.0, help="seconds per interpcheck run")
    ap.add_argument("--spin-limit", type=float, default=30.0, help="seconds per SPIN step (spin, gcc, pan)")
    ap.add_argument("--raw", action="store_true", help="only the unreduced engine's states/s, N = 6..10")
    ap.add_argument("--raw-states", type=int, default=300_000, help="states explored per raw throughput run")
    ap.add_argument("--one", help=argparse.SUPPRESS)   # a child's job: one configuration, as JSON
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return 0
    print(f"Machine: {machine()}\n")
    if args.raw:
        with tempfile.TemporaryDirectory() as tmp:
            raw_table(Path(tmp), range(6, 11), args.raw_states)
        return 0
    max_n = 3 if args.quick else args.max_n
    limit = 10.0 if args.quick else args.limit
    spin_limit = 60.0 if args.quick else args.spin_limit
    print(HEADER.format(limit=limit, spin_limit=spin_limit))
    head = ["spec", "N"] + [f"interpcheck {c[0]}" for c in CONFIGS] + \
        ["SPIN (build + pan)", "SPIN / best", "agree", "parametric (any N)", "peak MB: none / POR / sym / both / pan"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        for title, name in REFERENCE:
            spec_rows(title, name, Path(tmp), args, max_n, limit, spin_limit)
        print()
        if not args.quick:
            raw_table(Path(tmp), range(6, 11), args.raw_states)
    return 0


if __name__ == "__main__":
    sys.exit(main())
