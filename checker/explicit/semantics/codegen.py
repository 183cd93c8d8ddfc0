"""Python source for a system's successor function and property checks (compile_system
runs it). Conjuncts shared by a group of actions are tested once, actions are dispatched on
program counters, index checks are dropped where the guard proves the index in range, and
conditions the path already decides are not tested again."""
from __future__ import annotations

from operator import itemgetter
from typing import Callable, Sequence

from interpcheck.model.ir import Action, Const, Expr, Invariant, Ite, Op, Read, System
from interpcheck.model.ir.facts import CMP, Facts, assume, clear_keys, decide, in_range, skey, total, value_range

from .packing import Packing


_first_of = itemgetter(0)


def _ix(value: int, length: int, name: str) -> int:
    if not 0 <= value < length:
        raise IndexError(f"{name}[{value}] out of range")
    return value


class _Codegen:
    """Python source for expressions over `s` (the state) and `n` (the successor, primed reads).

    `facts` (what enclosing conditions prove) drop index checks and decide conditions
    statically; `cache` maps subexpressions to the locals they were computed into."""

    def __init__(self, packing: Packing | None) -> None:
        self.packing = packing
        self.temps = 0
        self.tables: dict[int, tuple[int, ...]] = {}   # var base -> positions, for moved arrays
        self.cache: dict[tuple, str] = {}   # subexpression -> local computed before use
        self.lazy: dict[tuple, str] = {}    # condition -> local, computed where first needed
        self.eager: dict[tuple, str] = {}   # condition -> local, computed before the group's guards

    def position(self, var, index: Expr, facts: Facts) -> str:
        """Source of the state position of `var[index]`, the index checked unless provably in range."""
        if isinstance(index, Const):
            if not 0 <= index.value < var.length:
                raise IndexError(f"{var.name}[{index.value}] out of range")
            slot = var.base + index.value
            return str(self.packing.position[slot] if self.packing else slot)
        shift = 0
        if in_range(index, var.length, facts):
            # `x - 1` as an index: fold the constant into the base (s[16+x], not s[17+(x - 1)]).
            shift, index = _linear(index, facts)
            inner = self.val(index, facts)
        else:
            # Not provably in range: check inline (no call) with a walrus temporary.
            self.temps += 1
            tmp = f"_t{self.temps}"
            inner = (f"({tmp} if 0 <= ({tmp} := {self.val(index, facts)}) < {var.length} "
                     f"else _ix({tmp},{var.length},{var.name!r}))")
        if self.packing is None:
            start = var.base + shift
            return f"{start}+{inner}" if start else inner
        pos = self.packing.position
        start = pos[var.base]
        if all(pos[var.base + k] == start + k for k in range(var.length)):
            start += shift
            return f"{start}+{inner}" if start else inner
        if shift:
            inner = f"{inner}{shift:+d}"
        self.tables[var.base] = tuple(pos[var.base:var.base + var.length])
        return f"_pos{var.base}[{inner}]"

    def read(self, e: Read, facts: Facts) -> str:
        src = f"{'n' if e.primed else 's'}[{self.position(e.var, e.index, facts)}]"
        off = self.packing.offset[e.var.base] if self.packing else 0
        return f"({src}-{off})" if off else src

    def val(self, e: Expr, facts: Facts) -> str:
        """Python source producing an int."""
        if isinstance(e, Const):
            return str(e.value)
        if self.cache:
            local = self.cache.get(skey(e))
            if local is not None:
                return local
        if isinstance(e, Read):
            return self.read(e, facts)
        if isinstance(e, Ite):
            known = decide(e.cond, facts)
            if known is not None:
                return self.val(e.then if known else e.other, facts)
            return (f"({self.val(e.then, assume(e.cond, True, facts))} if {self.cond(e.cond, facts)} "
                    f"else {self.val(e.other, assume(e.cond, False, facts))})")
        if isinstance(e, Op):
            if e.name in CMP or e.name in ("and", "or", "not"):
                return f"(1 if {self.cond(e, facts)} else 0)"
            if e.name == "neg":
                return f"(-{self.val(e.args[0], facts)})"
            return f"({self.val(e.args[0], facts)} {e.name} {self.val(e.args[1], facts)})"
        raise TypeError(e)

    def cond(self, e: Expr, facts: Facts) -> str:
        """Python source producing a truth value (no 0/1 boxing in guards)."""
        known = decide(e, facts)
        if known is not None:
            return str(known)
        if self.eager:
            local = self.eager.get(skey(e))
            if local is not None:
                return local
        if self.lazy:
            local = self.lazy.get(skey(e))
            if local is not None:
                lazy, self.lazy = self.lazy, {}
                src = self.cond(e, facts)
                self.lazy = lazy
                return f"({local} if {local} is not None else ({local} := {src}))"
        if isinstance(e, Op):
            if e.name in CMP:
                return f"{self.val(e.args[0], facts)} {e.name} {self.val(e.args[1], facts)}"
            if e.name in ("and", "or"):
                parts, known_facts = [], facts
                for a in e.args:  # each operand knows the ones before it held (and) or failed (or)
                    d = decide(a, known_facts)
                    if d is None:
                        parts.append(self.cond(a, known_facts))
                    elif d != (e.name == "and"):   # false in an and, true in an or: decides it
                        parts.append(str(d))
                        break
                    known_facts = assume(a, e.name == "and", known_facts)
                if not parts:
                    return str(e.name == "and")
                return parts[0] if len(parts) == 1 else "(" + f" {e.name} ".join(parts) + ")"
            if e.name == "not":
                return f"(not {self.cond(e.args[0], facts)})"
        return self.val(e, facts)

    def conj(self, parts: Sequence[Expr], facts: Facts) -> tuple[str, Facts]:
        """Source of a conjunction and the facts that hold after it."""
        srcs = []
        for p in parts:
            d = decide(p, facts)
            if d is True:
                continue
            srcs.append(self.cond(p, facts))
            if d is False:
                break
            facts = assume(p, True, facts)
        return " and ".join(srcs) if srcs else "True", facts


