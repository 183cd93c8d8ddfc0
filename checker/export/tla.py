"""TLA+ export: the IR as a TLA+ module (and a TLC config) for a cross-check with TLC.

Arrays are functions over 0..n-1; each action is one operator (guard, then one primed
equation per variable, EXCEPT for array elements, so writes stay simultaneous); Next is
their disjunction plus stuttering where stopping is allowed, so TLC's own deadlock check is
the IR's NoDeadlock. Fairness is weak per thread, as in the explicit engine. IR values are
integers (booleans 0/1), so every expression is written either as an integer or as a
formula, converting where the IR mixes them, as checker/explicit/semantics does for Python.
"""
from __future__ import annotations

import re

from interpcheck.model.ir import (ActionProperty, Const, Expr, Invariant, Ite, LeadsTo, NoDeadlock, NoHang, Op,
                                  Read, Sometimes, System, Var, all_of, any_of)

from .names import Names

_KEYWORDS = set("""ASSUME ASSUMPTION AXIOM BOOLEAN CASE CHOOSE CONSTANT CONSTANTS COROLLARY DOMAIN ELSE ENABLED
EXCEPT EXTENDS FALSE IF IN INSTANCE LET LOCAL MODULE OTHER SF_ STRING SUBSET THEN THEOREM TRUE UNCHANGED UNION
VARIABLE VARIABLES WF_ WITH LAMBDA RECURSIVE Int Nat Init Next Spec vars TypeOK Done Fairness""".split())
_OR = " \\/ "
_ARITH = {"+": "+", "-": "-", "*": "*"}
_COMPARE = {"==": "=", "!=": "#", "<": "<", "<=": "=<", ">": ">", ">=": ">="}


def module_name(system: System) -> str:
    """The module's name, which is also the file name TLC expects (`<name>.tla`)."""
    return _identifier(system.name or "system")


def to_tla(system: System) -> str:
    return _Module(system).text()


def tla_config(system: System) -> str:
    """A TLC config checking what the module exports: invariants, action properties,
    leads-to, and witnesses as invariants whose violation is the witness."""
    m = _Module(system)
    lines = ["SPECIFICATION Spec", "INVARIANT TypeOK"]
    for p in system.properties:
        if isinstance(p, (Invariant, Sometimes)):
            lines.append(f"INVARIANT {m.prop_names[p.name]}")
        elif isinstance(p, (ActionProperty, LeadsTo)):
            lines.append(f"PROPERTY {m.prop_names[p.name]}")
    if not any(isinstance(p, NoDeadlock) for p in system.properties):
        lines.append("CHECK_DEADLOCK FALSE")
    return "\n".join(lines) + "\n"


def _identifier(text: str) -> str:
    name = re.sub(r"\W", "_", text)
    return name if re.search(r"[A-Za-z]", name) else "v_" + name


