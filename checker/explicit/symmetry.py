"""Symmetry reduction over interchangeable threads: explore one representative per orbit.

The model says which threads are interchangeable (System.symmetry: per group, each
thread's own slots role by role, and the values that name it). A permutation of a group
moves those slots and renames those values. Packed states are laid out so that this is
cheap: the slots that belong to no thread first, then each thread's block; inside every
part, slots are ordered by value class, so renaming is one `bytes.translate` per part.

The representative of a state sorts each group's threads by a key that does not change
under permutation (the thread's block with its own and its siblings' values replaced by
role markers, plus how the shared slots refer to it). Ties keep the thread order, so an
orbit may keep more than one representative: that costs reduction, never soundness.

Sound for invariants, action properties, deadlock and witnesses that the permutations
leave unchanged; `unsupported` says why not otherwise (liveness and hangs on the quotient
need more than this; a property naming one thread of a group is not symmetric).
Counterexamples are mapped back to concrete thread names by replaying the quotient trace
from the real initial state, picking at each step the successor whose representative is
the next state; BFS on the quotient still gives shortest traces.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable

from interpcheck.model.ir import (ActionProperty, Const, Expr, Invariant, Ite, LeadsTo, NoDeadlock, NoHang, Op, Read,
                                  Sometimes, Symmetry, System, value_range)
from .semantics import Compiled



class Canonicalizer:
    """Maps packed states (laid out by `order`, values shifted by `shift`) to representatives.

    Layout: the slots no thread owns, then each group's threads, one block per thread
    (its slots role by role). Each value class is stored in a byte range of its own (a
    class's values plus its shift), so one `translate` table renames the values of every
    class at once without touching any other slot, and moving threads is joining blocks."""

    def __init__(self, system: System, symmetry: Symmetry):
        self.system, self.symmetry = system, symmetry
        classes = symmetry.classes
        self.class_names = sorted({c for c in classes if c is not None})
        owned = {s for g in symmetry.groups for slots in g.slots for s in slots}
        order = [s for s in range(system.width) if s not in owned]
        self.nglobal = len(order)
        self.blocks = []           # per group: (start, block length, threads)
        for g in symmetry.groups:
            self.blocks.append((len(order), len(g.slots[0]), len(g.threads)))
            for slots in g.slots:
                order += slots
        self.order = tuple(order)
        self.values = [dict(g.values) for g in symmetry.groups]
        self.why_not, self.shift, self.base = self._shifts(system)
        self._tables: dict = {}
        self.initial_of: dict = {}
        self.compiled: Compiled | None = None
        if self.why_not is None:
            self._generate()

    def _shifts(self, system: System) -> tuple[str | None, list[int], dict[str, int]]:
        """Per slot, what to add to its values so each class gets a byte range of its own."""
        classes = self.symmetry.classes
        top: dict[str | None, int] = {}
        for v in system.variables:
            lo, hi = v.domain.lo, v.domain.hi
            for k in range(v.length):
                c = classes[v.base + k]
                if c is not None and lo != 0:
                    return f"{v.name} holds thread values but its domain starts at {lo}", [], {}
                top[c] = max(top.get(c, 0), hi - min(lo, 0))
        base, nxt = {}, top.get(None, 0) + 1
        for c in self.class_names:
            base[c] = nxt
            nxt += top[c] + 1
        if nxt > 256:
            return "the value classes do not fit in one byte together", [], {}
        return None, [base[classes[s]] if classes[s] is not None else 0 for s in range(system.width)], base

    def stored(self, c: str, value: int) -> int:
        return self.base[c] + value

    def _generate(self) -> None:
        """`canon` and `permute` as straight-line code: every slice position is a constant.

        A thread's key: its block and the shared slots, with values that name it replaced by
        the first thread's and values that name a sibling by the second's (K tables), role
        by role: a permutation leaves each thread's key unchanged."""
        env: dict = {"_permute_with": self._permute_with, "_sorted": sorted}
        lines = ["def canon(s):", f"    g = s[0:{self.nglobal}]"]
        perm_names = []
        for gi, (start, size, n) in enumerate(self.blocks):
            keys = []
            for j in range(n):
                env[f"K{gi}_{j}"] = self.key_table(gi, j)
                b = start + j * size
                lines.append(f"    k{gi}_{j} = (s[{b}:{b + size}].translate(K{gi}_{j}), g.translate(K{gi}_{j}))")
                keys.append(f"k{gi}_{j}")
            env[f"I{gi}"] = tuple(range(n))
            lines += [f"    if {' <= '.join(keys)}:", f"        p{gi} = I{gi}", "    else:",
                      f"        ks = ({', '.join(keys)},)",
                      f"        p{gi} = tuple(_sorted(I{gi}, key=ks.__getitem__))"]
            perm_names.append(f"p{gi}")
        lines.append(f"    if {' and '.join(f'p{gi} is I{gi}' for gi in range(len(self.blocks)))}:")
        lines.append("        return s")
        lines.append(f"    return _permute_with(s, ({', '.join(perm_names)},))")
        lines.append("def permute(s, perms, T):")
        parts = ["s[0:%d]" % self.nglobal]
        for gi, (start, size, n) in enumerate(self.blocks):
            parts.append(f"*[s[{start} + o * {size}:{start + size} + o * {size}] for o in perms[{gi}]]")
        lines.append(f"    return b''.join(({', '.join(parts)},)).translate(T)")
        self.source = "\n".join(lines) + "\n"
        exec(compile(self.source, "<symmetry>", "exec"), env)
        self.canon = env["canon"]
        self._permute = env["permute"]

    def key_table(self, gi: int, j: int) -> bytes:
        """Values naming thread j -> the first thread's, naming a sibling -> the second's."""
        t = bytearray(range(256))
        for c, per_thread in self.values[gi].items():
            for i, vals in enumerate(per_thread):
                for m, value in enumerate(vals):
                    t[self.stored(c, value)] = self.stored(c, per_thread[0 if i == j else 1][m])
        return bytes(t)

    def _renaming(self, perms: tuple) -> bytes:
        """The value renaming of one permutation per group (new position -> old thread)."""
        table = self._tables.get(perms)
        if table is not None:
            return table
        t = bytearray(range(256))
        for gi, perm in enumerate(perms):
            for c, per_thread in self.values[gi].items():
                for new, old in enumerate(perm):
                    for m, value in enumerate(per_thread[old]):
                        t[self.stored(c, value)] = self.stored(c, per_thread[new][m])
        table = bytes(t)
        if len(self._tables) < 100_000:
            self._tables[perms] = table
        return table

    def _permute_with(self, s: bytes, perms: tuple) -> bytes:
        return self._permute(s, perms, self._renaming(perms))

    def permute(self, s: bytes, perms: tuple) -> bytes:
        """The state with each group's thread perm[p] moved to position p (values renamed)."""
        return self._permute(s, perms, self._renaming(perms))

    def unfold(self, states: list, actions: list[int], prop: int | None = None) -> tuple[list, list[int]]:
        """A concrete path for a path of representatives: replay from the real initial state,
        each step taking the first successor whose representative is the next state. With
        `prop`, the last step must also break that action property, as the quotient's did."""
        compiled = self.compiled
        cur = self.initial_of.get(states[0], states[0])
        out, acts = [cur], []
        last = len(states) - 1
        for i in range(1, len(states)):
            want = self.canon(states[i])
            step = None
            for k, nxt in compiled.successors(cur):
                if self.canon(nxt) != want:
                    continue
                if prop is not None and i == last and prop not in compiled.action_checks(k, cur, nxt):
                    continue
                step = (k, nxt)
                break
            if step is None:
                raise AssertionError("symmetry: a quotient step has no concrete counterpart (the model's "
                                     "symmetry description is wrong)")
            acts.append(step[0])
            cur = step[1]
            out.append(cur)
        return out, acts


# ----- which properties the permutations leave unchanged ---------------------------------------

def unsupported(system: System, wanted: list[int]) -> dict[int, str]:
    """Property index -> why symmetry reduction is not sound for it (absent when it is)."""
    sym = system.symmetry
    out: dict[int, str] = {}
    if sym is None:
        return {i: "the model declares no interchangeable threads" for i in wanted}
    swaps = [Transposition(system, sym, gi, j) for gi, g in enumerate(sym.groups) for j in range(len(g.threads) - 1)]
    init_ok = all(sw.state(init) == init for sw in swaps for init in system.initial)
    for i in wanted:
        prop = system.properties[i]
        if isinstance(prop, (NoHang, LeadsTo)):
            out[i] = "liveness and hangs are not sound on the symmetry quotient"
        elif not init_ok:
            out[i] = "the initial state is not symmetric"
        elif isinstance(prop, (Invariant, Sometimes)):
            expr = prop.holds if isinstance(prop, Invariant) else prop.expr
            if not all(sw.same(expr, expr) for sw in swaps):
                out[i] = "it names one thread of a group of interchangeable threads"
        elif isinstance(prop, ActionProperty):
            if not all(sw.same_checks(prop.name) for sw in swaps):
                out[i] = "its checks differ between interchangeable threads"
        elif isinstance(prop, NoDeadlock):
            if not all(sw.same_finish() for sw in swaps):
                out[i] = "interchangeable threads finish differently"
    return out


class Transposition:
    """The transposition of two adjacent threads of a group, applied to expressions."""

    def __init__(self, system: System, sym: Symmetry, gi: int, j: int):
        g = sym.groups[gi]
        self.system, self.sym = system, sym
        self.var_of = [v for v in system.variables for _ in range(v.length)]
        self.a, self.b = g.threads[j], g.threads[j + 1]
        self.slot = {}
        for x, y in zip(g.slots[j], g.slots[j + 1]):
            self.slot[x], self.slot[y] = y, x
        self.value: dict[str, dict[int, int]] = {}
        for c, per_thread in g.values:
            m = {}
            for x, y in zip(per_thread[j], per_thread[j + 1]):
                m[x], m[y] = y, x
            self.value[c] = m

    def state(self, s: tuple) -> tuple:
        out = list(s)
        for slot, value in enumerate(s):
            c = self.sym.classes[slot]
            out[self.slot.get(slot, slot)] = self.value.get(c, {}).get(value, value) if c else value
        return tuple(out)

    def same(self, a: Expr, b: Expr) -> bool:
        """Whether swapping turns `a` into `b` (up to the order of and/or/==/!= operands)."""
        pa = self.expr(a)
        return pa is not None and _commutative_key(pa) == _commutative_key(b)

    def same_checks(self, prop: str) -> bool:
        checks = [c.holds for a in self.system.actions for c in a.checks if c.prop == prop]
        swapped = [self.expr(c) for c in checks]
        return None not in swapped and Counter(map(_commutative_key, swapped)) == Counter(map(_commutative_key, checks))

    def same_finish(self) -> bool:
        fin = self.system.finished
        other = {self.a: self.b, self.b: self.a}
        return self.same(self.system.halted, self.system.halted) and all(
            self.same(fin[t], fin[other.get(t, t)]) for t in range(len(fin)))

    # Expressions: reads move with their slots; constants compared with (or chosen as) values
    # of a class are renamed; a computed index is followed only inside one thread's block.
    def expr(self, e: Expr, cls: str | None = None) -> Expr | None:
        if isinstance(e, Const):
            return Const(self.value.get(cls, {}).get(e.value, e.value)) if cls else e
        if isinstance(e, Read):
            return self.read(e)
        if isinstance(e, Ite):
            c = self._class(e)
            parts = [self.expr(e.cond), self.expr(e.then, c), self.expr(e.other, c)]
            return None if None in parts else Ite(*parts)
        if e.name in ("==", "!="):
            ca, cb = (self._class(x) for x in e.args)
            c = ca or cb
            parts = [self.expr(x, c) for x in e.args]
        else:
            parts = [self.expr(x) for x in e.args]
        return None if None in parts else Op(e.name, tuple(parts))

    def read(self, e: Read) -> Read | None:
        var = e.var
        moved = any(var.base + k in self.slot for k in range(var.length))
        if isinstance(e.index, Const):
            slot = self.slot.get(var.base + e.index.value, var.base + e.index.value)
            target = self.var_of[slot]
            return Read(target, Const(slot - target.base), e.primed)
        if not moved:
            index = self.expr(e.index)
            return None if index is None else Read(var, index, e.primed)
        # A computed index inside one thread's block: c + x with x in a known range.
        idx = e.index
        if isinstance(idx, Op) and idx.name == "+" and isinstance(idx.args[0], Const):
            c, x = idx.args[0].value, idx.args[1]
            r = value_range(x, {})
            if r is None or r[0] < 0:
                return None
            targets = [self.slot.get(var.base + c + v, var.base + c + v) for v in range(r[0], r[1] + 1)]
            shift = targets[0] - (var.base + c + r[0])
            if any(tg != var.base + c + v + shift for v, tg in zip(range(r[0], r[1] + 1), targets)):
                return None
            inner = self.expr(x)
            return None if inner is None else Read(var, Op("+", (Const(c + shift), inner)), e.primed)
        return None

    def _class(self, e: Expr) -> str | None:
        classes = self.sym.classes
        if isinstance(e, Read):
            slots = {classes[e.var.base + k] for k in range(e.var.length)}
            if isinstance(e.index, Const):
                return classes[e.var.base + e.index.value]
            return slots.pop() if len(slots) == 1 else None
        if isinstance(e, Ite):
            return self._class(e.then) or self._class(e.other)
        return None


def _commutative_key(e: Expr) -> tuple:
    """A structural key that ignores the order of and/or operands and of ==/!= sides."""
    if isinstance(e, Const):
        return ("c", e.value)
    if isinstance(e, Read):
        return ("r", e.var.base, _commutative_key(e.index), e.primed)
    if isinstance(e, Ite):
        return ("?", _commutative_key(e.cond), _commutative_key(e.then), _commutative_key(e.other))
    keys = [_commutative_key(a) for a in e.args]
    if e.name in ("and", "or", "==", "!="):
        keys.sort()
    return (e.name, *keys)


def canonicalizer(system: System, compiled_for: Callable[[list[int], list[int]], Compiled]) -> Canonicalizer | str:
    """A canonicalizer over a compiled system laid out for it, or why there is none."""
    if system.symmetry is None or not system.symmetry.groups:
        return "the model declares no interchangeable threads"
    canon = Canonicalizer(system, system.symmetry)
    if canon.why_not:
        return canon.why_not
    compiled = compiled_for(list(canon.order), canon.shift)
    if compiled.packing is None:
        return "states do not pack into bytes"
    canon.compiled = compiled
    for init in system.initial:
        packed = compiled.encode(init)
        canon.initial_of.setdefault(canon.canon(packed), packed)
    return canon