def _linear(e: Expr, facts: Facts) -> tuple[int, Expr]:
    """(c, x) with e == c + x, constants gathered from +/- chains (and decided conditionals)."""
    if isinstance(e, Ite):
        known = decide(e.cond, facts)
        if known is not None:
            return _linear(e.then if known else e.other, facts)
    if isinstance(e, Op) and e.name in ("+", "-"):
        a, b = e.args
        if isinstance(b, Const):
            c, x = _linear(a, facts)
            return c + (b.value if e.name == "+" else -b.value), x
        if isinstance(a, Const) and e.name == "+":
            c, x = _linear(b, facts)
            return c + a.value, x
    return 0, e


def _checked_index(index: Expr, length: int, facts: Facts) -> Facts:
    """`facts` plus: `index` is in range (the code after a passed index check may rely on it)."""
    r = value_range(index, facts)
    if r is None or not total(index, facts):
        return facts
    out = dict(facts)
    out[skey(index)] = (max(r[0], 0), min(r[1], length - 1))
    return out


def _conjuncts(expr: Expr) -> list[Expr]:
    return list(expr.args) if isinstance(expr, Op) and expr.name == "and" else [expr]


def _atom(e: Expr) -> tuple[int, int] | None:
    """(slot, value) when `e` is `scalar-or-constant-index read == constant` (safe to test anywhere)."""
    if isinstance(e, Op) and e.name == "==" and isinstance(e.args[0], Read) and isinstance(e.args[1], Const) \
            and isinstance(e.args[0].index, Const) and not e.args[0].primed:
        return e.args[0].var.base + e.args[0].index.value, e.args[1].value
    return None


def _safe(e: Expr) -> bool:
    """Evaluating `e` can never raise: every read has a constant, in-range index."""
    if isinstance(e, Const):
        return True
    if isinstance(e, Read):
        return isinstance(e.index, Const) and 0 <= e.index.value < e.var.length
    if isinstance(e, Ite):
        return _safe(e.cond) and _safe(e.then) and _safe(e.other)
    return all(_safe(a) for a in e.args)


def _dispatch(system: System) -> tuple[list[tuple[int, dict[int, list[int]]]], list[int]]:
    """Group actions by the most selective `slot == value` conjunct of their guards (in
    practice a thread's program counter), so a state only evaluates the guards of actions
    its threads can be at. The full guard is still evaluated: this only skips work."""
    conj = [[a for c in _conjuncts(act.guard) if (a := _atom(c))] for act in system.actions]
    values: dict[int, set[int]] = {}
    for cs in conj:
        for slot, value in cs:
            values.setdefault(slot, set()).add(value)
    groups: dict[int, dict[int, list[int]]] = {}
    rest = []
    for k, cs in enumerate(conj):
        if not cs or max(len(values[slot]) for slot, _ in cs) < 2:
            rest.append(k)
            continue
        slot, value = max(cs, key=lambda c: (len(values[c[0]]), -c[0]))
        groups.setdefault(slot, {}).setdefault(value, []).append(k)
    return sorted(groups.items()), rest


