"""SPIN as a second engine: export the IR to Promela, run spin, gcc and pan, read back Results.

Each exported property gets its own pan binary (built with its CHECK_ macro), so each has
its own verdict, statistics and trail; the builds and runs go in parallel. A trail is
replayed with `spin -t` and the action numbers its branches print are re-run on the IR, so
a counterexample is an ordinary interpcheck Trace, checked step by step against the IR.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from interpcheck.model.ir import NoDeadlock, Sometimes, System, compile_system

from ..result import Result, Stats, Trace, Verdict
from .promela import INIT_MARK, STEP_MARK, PromelaModel, translate

ENGINE = "spin"
MAX_DEPTH_CAP = 10_000_000   # pan's -m is retried ×10 from `max_depth` up to this
_TYPE_BYTES = {"bit": 1, "byte": 1, "short": 2, "int": 4}


@dataclass
class SpinStats(Stats):
    """Stats plus SPIN's own numbers; `seconds` is the pan run, the build is counted apart.

    `states` is the IR's count (pan's minus PromelaModel.extra_states). `transitions` is
    pan's (stored + matched): the IR's plus one for the initial state, plus one per initial
    d_step, plus the stutter self-loops when deadlock is checked."""
    spin_states: int = 0            # pan's "states, stored": states + PromelaModel.extra_states
    translate_seconds: float = 0.0  # spin -a
    compile_seconds: float = 0.0    # gcc
    pan_seconds: float = 0.0        # pan's own "elapsed time"

    def as_dict(self) -> dict:
        d = super().as_dict()
        d.update(spin_states=self.spin_states, translate_seconds=round(self.translate_seconds, 3),
                 compile_seconds=round(self.compile_seconds, 3), pan_seconds=round(self.pan_seconds, 3))
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
class _Run:
    """One pan verification: what it printed and whether it searched everything."""
    output: str
    stats: SpinStats
    errors: int
    complete: bool
    limit: str = ""


class SpinFailure(Exception):
    """spin or gcc refused the model (a bug in the exporter, or a missing tool)."""


def spin_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def check_spin(system: System, names: list[str] | None = None, workdir: str | Path | None = None,
               timeout: float = 600, *, reduce: bool = True, order: str = "dfs", jobs: int | None = None,
               cflags: Sequence[str] = ("-O2",), max_depth: int = 100_000,
               pan_args: Sequence[str] = ()) -> list[Result]:
    """A Result per property named (all of the system's when None), in the system's order.

    `reduce=False` compiles pan with -DNOREDUCE (no partial-order reduction) so its state
    count is comparable; `order="bfs"` compiles with -DBFS for shortest counterexamples.
    `workdir` keeps the .pml, pan and trails (one subfolder per property); `timeout` bounds
    each spin, gcc and pan run."""
    if order not in ("dfs", "bfs"):
        raise ValueError(f"order must be dfs or bfs, not {order!r}")
    settings = _Settings(reduce, order, tuple(cflags), max_depth, timeout, tuple(pan_args))
    model = translate(system)
    wanted = [p for p in system.properties if names is None or p.name in names]
    with _workdir(workdir) as root:
        (root / "model.pml").write_text(model.text)  # for the reader; each run builds its own copy

        def one(prop) -> Result:
            if prop.name in model.unsupported:
                return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, SpinStats(),
                              f"not checked by SPIN: {model.unsupported[prop.name]}; use the explicit engine")
            return _check_property(system, model, prop, root, settings)

        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
            return list(pool.map(one, wanted))


def state_space(system: System, workdir: str | Path | None = None, timeout: float = 600, *,
                reduce: bool = False, cflags: Sequence[str] = ("-O2",), max_depth: int = 100_000,
                pan_args: Sequence[str] = ()) -> SpinStats:
    """SPIN's census of the reachable states with no property checked. `states` is the IR
    count (SPIN's minus the exporter's extra start state); `spin_states` is pan's own."""
    settings = _Settings(reduce, "dfs", tuple(cflags), max_depth, timeout, tuple(pan_args))
    model = translate(system)
    with _workdir(workdir) as root:
        directory = root / "state_space"
        run = _build_and_verify(model, None, directory, settings, deadlock=False)
        if run.errors:
            raise SpinFailure(f"state space not explored: pan: {_failure(run.output, model)}")
        if not run.complete:
            raise SpinFailure(f"state space not explored: {run.limit}")
        return run.stats


@contextmanager
def _workdir(path: str | Path | None) -> Iterator[Path]:
    """The caller's folder, kept; or a temporary one, removed afterwards."""
    if path is not None:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="interpcheck-spin-") as tmp:
        yield Path(tmp)


def _check_property(system: System, model: PromelaModel, prop, root: Path, settings: _Settings) -> Result:
    macro = model.macros[prop.name]
    directory = root / macro
    try:
        run = _build_and_verify(model, macro, directory, settings, deadlock=isinstance(prop, NoDeadlock))
    except SpinFailure as err:
        return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, SpinStats(), str(err))
    note = _how(run.stats, settings)
    if not run.complete and run.errors == 0:
        return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, run.stats, f"limit reached: {run.limit}; {note}")
    if run.errors == 0:
        if isinstance(prop, Sometimes):
            return Result(prop.name, Verdict.VIOLATED, ENGINE, None, run.stats,
                          f"never reached: the scenario never gets there (vacuous); {note}")
        return Result(prop.name, Verdict.HOLDS, ENGINE, None, run.stats, note)
    what, name = _failure(run.output, model)
    if what == "bound":
        return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, run.stats,
                      f"bound: {name} would leave its domain; raise the bound in the spec; {note}")
    if not ((what == "property" and name == prop.name) or (what == "deadlock" and isinstance(prop, NoDeadlock))):
        return Result(prop.name, Verdict.UNKNOWN, ENGINE, None, run.stats, f"pan: {name}; {note}")
    try:
        trace = _replay(system, directory, macro, settings.timeout)
    except (SpinFailure, subprocess.TimeoutExpired) as err:
        verdict = Verdict.HOLDS if isinstance(prop, Sometimes) else Verdict.VIOLATED
        return Result(prop.name, verdict, ENGINE, None, run.stats, f"trail not replayed: {err}; {note}")
    if isinstance(prop, Sometimes):
        return Result(prop.name, Verdict.HOLDS, ENGINE, trace, run.stats, f"witness; {note}")
    return Result(prop.name, Verdict.VIOLATED, ENGINE, trace, run.stats, note)


