"""SPIN as a second engine: export the IR to Promela, run spin, gcc and pan, read back Results.

One build and one search answer every asked property: the model is translated with all
their CHECK_ macros, and pan runs with -c0 so it keeps going after an error and prints
each one (an assertion naming its property). A violated property's trail comes from
rerunning the same pan with -cN, N being the number of its first error: the search is
deterministic, so it stops exactly there. The trail is replayed with `spin -t` and the
action numbers its branches print are re-run on the IR, so a counterexample is an
ordinary interpcheck Trace, checked step by step against the IR.
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from interpcheck.model.ir import Property, Sometimes, System
from ..explicit.semantics import compile_system
from ..memory import run_peak

from ..result import Result, Stats, Trace, Verdict, not_decided
from .promela import INIT_MARK, STEP_MARK, PromelaModel, translate

ENGINE = "spin"
MAX_DEPTH_CAP = 10_000_000   # pan's -m is retried ×10 from `max_depth` up to this
_TYPE_BYTES = {"bit": 1, "byte": 1, "short": 2, "int": 4}
_ERROR = re.compile(r"^pan:(\d+): (.*) \(at depth \d+\)$")


@dataclass
class SpinStats(Stats):
    """Stats plus SPIN's own numbers; `seconds` is the pan search, the build is timed apart.

    `states` is the IR's count (pan's minus PromelaModel.extra_states). `transitions` is
    pan's (stored + matched): the IR's plus one for the initial state, plus one per initial
    d_step, plus one per state where a check branch fires."""
    spin_states: int = 0            # pan's "states, stored"
    translate_seconds: float = 0.0  # spin -a
    compile_seconds: float = 0.0    # gcc
    pan_seconds: float = 0.0        # pan's own "elapsed time"
    pan_peak_mib: float = 0.0       # the search's pan process's peak resident memory (wait4)

    def as_dict(self) -> dict:
        d = super().as_dict()
        d.update(spin_states=self.spin_states, translate_seconds=round(self.translate_seconds, 3),
                 compile_seconds=round(self.compile_seconds, 3), pan_seconds=round(self.pan_seconds, 3),
                 pan_peak_mib=round(self.pan_peak_mib, 1))
        return d


@dataclass(frozen=True)
class _Settings:
    reduce: bool
    order: str
    cflags: tuple[str, ...]
    max_depth: int
    timeout: float
    pan_args: tuple[str, ...]


@dataclass
class _Search:
    """One pan run: the first error per name constant, the first other error, and whether
    it searched everything."""
    stats: SpinStats
    first: dict[str, int] = field(default_factory=dict)   # name constant -> number of its first error
    other: tuple[int, str] | None = None                  # (number, message) of an unnamed error
    limit: str = ""
    depth: int = 0                                        # the -m it ran with

    @property
    def complete(self) -> bool:
        return not self.limit


class SpinFailure(Exception):
    """spin or gcc refused the model (a bug in the exporter, or a missing tool), or a run timed out."""


def spin_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def check_spin(system: System, names: list[str] | None = None, workdir: str | Path | None = None,
               timeout: float = 600, *, reduce: bool = True, order: str = "dfs",
               cflags: Sequence[str] = ("-O2",), max_depth: int = 100_000,
               pan_args: Sequence[str] = ()) -> list[Result]:
    """A Result per property named (all of the system's when None), in the system's order.

    `reduce=False` builds pan with -DNOREDUCE (no partial-order reduction, for comparable
    state counts); `order="bfs"` builds with -DBFS for shortest counterexamples. `workdir`
    keeps model.pml, pan and the trails; `timeout` bounds each spin, gcc and pan run."""
    if order not in ("dfs", "bfs"):
        raise ValueError(f"order must be dfs or bfs, not {order!r}")
    settings = _Settings(reduce, order, tuple(cflags), max_depth, timeout, tuple(pan_args))
    model = translate(system)
    wanted = [p for p in system.properties if names is None or p.name in names]
    macros = [model.macros[p.name] for p in wanted if p.name in model.macros]
    if not macros:
        return [_unsupported(p, model) for p in wanted]
    with _workdir(workdir) as root:
        try:
            search = _build_and_search(model, macros, root, settings)
        except SpinFailure as err:
            return [_unsupported(p, model) or Result(p.name, Verdict.UNKNOWN, ENGINE, None, SpinStats(), str(err))
                    for p in wanted]
        return [_unsupported(p, model) or _verdict(system, model, p, search, root, macros, settings)
                for p in wanted]


def state_space(system: System, workdir: str | Path | None = None, timeout: float = 600, *,
                reduce: bool = False, cflags: Sequence[str] = ("-O2",), max_depth: int = 100_000,
                pan_args: Sequence[str] = ()) -> SpinStats:
    """SPIN's census of the reachable states, no property checked. `states` is the IR's
    count (pan's minus the exporter's extra start state); `spin_states` is pan's own."""
    settings = _Settings(reduce, "dfs", tuple(cflags), max_depth, timeout, tuple(pan_args))
    model = translate(system)
    with _workdir(workdir) as root:
        search = _build_and_search(model, [], root, settings)
        if search.first or search.other:
            raise SpinFailure(f"state space not explored: {search.other or sorted(search.first)}")
        if not search.complete:
            raise SpinFailure(f"state space not explored: {search.limit}")
        return search.stats


@contextmanager
def _workdir(path: str | Path | None) -> Iterator[Path]:
    """The caller's folder, kept; or a temporary one, removed afterwards."""
    if path is not None:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="interpcheck-spin-") as tmp:
        yield Path(tmp)