class _SystemCodegen:
    """Writes the successor function and the property checks of one system."""

    def __init__(self, system: System, packing: Packing | None):
        self.system = system
        self.gen = _Codegen(packing)
        self.packing = packing
        self.lines: list[str] = []

    # ----- successors -----------------------------------------------------------------------
    def _shared_conjuncts(self) -> tuple[list[list[Expr]], list[Expr], set]:
        """Each action's guard conjuncts, those every action shares and can test safely (the
        process has not crashed), and their keys."""
        guards = [_conjuncts(a.guard) for a in self.system.actions]
        common = [c for c in guards[0] if _safe(c) and all(any(skey(c) == skey(d) for d in g) for g in guards[1:])] \
            if guards else []
        return guards, common, {skey(c) for c in common}

    def successors(self) -> None:
        """`successors(s)`: safe conjuncts every action shares (the process has not crashed)
        are tested once; then one function per program-counter value of each thread, found
        through a table indexed by that counter, so a state runs only the guards of the
        actions its threads are at."""
        system = self.system
        guards, common, common_keys = self._shared_conjuncts()
        facts: Facts = {}
        body = ["def successors(s):"]
        if common:
            src, facts = self.gen.conj(common, {})
            body.append(f"    if not ({src}): return []")
        body += ["    out = []", "    add = out.append"]
        groups, rest = _dispatch(system)
        order = []
        for slot, by_value in groups:
            off = self.packing.offset[slot] if self.packing else 0
            pos = self.packing.position[slot] if self.packing else slot
            body.append(f"    v = s[{pos}]")
            branches = []
            for value, ks in sorted(by_value.items()):
                self.lines, outer = [], self.lines
                done = common_keys | {_eq_key(system, slot, value)}
                self._group(ks, guards, done, assume(_eq(system, slot, value), True, facts), "")
                self.lines, lines = outer, self.lines
                branches.append((value + off, lines or ["pass"]))
            body += _search_tree(branches, "    ")
            order.append([k for ks in by_value.values() for k in ks])
        if rest:
            self.lines, outer = body, self.lines
            for k in rest:
                self._action(k, [c for c in guards[k] if skey(c) not in common_keys], facts, "    ")
            self.lines, body = outer, self.lines
            order.append(rest)
        if not _in_order(order):
            body.append("    out.sort(key=_first)  # action order, as without dispatch: traces stay the same")
        body.append("    return out")
        self.lines += body

    def lazy_successors(self, env: dict) -> Callable[[tuple], list]:
        """The same function as `successors()` writes, but each dispatch branch (one thread at
        one program counter) is generated and compiled the first time a state reaches it: for
        callers that step few states of many systems (the parametric engine's instances).
        The branches run in the same order and each is the code `successors()` would inline,
        so the result, its order and any error raised are the same."""
        assert self.packing is None, "lazy successors are over tuples"
        system = self.system
        guards, common, common_keys = self._shared_conjuncts()
        facts: Facts = {}
        head = ["def _common(s): return True"]
        if common:
            src, facts = self.gen.conj(common, {})
            head = [f"def _common(s): return {src}"]
        groups, rest = _dispatch(system)
        order = [[k for ks in by_value.values() for k in ks] for _, by_value in groups] + ([rest] if rest else [])
        if rest:
            self.lines = ["def _rest(s, out):", "    add = out.append"]
            for k in rest:
                self._action(k, [c for c in guards[k] if skey(c) not in common_keys], facts, "    ")
            head += self.lines
        self._exec(head, env)
        common_ok, rest_run = env["_common"], env.get("_rest")
        # value -> its branch, once compiled; and the one thread whose actions the slot dispatches
        dispatch = [(slot, by_value, {}, _only_thread(system, by_value)) for slot, by_value in groups]
        keep_order = not _in_order(order)

        def branch(slot: int, by_value: dict, value: int):
            self.lines = ["def _branch(s, out):", "    add = out.append"]
            done = common_keys | {_eq_key(system, slot, value)}
            self._group(by_value[value], guards, done, assume(_eq(system, slot, value), True, facts), "    ")
            return self._exec(self.lines, env)["_branch"]

        def successors(s, skip=()):
            """`skip`: threads whose steps are not wanted (the caller knows them to be the
            images of another thread's; actions not dispatched by one thread still run)."""
            if not common_ok(s):
                return []
            out: list = []
            for slot, by_value, compiled, thread in dispatch:
                if thread in skip:
                    continue
                v = s[slot]
                f = compiled.get(v)
                if f is None:
                    if v not in by_value:
                        continue
                    f = compiled[v] = branch(slot, by_value, v)
                f(s, out)
            if rest_run is not None:
                rest_run(s, out)
            if keep_order:
                out.sort(key=_first_of)
            return out
        return successors

    def _exec(self, lines: list[str], env: dict) -> dict:
        try:
            exec(compile("\n".join(lines) + "\n", f"<compiled {self.system.name}>", "exec"), env)
        finally:
            clear_keys()
        for base, positions in self.gen.tables.items():
            env[f"_pos{base}"] = positions
        return env

    def _group(self, ks: list[int], guards: list[list[Expr]], done: set, facts: Facts, indent: str) -> None:
        """The actions `ks` of one dispatch branch: safe conjuncts they all share are tested
        once, and subexpressions they repeat (that cannot raise) are computed once."""
        rests = [[c for c in guards[k] if skey(c) not in done] for k in ks]
        shared: list[Expr] = []
        if len(ks) > 1:
            shared = [c for c in rests[0] if _safe(c) and all(any(skey(c) == skey(d) for d in r) for r in rests[1:])]
        if shared:
            src, facts = self.gen.conj(shared, facts)
            self.lines.append(f"{indent}if {src}:")
            indent += "    "
            keys = {skey(c) for c in shared}
            rests = [[c for c in r if skey(c) not in keys] for r in rests]
        # A condition several guards test (an outcome's guard is often the negation of the
        # ones before it) is evaluated where first needed and remembered in a local.
        self.gen.lazy = {}
        for key in _repeated_conditions(rests):
            self.gen.lazy[key] = f"_b{len(self.gen.lazy)}"
        if self.gen.lazy:
            self.lines.append(f"{indent}{' = '.join(self.gen.lazy.values())} = None")
        # Outcomes of one step exclude each other: an elif chain stops at the one that holds,
        # and a one-conjunct guard that failed is known false in the branches after it.
        run: list[list[Expr]] = []
        known = facts
        first = True
        for k, rest in zip(ks, rests):
            chained = bool(run) and bool(rest) and all(_exclusive(g, rest, facts) for g in run)
            if not chained:
                known = facts
            if _refuted(rest, known):
                continue      # never enabled here
            if first and rest and skey(rest[0]) in self.gen.lazy:
                # Evaluated first anyway: compute it now, and read the local everywhere.
                name = self.gen.lazy.pop(skey(rest[0]))
                self.lines.append(f"{indent}{name} = {self.gen.cond(rest[0], facts)}")
                self.gen.eager[skey(rest[0])] = name
            first = False
            self._action(k, rest, known, indent, "elif" if chained else "if")
            run = run + [rest] if chained else ([rest] if rest else [])
            undecided = [c for c in rest if decide(c, known) is None]
            if len(undecided) == 1:
                known = assume(undecided[0], False, known)
            elif undecided:   # the conjunction failed: a later `not (a and b)` is known true
                known = dict(known)
                known[("cond", ("and",) + tuple(skey(c) for c in undecided))] = False
        self.gen.eager = {}
        self.gen.lazy = {}

    def _action(self, k: int, guard: list[Expr], facts: Facts, indent: str, keyword: str = "if") -> None:
        action: Action = self.system.actions[k]
        lines, gen = self.lines, self.gen
        if guard:
            src, facts = gen.conj(guard, facts)
            lines.append(f"{indent}{keyword} {src}:")
            indent += "    "
        packed = self.packing is not None
        lines.append(f"{indent}n = {'bytearray(s)' if packed else 'list(s)'}")
        # Subexpressions the updates repeat (a fresh thread-state slot, say) are computed
        # once; only ones that cannot raise, so errors still surface in the reference's order.
        exprs = [e for u in action.updates for e in (u.value, _linear(u.target.index, facts)[1])]
        cached = []
        for key, e in _repeated(exprs, facts):
            name = f"_c{len(gen.cache)}"
            lines.append(f"{indent}{name} = {gen.val(e, facts)}")
            gen.cache[key] = name
            cached.append(key)
        # Simultaneous assignment: every index and value reads the pre-state `s`. Those that
        # may raise are computed first, in update order, as the reference does; the rest
        # are written directly.
        later = []
        for j, upd in enumerate(action.updates):
            var = upd.target.var
            dom = var.domain
            target = gen.position(var, upd.target.index, facts)
            if not (isinstance(upd.target.index, Const) or total(upd.target.index, facts)
                    and in_range(upd.target.index, var.length, facts)):
                lines.append(f"{indent}_i{j} = {target}")
                target = f"_i{j}"
                facts = _checked_index(upd.target.index, var.length, facts)
            r = value_range(upd.value, facts)
            checked = r is None or r[0] < dom.lo or r[1] > dom.hi
            off = self.packing.offset[var.base] if packed else 0
            value = gen.val(upd.value, facts)
            if checked or not total(upd.value, facts):
                lines.append(f"{indent}_v{j} = {value}")
                value = f"_v{j}"
            if checked:
                later.append(f"{indent}if not {dom.lo} <= {value} <= {dom.hi}: "
                             f"raise BoundExceeded({k}, {var.name!r}, {value})")
            later.append(f"{indent}n[{target}] = {value}{f' + {off}' if off else ''}")
        lines += later
        lines.append(f"{indent}add(({k}, {'bytes(n)' if packed else 'tuple(n)'}))")
        for key in cached:
            del gen.cache[key]

    # ----- properties --------------------------------------------------------------------------
    def properties(self) -> None:
        system, lines, gen = self.system, self.lines, self.gen
        lines.append("def invariants(s):")
        lines.append("    bad = []")
        invariants = [(i, p) for i, p in enumerate(system.properties) if isinstance(p, Invariant)]
        for i, p in invariants:
            lines.append(f"    if not ({gen.cond(p.holds, {})}): bad.append({i})")
        lines.append("    return bad")
        for i, p in invariants:
            lines.append(f"def holds_{i}(s): return bool({gen.cond(p.holds, {})})")
        prop_index = {p.name: i for i, p in enumerate(system.properties)}
        self.checked = []
        for k, action in enumerate(system.actions):
            tests = [(prop_index[c.prop], c) for c in action.checks if c.prop in prop_index]
            if tests:
                self.checked.append(k)
                lines.append(f"def check_{k}(s, n):")
                lines.append("    bad = []")
                for i, check in tests:
                    lines.append(f"    if not ({gen.cond(check.holds, {})}): bad.append({i})")
                lines.append("    return bad")
        lines.append("def action_checks(k, s, n):")
        lines.append("    f = _checks.get(k)")
        lines.append("    return f(s, n) if f is not None else []")
        for t, fin in enumerate(system.finished):
            lines.append(f"def finished_{t}(s): return {gen.cond(fin, {})}")
        lines.append(f"def halted(s): return {gen.cond(system.halted, {})}")