def _how(stats: SpinStats, settings: _Settings) -> str:
    return (f"spin -a {stats.translate_seconds:.2f}s, gcc {stats.compile_seconds:.2f}s, "
            f"pan {stats.seconds:.2f}s ({settings.order}, partial-order reduction "
            f"{'on' if settings.reduce else 'off'})")


def _failure(output: str, model: PromelaModel) -> tuple[str, str]:
    """("property" | "bound", name) for a named assertion, ("deadlock", "") for an invalid
    end state, else ("other", pan's message)."""
    hit = re.search(r"pan:\d+: assertion violated (.*?) \(at depth", output)
    if hit:
        for word in re.findall(r"[A-Za-z_]\w*", hit.group(1)):
            if word in model.flags:
                return model.flags[word]
        return "other", "assertion violated " + hit.group(1)
    if re.search(r"pan:\d+: invalid end state", output):
        return "deadlock", ""
    hit = re.search(r"pan:\d+: (.*)", output)
    return "other", hit.group(1).strip() if hit else "error"


def _build_and_verify(model: PromelaModel, macro: str | None, directory: Path, settings: _Settings,
                      deadlock: bool) -> _Run:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.pml").write_text(model.text)
    defines = [f"-D{macro}"] if macro else []
    stats = SpinStats()
    stats.translate_seconds = _tool(["spin", "-o2", *defines, "-a", "model.pml"], directory, settings.timeout)
    flags = ["-DSAFETY", "-w"]
    if not settings.reduce:
        flags.append("-DNOREDUCE")
    if settings.order == "bfs":
        flags.append("-DBFS")
    vector = _vector_bytes(model)
    if vector > 1000:
        flags.append(f"-DVECTORSZ={2 * vector + 256}")
    stats.compile_seconds = _tool(["gcc", *settings.cflags, *flags, "-o", "pan", "pan.c"], directory,
                                  settings.timeout)
    depth = settings.max_depth
    while True:
        run = _verify(directory, depth, deadlock, settings, stats)
        if "max search depth too small" not in run.output or run.errors or depth >= MAX_DEPTH_CAP:
            break
        depth = min(depth * 10, MAX_DEPTH_CAP)
    if run.stats.spin_states:
        run.stats.states = run.stats.spin_states - model.extra_states
    return run


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


def _verify(directory: Path, depth: int, deadlock: bool, settings: _Settings, stats: SpinStats) -> _Run:
    argv = ["./pan", f"-m{depth}", "-n", *([] if deadlock else ["-E"]), *settings.pan_args]
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=directory, capture_output=True, text=True, timeout=settings.timeout)
        output = done.stdout + done.stderr
    except subprocess.TimeoutExpired as err:
        stats.seconds = time.perf_counter() - start
        return _Run("", stats, 0, False, f"time-limit {settings.timeout:g}s")
    stats.seconds = time.perf_counter() - start
    number = lambda pattern: int(m.group(1)) if (m := re.search(pattern, output)) else 0  # noqa: E731
    stats.spin_states = number(r"(\d+) states, stored")
    stats.transitions = number(r"(\d+) transitions \(= stored\+matched\)")
    stats.depth = number(r"depth reached (\d+)")
    elapsed = re.search(r"elapsed time ([\d.e+-]+) seconds", output)
    stats.pan_seconds = float(elapsed.group(1)) if elapsed else stats.seconds
    errors = number(r"errors: (\d+)")
    limit = ""
    if "max search depth too small" in output:
        limit = f"max-depth {depth} (pan -m)"
    elif "out of memory" in output or "-DMEMLIM bound" in output:
        limit = "memory"
    elif "errors:" not in output:
        limit = f"pan stopped: {output.strip()[-500:]}"
    return _Run(output, stats, errors, not limit, limit)


def _replay(system: System, directory: Path, macro: str, timeout: float) -> Trace:
    """Replays pan's trail and re-runs the actions it names on the IR."""
    done = subprocess.run(["spin", "-o2", f"-D{macro}", "-t", "-p", "model.pml"], cwd=directory,
                          capture_output=True, text=True, timeout=timeout)
    steps = [int(k) for k in re.findall(rf"^\s*{STEP_MARK} (\d+)\s*$", done.stdout, re.M)]
    inits = re.findall(rf"^\s*{INIT_MARK} (\d+)\s*$", done.stdout, re.M)
    state = system.initial[int(inits[0]) if inits else 0]
    successors = compile_system(system).successors
    states, actions = [state], []
    for k in steps:
        nxt = next((n for a, n in successors(state) if a == k), None)
        if nxt is None:
            raise SpinFailure(f"trail step {len(actions)}: action {k} is not enabled in the IR state")
        state = nxt
        states.append(state)
        actions.append(k)
    return Trace(tuple(states), tuple(actions))


__all__ = ["check_spin", "spin_available", "state_space", "SpinStats", "SpinFailure", "ENGINE"]
