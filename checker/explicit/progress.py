"""Where a search stops and what it says meanwhile: progress reporters, the checkpoint every
1024 states (stats, progress, time and memory limits), and the stop at a limit, a value
leaving its domain or Ctrl-C. Every search (the Python loops and the C one) uses
these, so a limit reads the same whichever backend ran."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Protocol

from interpcheck.model.ir import BoundExceeded, System

from ..options import Limits
from ..result import Limit, Stats

if TYPE_CHECKING:
    from .exploration import Exploration


class Reporter(Protocol):
    def progress(self, stats: Stats, queue: int) -> None: ...

    def note(self, text: str, stats: Stats) -> None: ...


class SilentReporter:
    def progress(self, stats: Stats, queue: int) -> None:
        pass

    def note(self, text: str, stats: Stats) -> None:
        pass


class StderrReporter:
    """Prints a progress line every `every` seconds, after the first `after` seconds. Counts
    never go backwards: a search that starts over (in C after Python, or a second pass) is
    announced by a note, and its lines resume once it passes what was already printed."""

    def __init__(self, label: str = "", after: float = 2.0, every: float = 2.0):
        self.label, self.after, self.every = label, after, every
        self.next_at = after
        self.shown = (0, 0)   # the highest (states, transitions) printed

    def progress(self, stats: Stats, queue: int) -> None:
        if stats.seconds < self.next_at or stats.states < self.shown[0] or stats.transitions < self.shown[1]:
            return
        self.next_at = stats.seconds + self.every
        self.shown = (stats.states, stats.transitions)
        rate = stats.transitions / stats.seconds if stats.seconds else 0.0
        print(f"{self.label}{stats.states:,} distinct states, {stats.transitions:,} transitions "
              f"({rate:,.0f}/s), depth {stats.depth}, queue {queue:,}, {stats.seconds:.1f}s",
              file=sys.stderr, flush=True)

    def note(self, text: str, stats: Stats) -> None:
        """A change of course worth a line, said only to someone already seeing progress."""
        if self.shown != (0, 0):
            print(f"{self.label}{text}", file=sys.stderr, flush=True)


@contextmanager
def stopping(ex: Exploration, system: System) -> Iterator[None]:
    """Where a search stops short: a limit, a value leaving its domain, Ctrl-C. Caught around
    the whole loop, so the loop pays nothing per state."""
    try:
        yield
    except Limit as hit:
        ex.limit = hit.what
    except BoundExceeded as err:
        ex.limit = err.message(system)
    except KeyboardInterrupt:
        ex.limit = "interrupted"


def checkpoint(ex: Exploration, n: int, transitions: int, depth: int, queued: int, start: float,
                reporter: Reporter, limits: Limits) -> None:
    """Every 1024 states: the stats so far, progress, and the time and memory limits."""
    ex.stats.states, ex.stats.transitions = n, transitions
    ex.stats.depth = max(ex.stats.depth, depth)
    ex.stats.seconds = time.perf_counter() - start
    reporter.progress(ex.stats, queued)
    if over := limits.overrun(ex.stats.seconds):
        raise Limit(over)