def _only_thread(system: System, by_value: dict[int, list[int]]) -> int | None:
    """The thread all these actions belong to, or None (several, or the environment's)."""
    threads = {system.actions[k].thread for ks in by_value.values() for k in ks}
    return threads.pop() if len(threads) == 1 else None


def _var_of(system: System, slot: int):
    for v in system.variables:
        if v.base <= slot < v.base + v.length:
            return v
    raise IndexError(slot)


def _eq(system: System, slot: int, value: int) -> Expr:
    v = _var_of(system, slot)
    return Op("==", (Read(v, Const(slot - v.base)), Const(value)))


def _size(e: Expr) -> int:
    if isinstance(e, (Const,)):
        return 1
    if isinstance(e, Read):
        return 1 + _size(e.index)
    if isinstance(e, Ite):
        return 1 + _size(e.cond) + _size(e.then) + _size(e.other)
    return 1 + sum(_size(a) for a in e.args)


def _repeated(exprs: list[Expr], facts: Facts) -> list[tuple[tuple, Expr]]:
    """Subexpressions worth computing once: arithmetic, conditionals and computed-index
    reads that occur more than once, outermost first found, innermost first returned (so
    a definition can use the ones before it). Reads of primed state are never shared."""
    counts: dict[tuple, int] = {}
    nodes: dict[tuple, Expr] = {}

    def count(e: Expr) -> None:
        if isinstance(e, Const) or (isinstance(e, Read) and isinstance(e.index, Const)):
            return
        if isinstance(e, Read) and e.primed:
            return
        k = skey(e)
        counts[k] = counts.get(k, 0) + 1
        nodes[k] = e
        for c in _children(e):
            count(c)

    for e in exprs:
        count(e)
    chosen: dict[tuple, Expr] = {}

    def pick(e: Expr) -> None:
        if isinstance(e, Const) or (isinstance(e, Read) and isinstance(e.index, Const)):
            return
        k = skey(e)
        if counts.get(k, 0) >= 2 and total(e, facts) and not _primed(e) and not _is_bool(e):
            chosen[k] = e
            return
        for c in _children(e):
            pick(c)

    for e in exprs:
        pick(e)
    return sorted(chosen.items(), key=lambda kv: _size(kv[1]))


