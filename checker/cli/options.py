"""The engine flags shared by check, check-c, matrix, gate and graph, and the one Options
object they become."""
from __future__ import annotations

import click

from ..engines import ENGINES
from ..options import Limits, Options
from .usage import FiniteFloat


def _remember(ctx: click.Context, param: click.Parameter, value) -> None:
    """Reduction flags reach make_options through the context, so every command that takes
    the engine flags gets them without a parameter of its own."""
    ctx.meta[f"interpcheck.{param.name}"] = value


def engine_options(f):
    """The engine flags shared by check, matrix and gate."""
    opts = [
        click.option("--engine", type=click.Choice(list(ENGINES)), default="explicit", show_default=True,
                     help="explicit search, Z3 bounded model checking, Z3 k-induction, SPIN, or a proof for any "
                          "number of threads of the spec's thread table with a `count` (counter abstraction)"),
        click.option("--order", type=click.Choice(["bfs", "dfs", "simulate"]), default="bfs", show_default=True,
                     help="explicit engine: bfs gives shortest traces; simulate runs seeded random walks"),
        click.option("--max-states", type=click.IntRange(1), default=None, help="stop after this many states"),
        click.option("--max-depth", type=click.IntRange(0), default=None, help="do not expand states this deep"),
        click.option("--time-limit", type=FiniteFloat(), default=None,
                     help="seconds per design before giving up"),
        click.option("--max-memory", type=click.IntRange(1), default=None, expose_value=False, callback=_remember,
                     metavar="MIB", help="stop when this process uses more than this many MiB (resident, "
                                         "as SPIN's -DMEMLIM); what was found so far is reported"),
        click.option("--depth", type=click.IntRange(1), default=30, show_default=True,
                     help="bmc depth, induction's max k, or a random walk's length"),
        click.option("--seed", type=int, default=0, show_default=True, help="seed for --order simulate"),
        click.option("--walks", type=click.IntRange(1), default=1000, show_default=True,
                     help="random walks for --order simulate"),
        click.option("--symmetry/--no-symmetry", default=None, expose_value=False, callback=_remember,
                     help="explicit engine: one state per orbit of interchangeable threads (default: where "
                          "sound); --symmetry also notes where it cannot be used"),
        click.option("--por/--no-por", default=None, expose_value=False, callback=_remember,
                     help="explicit engine: partial-order reduction of independent steps (default: where "
                          "sound, traces from an unreduced rerun so they stay shortest); --por keeps its traces"),
        click.option("--fingerprint", is_flag=True, default=False, expose_value=False, callback=_remember,
                     help="explicit engine: store 64-bit fingerprints, not states (collision chance in stats)"),
        click.option("--backend", type=click.Choice(["auto", "c", "python"]), default="auto", show_default=True,
                     expose_value=False, callback=_remember,
                     help="explicit engine: run the breadth-first search as generated C, with symmetry, POR and "
                          "the state graph for hangs and liveness (same states, verdicts and traces): auto once it "
                          "passes 20,000 states and a C compiler is found; it stores a state as a tree of shared "
                          "parts, about 30 bytes (INTERPCHECK_C_STORE=bits: its packed bits)"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def make_options(engine, order, max_states, max_depth, time_limit, depth, seed, walks) -> Options:
    meta = ctx.meta if (ctx := click.get_current_context(silent=True)) is not None else {}
    switch = {None: "auto", True: "on", False: "off"}
    limits = Limits(max_states, max_depth, time_limit, meta.get("interpcheck.max_memory"))
    return Options(engine, order, limits, seed, walks, depth,
                   symmetry=switch[meta.get("interpcheck.symmetry")], por=switch[meta.get("interpcheck.por")],
                   fingerprint=bool(meta.get("interpcheck.fingerprint")),
                   backend=meta.get("interpcheck.backend") or "auto")