def _unsupported(prop: Property, model: PromelaModel) -> Result | None:
    if prop.name not in model.unsupported:
        return None
    return not_decided(prop.name, ENGINE, SpinStats(), f"{model.unsupported[prop.name]}; use the explicit engine")


def _verdict(system: System, model: PromelaModel, prop: Property, search: _Search, root: Path,
             macros: list[str], settings: _Settings) -> Result:
    """The verdict on `prop` from the one search; a violation's trail from a rerun."""
    note = _how(search.stats, settings)
    stats = dataclasses.replace(search.stats)  # one search, but each Result owns its numbers
    flag = next(f for f, (kind, name) in model.flags.items() if kind == "property" and name == prop.name)
    n = search.first.get(flag)
    bounds = [(k, f) for f, k in search.first.items() if model.flags[f][0] == "bound"]
    stop = min(bounds + ([search.other] if search.other else []), default=None)
    if n is not None and (stop is None or n < stop[0]):
        try:
            trace = _trail(system, root, macros, n, search.depth, settings)
            why = ""
        except (SpinFailure, subprocess.TimeoutExpired) as err:
            trace, why = None, f"trail not replayed: {err}; "
        if isinstance(prop, Sometimes):
            return Result(prop.name, Verdict.HOLDS, ENGINE, trace, stats, f"witness; {why}{note}")
        return Result(prop.name, Verdict.VIOLATED, ENGINE, trace, stats, why + note)
    if stop is not None:
        number, what = stop
        reason = (f"bound: {model.flags[what][1]} would leave its domain; raise the bound in the spec"
                  if what in model.flags else f"pan: {what}")
        return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, stats, f"{reason}; {note}", limit=reason)
    if not search.complete:
        return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, stats, f"limit reached: {search.limit}; {note}",
                      limit=search.limit)
    if isinstance(prop, Sometimes):
        return Result(prop.name, Verdict.VIOLATED, ENGINE, None, stats,
                      f"never reached: the scenario never gets there (vacuous); {note}")
    return Result(prop.name, Verdict.HOLDS, ENGINE, None, stats, note)


def _how(stats: SpinStats, settings: _Settings) -> str:
    return (f"spin -a {stats.translate_seconds:.2f}s, gcc {stats.compile_seconds:.2f}s, "
            f"pan {stats.seconds:.2f}s ({settings.order}, partial-order reduction "
            f"{'on' if settings.reduce else 'off'})")


def _build_and_search(model: PromelaModel, macros: list[str], root: Path, settings: _Settings) -> _Search:
    (root / "model.pml").write_text(model.text)
    stats = SpinStats()
    defines = [f"-D{m}" for m in macros]
    stats.translate_seconds = _tool(["spin", "-o2", *defines, "-a", "model.pml"], root, settings.timeout)
    flags = ["-DSAFETY", "-w"]
    if not settings.reduce:
        flags.append("-DNOREDUCE")
    if settings.order == "bfs":
        flags.append("-DBFS")
    vector = _vector_bytes(model)
    if vector > 1000:
        flags.append(f"-DVECTORSZ={2 * vector + 256}")
    stats.compile_seconds = _tool(["gcc", *settings.cflags, *flags, "-o", "pan", "pan.c"], root, settings.timeout)
    depth = settings.max_depth
    while True:
        search = _search(model, root, depth, settings, stats)
        if not search.limit.startswith("max-depth") or depth >= MAX_DEPTH_CAP:
            return search
        depth = min(depth * 10, MAX_DEPTH_CAP)


def _vector_bytes(model: PromelaModel) -> int:
    total = 64
    for line in model.text.splitlines():
        hit = re.match(r"(bit|byte|short|int) \w+(?:\[(\d+)\])?", line)
        if hit:
            total += _TYPE_BYTES[hit.group(1)] * int(hit.group(2) or 1)
    return total