def _search_tree(branches: list[tuple[int, list[str]]], indent: str) -> list[str]:
    """Nested ifs on `v` (sorted branch values) that reach any branch in log2 comparisons."""
    if len(branches) <= 2:
        out = []
        for i, (value, lines) in enumerate(branches):
            out.append(f"{indent}{'if' if i == 0 else 'elif'} v == {value}:")
            out += [indent + "    " + line for line in lines]
        return out
    mid = len(branches) // 2
    return ([f"{indent}if v < {branches[mid][0]}:"] + _search_tree(branches[:mid], indent + "    ")
            + [f"{indent}else:"] + _search_tree(branches[mid:], indent + "    "))


def _refuted(guard: list[Expr], facts: Facts) -> bool:
    """Whether the facts, with the conjuncts before each, make some conjunct false."""
    for c in guard:
        if decide(c, facts) is False:
            return True
        facts = assume(c, True, facts)
    return False


def _exclusive(a: list[Expr], b: list[Expr], facts: Facts) -> bool:
    """Whether two guards (conjunct lists) can never hold together: one negates a conjunct
    (or a conjunction of conjuncts) of the other, or facts from one refute the other."""
    for x, y in ((a, b), (b, a)):
        keys = {skey(c) for c in x}
        for c in y:
            if isinstance(c, Op) and c.name == "not":
                inner = c.args[0]
                if skey(inner) in keys or (isinstance(inner, Op) and inner.name == "and"
                                           and all(skey(p) in keys for p in inner.args)):
                    return True
    known = facts
    for c in a:
        known = assume(c, True, known)
    return any(decide(c, known) is False for c in b)


