"""How the model uses its counters, and which abstract states fix every use of them.

A counter's value in an instance is L(m) = residue + sum over views of contribution * m,
with m = 1 for a view of count 1 and any m >= 2 for a view of count MANY. The abstraction
is exact for a counter that is only compared with constants (`c + d OP k`) and only moved
by constants (`c = c ± d`): once L(2, ..., 2) exceeds every threshold k - d and no MANY view
contributes negatively, L(m) stays above them for every m >= 2, so each comparison has one
value for all those m (docs/modeling.md, "Parametric proofs").
"""
from __future__ import annotations

from dataclasses import dataclass, field

from interpcheck.model.ir import (Action, ActionProperty, Const, Expr, Invariant, Ite, NoDeadlock, Op,
                                  Read, Sometimes, System, walk)
from interpcheck.model.ir.facts import skey

from .views import MANY, Abstract, NotAbstractable

COMPARE = {"==", "!=", "<", "<=", ">", ">="}
STEPS = "steps"        # the reader standing for every action's guard and updates


class Unsupported(Exception):
    """A counter is read where its value is not just compared with a constant."""


@dataclass
class Comparisons:
    """Per reader (STEPS, a property's name, "deadlock"): per counter, the largest threshold
    it compares the counter with; and the properties whose counter use is refused, why."""
    thresholds: dict[str, dict[int, int]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    def add(self, reader: str, found: dict[int, int]) -> None:
        mine = self.thresholds.setdefault(reader, {})
        for k, t in found.items():
            mine[k] = max(mine.get(k, t), t)


def comparisons(system: System, counter_slots: list[int], wanted: list[str],
                images: frozenset[int] = frozenset()) -> Comparisons:
    """Checks, once per system, that every read of a counter is a comparison with a constant
    or a constant step of that counter; an action that does otherwise refuses the run.
    `images`: threads whose actions are another's with the threads renamed (the model's
    symmetry), so they compare the shared counters alike and are not read."""
    reader = _Reader({s: k for k, s in enumerate(counter_slots)})
    out = Comparisons()
    actions = [a for a in system.actions if a.thread is None or a.thread not in images]
    for action in actions:
        try:
            out.add(STEPS, reader.action(action))
        except Unsupported as why:
            raise NotAbstractable(f"{action.call} {why}: the abstraction keeps counters exact only "
                                  "when they are compared with constants and moved by constants") from None
    for p in system.properties:
        if p.name not in wanted:
            continue
        try:
            if isinstance(p, Invariant):
                out.add(p.name, reader.thresholds(p.holds))
            elif isinstance(p, Sometimes):
                out.add(p.name, reader.thresholds(p.expr))
            elif isinstance(p, ActionProperty):
                for a in actions:
                    for c in a.checks:
                        if c.prop == p.name:
                            out.add(p.name, reader.thresholds(c.holds, reader.largest_decrement(a)))
            elif isinstance(p, NoDeadlock):
                for e in system.finished + (system.halted,):
                    out.add("deadlock", reader.thresholds(e))
        except Unsupported as why:
            out.refused["deadlock" if isinstance(p, NoDeadlock) else p.name] = \
                f"{p.name} {why}, which the abstraction cannot decide for every number of threads"
    return out


class _Reader:
    def __init__(self, counters: dict[int, int]):
        self.counters = counters      # slot -> counter number
        self._reads: dict[int, tuple[Expr, bool]] = {}   # id(e) -> (e, reads_counter(e)); keeps e alive

    def touched(self, read: Read) -> list[int]:
        """The counters a read may read (a computed index may reach any element)."""
        if isinstance(read.index, Const):
            slots = [read.var.base + read.index.value]
        else:
            slots = range(read.var.base, read.var.base + read.var.length)
        return [self.counters[s] for s in slots if s in self.counters]

    def reads_counter(self, e: Expr) -> bool:
        """Whether e reads a counter anywhere (remembered per node: _collect asks again of
        every subexpression on its way down)."""
        hit = self._reads.get(id(e))
        if hit is None:
            if isinstance(e, Read):
                found = bool(self.touched(e)) or self.reads_counter(e.index)
            elif isinstance(e, Op):
                found = any(self.reads_counter(a) for a in e.args)
            elif isinstance(e, Ite):
                found = any(self.reads_counter(a) for a in (e.cond, e.then, e.other))
            else:
                found = any(isinstance(n, Read) and self.touched(n) for n in walk(e))
            hit = self._reads[id(e)] = (e, found)
        return hit[1]

    def thresholds(self, e: Expr, slack: int = 0) -> dict[int, int]:
        """Counter -> the largest k - d of a comparison `counter + d OP k` in e. A primed read
        sees the counter after the step, up to `slack` below it beforehand."""
        out: dict[int, int] = {}
        self._collect(e, slack, out)
        return out

    def _collect(self, e: Expr, slack: int, out: dict[int, int]) -> None:
        if not self.reads_counter(e):
            return
        compared = self._compared(e) if isinstance(e, Op) and e.name in COMPARE else None
        if compared is not None:
            read, t = compared
            self._collect(read.index, slack, out)
            for k in self.touched(read):
                t_k = t + slack if read.primed else t
                out[k] = max(out.get(k, t_k), t_k)
        elif isinstance(e, Read):
            if self.touched(e):
                raise Unsupported(f"reads the counter {e.var.name} other than by comparing it with a constant")
            self._collect(e.index, slack, out)
        else:
            for child in (e.args if isinstance(e, Op) else (e.cond, e.then, e.other)):
                self._collect(child, slack, out)

    def _compared(self, e: Op) -> tuple[Read, int] | None:
        """(counter read, threshold) of `counter + d OP k`, either side; None when neither
        side is a counter plus a constant (a counter may still be read deeper down)."""
        a, b = self._offset(e.args[0]), self._offset(e.args[1])
        if not any(side is not None and side[0] is not None for side in (a, b)):
            return None
        if a is None or b is None or (a[0] is None) == (b[0] is None):
            raise Unsupported("compares a counter with another counter or a non-constant")
        (ra, da), (rb, db) = a, b
        return (ra, db - da) if ra is not None else (rb, da - db)

    def _offset(self, e: Expr) -> tuple[Read | None, int] | None:
        """e as `read + d` (a counter read), as the constant d, or None."""
        if isinstance(e, Const):
            return None, e.value
        if isinstance(e, Read) and self.touched(e):
            return e, 0
        if isinstance(e, Op) and e.name in ("+", "-"):
            a, b = self._offset(e.args[0]), self._offset(e.args[1])
            if a is None or b is None:
                return None
            (ra, da), (rb, db) = a, b
            if rb is None:
                return ra, da + db if e.name == "+" else da - db
            if ra is None and e.name == "+":
                return rb, da + db
        return None

    def action(self, action: Action) -> dict[int, int]:
        """The thresholds of the action's guard and updates; a counter may be assigned only
        itself plus or minus a constant, so a step moves it by the same amount for every m."""
        out = self.thresholds(action.guard)
        for u in action.updates:
            self._collect(u.target.index, 0, out)
            if self.touched(u.target):
                self._deltas(u.value, u.target, out)
            else:
                self._collect(u.value, 0, out)
        return out

    def _deltas(self, value: Expr, target: Read, out: dict[int, int]) -> list[int]:
        """The constants `value` may add to the counter `target`, or Unsupported."""
        if isinstance(value, Ite):
            self._collect(value.cond, 0, out)
            return self._deltas(value.then, target, out) + self._deltas(value.other, target, out)
        read, d = self._offset(value) or (None, 0)
        if read is None or read.primed or skey(read.index) != skey(target.index) or read.var is not target.var:
            raise Unsupported(f"sets the counter {target.var.name} to other than itself plus or minus a constant")
        return [d]

    def largest_decrement(self, action: Action) -> int:
        """How far below its old value a counter may be after the action (0 if it only grows)."""
        down = [0]
        for u in action.updates:
            if self.touched(u.target):
                down += [-d for d in self._deltas(u.value, u.target, {})]
        return max(down)


def sensitive(a: Abstract, counters: list[int], thresholds: dict[int, int], least: int = MANY) -> list[int]:
    """The counters (numbers) whose comparisons up to `thresholds` may change with how many
    threads are in a MANY view of `a`: some MANY view moves the counter, and either one moves it
    down or with `least` threads per MANY view (its fewest: 2, or 1 in the coarse abstraction)
    it is not yet above the threshold."""
    shared, bag = a
    out = []
    for k, t in thresholds.items():
        many = [view[2][k] for view, n in bag if n == MANY]
        if not any(many):
            continue
        # the smallest value: each MANY view with its fewest threads (`least`)
        low = shared[counters[k]] + sum(view[2][k] * (least if n == MANY else n) for view, n in bag)
        if min(many) < 0 or low <= t:
            out.append(k)
    return out