class _Module:
    """Holds the name table; writes expressions, actions and properties."""

    def __init__(self, system: System):
        self.system = system
        self.fresh = Names(_KEYWORDS, _identifier).fresh
        self.names = {v: self.fresh(v.name) for v in system.variables}
        self.actions = [self.fresh(f"{self.who(a.thread)}_{a.name}") for a in system.actions]
        self.prop_names = {p.name: self.fresh(("never_" if isinstance(p, Sometimes) else "") + p.name)
                           for p in system.properties}
        self.bound = self.fresh("n")  # the bound variable of array literals; no state variable's name

    def who(self, thread: int | None) -> str:
        return "env" if thread is None else self.system.threads[thread]

    # expressions: `num` writes an integer, `formula` a truth value ---------------------
    def read(self, e: Read) -> str:
        name = self.names[e.var] + ("'" if e.primed else "")
        return name if e.var.scalar else f"{name}[{self.num(e.index)}]"

    def num(self, e: Expr) -> str:
        if isinstance(e, Const):
            return str(e.value) if e.value >= 0 else f"(-{-e.value})"
        if isinstance(e, Read):
            return self.read(e)
        if isinstance(e, Ite):
            return f"(IF {self.formula(e.cond)} THEN {self.num(e.then)} ELSE {self.num(e.other)})"
        if isinstance(e, Op) and e.name in _ARITH:
            return f"({self.num(e.args[0])} {_ARITH[e.name]} {self.num(e.args[1])})"
        if isinstance(e, Op) and e.name == "neg":
            return f"(-{self.num(e.args[0])})"
        return f"(IF {self.formula(e)} THEN 1 ELSE 0)"

    def formula(self, e: Expr) -> str:
        if isinstance(e, Const):
            return "TRUE" if e.value else "FALSE"
        if isinstance(e, Op) and e.name in _COMPARE:
            return f"({self.num(e.args[0])} {_COMPARE[e.name]} {self.num(e.args[1])})"
        if isinstance(e, Op) and e.name in ("and", "or"):
            joint = " /\\ " if e.name == "and" else " \\/ "
            return "(" + joint.join(self.formula(a) for a in e.args) + ")"
        if isinstance(e, Op) and e.name == "not":
            return f"~{self.formula(e.args[0])}"
        if isinstance(e, Ite):
            return f"(IF {self.formula(e.cond)} THEN {self.formula(e.then)} ELSE {self.formula(e.other)})"
        return f"({self.num(e)} # 0)"

    # module parts ----------------------------------------------------------------------
    def values(self, var: Var, state: tuple[int, ...]) -> str:
        cells = state[var.base:var.base + var.length]
        if var.scalar:
            return str(cells[0])
        n = self.bound
        if len(set(cells)) == 1:
            return f"[{n} \\in 0..{var.length - 1} |-> {cells[0]}]"
        return f"[{n} \\in 0..{var.length - 1} |-> <<{', '.join(map(str, cells))}>>[{n} + 1]]"

    def init(self) -> list[str]:
        states = []
        for state in self.system.initial:
            states.append(" /\\ ".join(f"{self.names[v]} = {self.values(v, state)}" for v in self.system.variables))
        if len(states) == 1:
            return [f"Init == {states[0]}"]
        return ["Init =="] + [f"    \\/ ({s})" for s in states]

    def type_ok(self) -> str:
        parts = []
        for v in self.system.variables:
            dom = f"{v.domain.lo}..{v.domain.hi}"
            parts.append(f"{self.names[v]} \\in " + (dom if v.scalar else f"[0..{v.length - 1} -> {dom}]"))
        return "TypeOK == " + " /\\ ".join(parts)

    def action(self, k: int) -> list[str]:
        a = self.system.actions[k]
        note = f" ({a.note})" if a.note else ""
        lines = [f"\\* {self.who(a.thread)}: {a.call}  [{a.name}]{note}".replace("\n", " "),
                 f"{self.actions[k]} ==", f"    /\\ {self.formula(a.guard)}"]
        written: dict[Var, list] = {}
        for upd in a.updates:
            written.setdefault(upd.target.var, []).append(upd)
        for var, updates in written.items():
            name = self.names[var]
            if var.scalar:
                lines.append(f"    /\\ {name}' = {self.num(updates[-1].value)}")
            else:
                parts = ", ".join(f"![{self.num(u.target.index)}] = {self.num(u.value)}" for u in updates)
                lines.append(f"    /\\ {name}' = [{name} EXCEPT {parts}]")
        kept = [self.names[v] for v in self.system.variables if v not in written]
        if kept:
            lines.append(f"    /\\ UNCHANGED <<{', '.join(kept)}>>")
        return lines

    def properties(self) -> list[str]:
        lines = []
        for p in self.system.properties:
            name = self.prop_names[p.name]
            doc = f"\\* {p.name}: {p.doc}".replace("\n", " ") if p.doc else f"\\* {p.name}"
            if isinstance(p, Invariant):
                lines += [doc, f"{name} == {self.formula(p.holds)}"]
            elif isinstance(p, Sometimes):
                lines += [doc + "  (witness: TLC's violation of this invariant is the witness)",
                          f"{name} == ~{self.formula(p.expr)}"]
            elif isinstance(p, ActionProperty):
                checks = [f"({self.actions[k]} => {self.formula(c.holds)})"
                          for k, a in enumerate(self.system.actions) for c in a.checks if c.prop == p.name]
                body = " /\\ ".join(checks) if checks else "TRUE"
                lines += [doc, f"{name} == [][{body}]_vars"]
            elif isinstance(p, LeadsTo):
                lines += [doc, f"{name} == {self.formula(p.trigger)} ~> {self.formula(p.goal)}"]
            elif isinstance(p, NoDeadlock):
                lines.append(doc + "  (TLC's deadlock check: Next stutters only where stopping is allowed)")
            elif isinstance(p, NoHang):
                lines.append(doc + "  (not exported: 'can never move again' is not a TLA+ formula TLC checks)")
        return lines

    def text(self) -> str:
        s = self.system
        variables = [self.names[v] for v in s.variables]
        may_stop = any_of(all_of(*s.finished), s.halted)
        fairness = []
        for t, thread in enumerate(s.threads):
            mine = [self.actions[k] for k, a in enumerate(s.actions) if a.thread == t]
            if mine:
                fairness.append(f"WF_vars({_OR.join(mine)})")
        lines = [f"---- MODULE {module_name(s)} ----",
                 f"\\* interpcheck model {s.name}, exported to TLA+: {len(s.actions)} actions, "
                 f"threads {' '.join(s.threads)}.",
                 "EXTENDS Integers", "", f"VARIABLES {', '.join(variables)}", "",
                 f"vars == <<{', '.join(variables)}>>", "", self.type_ok(), ""] + self.init() + [""]
        for k in range(len(s.actions)):
            lines += self.action(k) + [""]
        lines += ["\\* stopping is allowed once every thread finished or the system halted",
                  f"Done == {self.formula(may_stop)}", "",
                  "Next ==", *[f"    \\/ {name}" for name in self.actions],
                  "    \\/ (Done /\\ UNCHANGED vars)", "",
                  "Fairness == " + (" /\\ ".join(fairness) if fairness else "TRUE"), "",
                  "Spec == Init /\\ [][Next]_vars /\\ Fairness", ""]
        lines += self.properties() + ["", "===="]
        return "\n".join(lines) + "\n"