def _repeated_conditions(guards: list[list[Expr]]) -> list[tuple]:
    """Conditions (conjuncts, or what a negated conjunct negates) that more than one guard
    tests, except plain comparisons of fixed slots, which cost as much as a lookup."""
    counts: dict[tuple, int] = {}
    for guard in guards:
        for c in guard:
            inner = c.args[0] if isinstance(c, Op) and c.name == "not" else c
            if not _cheap(inner):
                k = skey(inner)
                counts[k] = counts.get(k, 0) + 1
    return [k for k, n in counts.items() if n >= 2]


def _cheap(e: Expr) -> bool:
    if isinstance(e, Const) or (isinstance(e, Read) and isinstance(e.index, Const)):
        return True
    return isinstance(e, Op) and e.name in CMP and all(
        isinstance(a, Const) or (isinstance(a, Read) and isinstance(a.index, Const)) for a in e.args)


def _children(e: Expr) -> tuple:
    if isinstance(e, Read):
        return (e.index,)
    if isinstance(e, Ite):
        return (e.cond, e.then, e.other)
    if isinstance(e, Op):
        return e.args
    return ()


def _primed(e: Expr) -> bool:
    return (isinstance(e, Read) and e.primed) or any(_primed(c) for c in _children(e))


def _is_bool(e: Expr) -> bool:
    return isinstance(e, Op) and (e.name in CMP or e.name in ("and", "or", "not"))


def _eq_key(system: System, slot: int, value: int) -> tuple:
    return skey(_eq(system, slot, value))


def _in_order(groups: list[list[int]]) -> bool:
    """Whether emitting the groups one after another (at most one branch of each runs)
    already lists actions in index order."""
    prev = -1
    for ks in groups:
        if min(ks) < prev:
            return False
        prev = max(ks)
    return True