def _tool(argv: list[str], directory: Path, timeout: float) -> float:
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=directory, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as err:
        raise SpinFailure(f"{argv[0]} is not installed") from err
    except subprocess.TimeoutExpired as err:
        raise SpinFailure(f"{argv[0]} took longer than {timeout:g}s") from err
    if done.returncode != 0:
        raise SpinFailure(f"{' '.join(argv)} failed: {(done.stdout + done.stderr).strip()[-2000:]}")
    return time.perf_counter() - start


def _pan(root: Path, depth: int, stop_at: int, settings: _Settings) -> tuple[Path, float, float]:
    """Runs pan, its report into a file: with -c0 it prints a line per error, maybe millions.
    Returns the report, the wall seconds and pan's peak resident MiB."""
    report = root / f"pan-c{stop_at}.out"
    argv = ["./pan", f"-m{depth}", "-n", f"-c{stop_at}", *settings.pan_args]
    start = time.perf_counter()
    with report.open("w") as out:
        peak = run_peak(argv, root, out, settings.timeout)
    return report, time.perf_counter() - start, peak


def _search(model: PromelaModel, root: Path, depth: int, settings: _Settings, stats: SpinStats) -> _Search:
    try:
        report, stats.seconds, stats.pan_peak_mib = _pan(root, depth, 0, settings)
    except subprocess.TimeoutExpired:
        stats.seconds = settings.timeout
        return _Search(stats, limit=f"time-limit {settings.timeout:g}s", depth=depth)
    search, tail = _Search(stats, depth=depth), []
    with report.open() as lines:
        for line in lines:
            hit = _ERROR.match(line)
            if not hit:
                tail.append(line)
                continue
            number, message = int(hit.group(1)), hit.group(2)
            named = [w for w in re.findall(r"[A-Za-z_]\w*", message) if w in model.flags]
            if named:
                search.first.setdefault(named[0], number)
            elif search.other is None:
                search.other = (number, message)
    text = "".join(tail)
    number = lambda pattern: int(m.group(1)) if (m := re.search(pattern, text)) else 0  # noqa: E731
    stats.spin_states = number(r"(\d+) states, stored")
    stats.states = max(stats.spin_states - model.extra_states, 0)
    stats.transitions = number(r"(\d+) transitions \(= stored\+matched\)")
    stats.depth = number(r"depth reached (\d+)")
    elapsed = re.search(r"elapsed time ([\d.e+-]+) seconds", text)
    stats.pan_seconds = float(elapsed.group(1)) if elapsed else stats.seconds
    if "max search depth too small" in text:
        search.limit = f"max-depth {depth} (pan -m)"
    elif "out of memory" in text or "-DMEMLIM bound" in text:
        memlim = re.search(r"-DMEMLIM=(\d+)", " ".join(settings.cflags))
        search.limit = f"max-memory {memlim.group(1)} MiB (pan's -DMEMLIM)" if memlim else "pan ran out of memory"
    elif "errors:" not in text:
        search.limit = f"pan stopped: {text.strip()[-500:]}"
    return search


def _trail(system: System, root: Path, macros: list[str], n: int, depth: int, settings: _Settings) -> Trace:
    """Reruns pan to its nth error, replays the trail it writes, re-runs its actions on the IR."""
    (root / "model.pml.trail").unlink(missing_ok=True)
    _pan(root, depth, n, settings)
    if not (root / "model.pml.trail").exists():
        raise SpinFailure(f"pan -c{n} wrote no trail")
    shutil.copy(root / "model.pml.trail", root / f"error{n}.trail")
    done = subprocess.run(["spin", "-o2", *[f"-D{m}" for m in macros], "-t", "-p", "model.pml"], cwd=root,
                          capture_output=True, text=True, timeout=settings.timeout)
    steps = [int(k) for k in re.findall(rf"^\s*{STEP_MARK} (\d+)\s*$", done.stdout, re.M)]
    inits = re.findall(rf"^\s*{INIT_MARK} (\d+)\s*$", done.stdout, re.M)
    state = system.initial[int(inits[0]) if inits else 0]
    successors = compile_system(system).successors
    states, actions = [state], []
    for k in steps:
        nxt = next((s for a, s in successors(state) if a == k), None)
        if nxt is None:
            raise SpinFailure(f"trail step {len(actions)}: action {k} is not enabled in the IR state")
        state = nxt
        states.append(state)
        actions.append(k)
    return Trace(tuple(states), tuple(actions))


__all__ = ["check_spin", "spin_available", "state_space", "SpinStats", "SpinFailure", "ENGINE"]
