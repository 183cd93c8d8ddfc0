"""Promela export: the IR as one SPIN process whose `do` loop takes each action in one d_step.

One IR state is one SPIN state. Every IR variable is a Promela global; the process sits at
its loop head between actions and every action is a single d_step (guard first, then the
simultaneous updates), so SPIN stores exactly the IR's reachable states. The one extra
state is the start state when the initial values cannot be global initializers (several
initial states, or an array whose elements start different): a d_step before the loop
writes them, and `PromelaModel.extra_states` is then 1. Translate with `spin -o2 -a`: by
default SPIN drops write-only variables from the state vector and so merges IR states.

Properties are chosen with cpp macros (`spin -o2 -a -DCHECK_<name> ... model.pml`), one or
several at a time. Each is an assertion whose text names it through a constant-0 global
(`invariant_<name>`, `action_<name>`, `witness_<name>`, `deadlock_<name>`,
`bound_<variable>`). Action checks run inside the action's d_step, on the pre-state with
primed reads rewritten to the values the updates write. Invariants and witnesses live in a
second process, an observer whose branches are enabled only where they fail, so they add
no state and never hide a deadlock; the deadlock check is the action loop's `else`, which
looks only at the actions. Both loops are end labels (SPIN's invalid end state is replaced
by that check), and pan runs with -c0 so one search reports every violated property.
Nothing is `hidden` (pan -DBFS refuses it): the constants never change and temporaries are
reset to 0 inside their d_step, so neither splits a state.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from interpcheck.model.ir import (Action, ActionProperty, Assign, Const, Expr, Invariant, Ite, NoDeadlock,
                                  Op, Read, Sometimes, System, Var, all_of, any_of, walk)
from interpcheck.model.ir import value_range

from .names import Names

STEP_MARK = "IC_STEP"   # printf'd by every action branch: a replayed trail names the actions taken
INIT_MARK = "IC_INIT"   # printf'd by the initial d_step when there are several initial states

_PROMELA_WORDS = set("""
active assert atomic bit bool break byte chan d_step D_proctype do else empty enabled eval false fi
for full get_priority goto hidden if in init inline int len local ltl mtype nempty never nfull notrace
np_ od of pc_value print printf printm priority proctype provided run select set_priority short show
skip timeout trace true typedef unless unsigned xr xs c_code c_decl c_expr c_state c_track always
eventually until weak strong release implies equivalent stronguntil weakuntil""".split())
_C_WORDS = set("""
auto break case char const continue default do double else enum extern float for goto if inline int
long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while now""".split())

_UNSUPPORTED = {
    "NoHang": "a hang ('this thread can never move again') is a branching-time property of the "
              "state graph; no assertion or never claim states it",
    "LeadsTo": "leads-to is assumed under weak fairness per thread, and the exported model runs "
               "every thread in one SPIN process, so pan -f has no threads to be fair to",
}

_BINARY = {"+": "+", "-": "-", "*": "*", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">",
           ">=": ">=", "and": "&&", "or": "||"}


@dataclass(frozen=True)
class PromelaModel:
    """The Promela text and what a runner needs to read SPIN's answers back."""
    text: str
    macros: dict[str, str]            # property name -> cpp macro that enables its check
    flags: dict[str, tuple[str, str]]  # name constant -> ("property", name) or ("bound", variable)
    extra_states: int                 # SPIN states that are not IR states (0 or 1)
    unsupported: dict[str, str] = field(default_factory=dict)  # property name -> why not exported


def to_promela(system: System) -> str:
    """The Promela model of `system` (see `translate` for what else the runner needs)."""
    return translate(system).text


def translate(system: System) -> PromelaModel:
    return _Writer(system).model()


def promela_type(lo: int, hi: int) -> str:
    """The smallest Promela integer type holding lo..hi."""
    if 0 <= lo and hi <= 1:
        return "bit"
    if 0 <= lo and hi <= 255:
        return "byte"
    if -32768 <= lo and hi <= 32767:
        return "short"
    return "int"


def _identifier(text: str) -> str:
    name = re.sub(r"\W", "_", text)
    return name if re.match(r"[A-Za-z]", name) else "v_" + name


def _comment(text: str) -> str:
    return text.replace("*/", "* /").replace("\n", " ")


def _post_value(read: Read, updates: tuple[Assign, ...]) -> Expr:
    """The value a primed read has after `updates`, as an expression over the pre-state."""
    index = _unprime(read.index, updates)
    value: Expr = Read(read.var, index)
    for upd in updates:  # a later write to the same slot wins, as in compile.py
        if upd.target.var is not read.var:
            continue
        target = upd.target.index
        if _same(target, index):
            value = upd.value
        elif not (isinstance(target, Const) and isinstance(index, Const)):
            value = Ite(Op("==", (target, index)), upd.value, value)
    return value


def _same(a: Expr, b: Expr) -> bool:
    """Structurally equal, hence equal in every state (a sufficient test, not a complete one)."""
    if isinstance(a, Const) and isinstance(b, Const):
        return a.value == b.value
    if isinstance(a, Read) and isinstance(b, Read):
        return a.var is b.var and a.primed == b.primed and _same(a.index, b.index)
    if isinstance(a, Op) and isinstance(b, Op):
        return (a.name == b.name and len(a.args) == len(b.args)
                and all(_same(x, y) for x, y in zip(a.args, b.args)))
    if isinstance(a, Ite) and isinstance(b, Ite):
        return _same(a.cond, b.cond) and _same(a.then, b.then) and _same(a.other, b.other)
    return False


def _unprime(expr: Expr, updates: tuple[Assign, ...]) -> Expr:
    """`expr` with every primed read replaced by its post-state value: an action check
    becomes a pre-state predicate, evaluated before the updates, so no pre-values are copied."""
    if isinstance(expr, Read):
        if expr.primed:
            return _post_value(expr, updates)
        return Read(expr.var, _unprime(expr.index, updates))
    if isinstance(expr, Op):
        return Op(expr.name, tuple(_unprime(a, updates) for a in expr.args))
    if isinstance(expr, Ite):
        return Ite(_unprime(expr.cond, updates), _unprime(expr.then, updates), _unprime(expr.other, updates))
    return expr


def _vars_read(expr: Expr) -> set[Var]:
    return {node.var for node in walk(expr) if isinstance(node, Read)}


class _Writer:
    """Builds the text; holds the name table so every identifier is allocated once."""

    def __init__(self, system: System):
        self.system = system
        self.fresh = Names(_PROMELA_WORDS | _C_WORDS, _identifier).fresh
        # "ic_" is the exporter's own prefix (temporaries ic_v<j>, ic_i<j>)
        self.names = {v: self.fresh(("v_" if v.name.startswith("ic_") else "") + v.name) for v in system.variables}
        self.macros: dict[str, str] = {}
        self.unsupported: dict[str, str] = {}
        self.flags: dict[str, tuple[str, str]] = {}
        self.flag_of: dict[str, str] = {}       # property name -> its name constant
        self.bound_flag: dict[Var, str] = {}    # variable -> its bound's name constant
        self.temps = 0
        for p in system.properties:
            if isinstance(p, (Invariant, ActionProperty, NoDeadlock, Sometimes)):
                self.macros[p.name] = self.fresh("CHECK_" + p.name)
            else:
                self.unsupported[p.name] = _UNSUPPORTED[type(p).__name__]
        for p in system.properties:
            kind = {Invariant: "invariant", ActionProperty: "action", Sometimes: "witness",
                    NoDeadlock: "deadlock"}.get(type(p))
            if kind:
                self.flag_of[p.name] = self.fresh(f"{kind}_{p.name}")
                self.flags[self.flag_of[p.name]] = ("property", p.name)

    # expressions -----------------------------------------------------------------------
    def expr(self, e: Expr) -> str:
        if isinstance(e, Const):
            return str(e.value) if e.value >= 0 else f"({e.value})"
        if isinstance(e, Read):
            if e.primed:
                raise ValueError("a primed read outside an action check")
            name = self.names[e.var]
            if e.var.scalar:
                return name
            if isinstance(e.index, Const) and not 0 <= e.index.value < e.var.length:
                raise IndexError(f"{e.var.name}[{e.index.value}] out of range")
            return f"{name}[{self.expr(e.index)}]"
        if isinstance(e, Ite):
            return f"({self.expr(e.cond)} -> {self.expr(e.then)} : {self.expr(e.other)})"
        if isinstance(e, Op):
            if e.name == "not":
                return f"(!{self.expr(e.args[0])})"
            if e.name == "neg":
                return f"(-{self.expr(e.args[0])})"
            return "(" + f" {_BINARY[e.name]} ".join(self.expr(a) for a in e.args) + ")"
        raise TypeError(f"unknown node {e!r}")

    # declarations ----------------------------------------------------------------------
    def declarations(self, init_step: bool) -> list[str]:
        lines = ["/* state variables: one global per IR variable */"]
        init = self.system.initial[0]
        for v in self.system.variables:
            typ = promela_type(v.domain.lo, v.domain.hi)
            shape = "" if v.scalar else f"[{v.length}]"
            value = "" if init_step else f" = {init[v.base]}"
            notes = []
            if v.domain.labels:
                notes.append(" ".join(f"{lab}={k + v.domain.lo}" for k, lab in enumerate(v.domain.labels)))
            else:
                notes.append(f"{v.domain.lo}..{v.domain.hi}")
            if v.labels:
                notes.append("elements " + " ".join(v.labels))
            lines.append(f"{typ} {self.names[v]}{shape}{value};  /* {_comment('; '.join(notes))} */")
        return lines

    def needs_init_step(self) -> bool:
        if len(self.system.initial) != 1:
            return True
        init = self.system.initial[0]
        return any(len(set(init[v.base:v.base + v.length])) > 1 for v in self.system.variables)

    def init_block(self, ready: str) -> list[str]:
        """The d_step(s) writing the initial values, when initializers cannot."""
        blocks = []
        for i, state in enumerate(self.system.initial):
            writes = []
            for v in self.system.variables:
                for k in range(v.length):
                    target = self.names[v] if v.scalar else f"{self.names[v]}[{k}]"
                    writes.append(f"{target} = {state[v.base + k]}")
            blocks.append(f'd_step {{ printf("{INIT_MARK} {i}\\n"); ' + "; ".join(writes + [f"{ready} = 1"]) + " }")
        if len(blocks) == 1:
            return ["    " + blocks[0]]
        return ["    if"] + [f"    :: {b}" for b in blocks] + ["    fi;"]

    # actions ---------------------------------------------------------------------------
    def action(self, k: int, action: Action) -> list[str]:
        """One d_step: guard, action mark, checks and bounds on the pre-state, then updates."""
        who = "environment" if action.thread is None else self.system.threads[action.thread]
        note = f" ({action.note})" if action.note else ""
        lines = [f"    :: d_step {{  /* {_comment(f'{who}: {action.call}  [{action.name}]{note}')} */",
                 f"        {self.expr(action.guard)} ->",
                 f'        printf("{STEP_MARK} {k}\\n");']
        for check in action.checks:
            if check.prop in self.flag_of:  # primed reads become post-values: no pre-state copy
                holds = self.expr(_unprime(check.holds, action.updates))
                lines += [f"#ifdef {self.macros[check.prop]}",
                          f"        assert({self.flag_of[check.prop]} || {holds});", "#endif"]
        lines += self.updates(action.updates)
        lines.append("       }")
        return lines

    def updates(self, updates: tuple[Assign, ...]) -> list[str]:
        """Simultaneous assignment. A value or index reading a variable an earlier update
        wrote is computed into a temporary first; a value that may leave its domain is
        asserted in range on the pre-state (assigning would silently truncate it)."""
        pre, body, written, temps = [], [], set(), []
        for j, upd in enumerate(updates):
            var, dom = upd.target.var, upd.target.var.domain
            stale = bool(written & (_vars_read(upd.value) | _vars_read(upd.target.index)))
            r = value_range(upd.value)
            value = self.expr(upd.value)
            if r is None or r[0] < dom.lo or r[1] > dom.hi:
                pre.append(f"assert({self.bound(var)} || ({dom.lo} <= {value} && {value} <= {dom.hi}))")
            target = self.names[var]
            if not var.scalar:
                index = self.expr(upd.target.index)
                if stale and not isinstance(upd.target.index, Const):
                    pre.append(f"ic_i{j} = {index}")
                    temps.append(f"ic_i{j}")
                    index = f"ic_i{j}"
                target = f"{target}[{index}]"
            if stale:
                pre.append(f"ic_v{j} = {value}")
                temps.append(f"ic_v{j}")
                value = f"ic_v{j}"
            body.append(f"{target} = {value}")
            written.add(var)
        self.temps = max([self.temps] + [int(t[4:]) + 1 for t in temps])
        return [f"        {s};" for s in pre + body + [f"{t} = 0" for t in temps]]

    def bound(self, var: Var) -> str:
        if var not in self.bound_flag:
            self.bound_flag[var] = self.fresh(f"bound_{var.name}")
            self.flags[self.bound_flag[var]] = ("bound", var.name)
        return self.bound_flag[var]

    # properties ------------------------------------------------------------------------
    def state_checks(self, ready: str) -> list[str]:
        """The observer's branches, enabled only in a state that decides a property: they
        lead nowhere new. `ready` keeps them off the start state before the initial d_step."""
        lines = []
        for p in self.system.properties:
            if isinstance(p, Invariant):
                fails = p.holds.args[0] if isinstance(p.holds, Op) and p.holds.name == "not" else Op("not", (p.holds,))
                lines += [f"#ifdef {self.macros[p.name]}",
                          f"    :: d_step {{  /* invariant {_comment(p.name)}: {_comment(p.doc)} */",
                          f"        {ready}{self.expr(fails)} -> assert({self.flag_of[p.name]}) }}", "#endif"]
            elif isinstance(p, Sometimes):
                lines += [f"#ifdef {self.macros[p.name]}",
                          f"    :: d_step {{  /* witness {_comment(p.name)}: this assertion failing is the witness */",
                          f"        {ready}{self.expr(p.expr)} -> assert({self.flag_of[p.name]}) }}", "#endif"]
        return lines

    def deadlock(self) -> list[str]:
        """`else`: no action of this process is enabled (the observer's branches do not
        count), so the deadlock check costs no second copy of every guard."""
        lines = []
        for p in self.system.properties:
            if isinstance(p, NoDeadlock):
                may_stop = any_of(all_of(*self.system.finished), self.system.halted)
                lines += [f"#ifdef {self.macros[p.name]}",
                          f"    :: d_step {{  /* {_comment(p.name)}: no action enabled; stopping is allowed only "
                          "once every thread finished or the system halted */",
                          f"        else -> assert({self.flag_of[p.name]} || {self.expr(may_stop)}) }}", "#endif"]
        return lines

    def header(self, init_step: bool) -> list[str]:
        s = self.system
        lines = [f"/* interpcheck model {_comment(s.name)}, exported to Promela.",
                 f"   {len(s.variables)} variables ({s.width} state slots), {len(s.actions)} actions, "
                 f"threads: {_comment(' '.join(s.threads))}.",
                 "   Check properties:  spin -o2 -a -DCHECK_<name> ... model.pml && gcc -O2 -DSAFETY -o pan pan.c",
                 "   && ./pan -c0  (-c0: go on after an error, so every violated property is reported).",
                 "   SPIN stores one state per IR state" +
                 (", plus the start state before the initial d_step." if init_step else "."),
                 "   Properties:"]
        for p in s.properties:
            if p.name in self.macros:
                lines.append(f"     {self.macros[p.name]}  ({type(p).__name__}) {_comment(p.doc)}")
            else:
                lines.append(f"     {_comment(p.name)}: not exported: {self.unsupported[p.name]}")
        lines[-1] += " */"
        return lines

    def model(self) -> PromelaModel:
        s = self.system
        init_step = self.needs_init_step()
        body = []
        for k, action in enumerate(s.actions):
            body += self.action(k, action)
        names = ["/* constant 0: each names its property in SPIN's assertion message */"]
        names += [f"bit {flag} = 0;" for flag in self.flags]
        temps = [f"int ic_v{j} = 0, ic_i{j} = 0;  /* temporaries, 0 between steps */" for j in range(self.temps)]
        proc, observer, ready = self.fresh(s.name or "system"), self.fresh("observer"), self.fresh("initialized")
        if init_step:
            names.append(f"bit {ready} = 0;  /* 0 only in SPIN's start state, before the initial d_step */")
        lines = self.header(init_step) + [""] + self.declarations(init_step) + [""] + names + temps + [""]
        lines += [f"active proctype {proc}() {{"]
        if init_step:
            lines += self.init_block(ready)
        lines += ["end_steps:  /* stopping is no error by itself: the deadlock check says when it is */",
                  "    do  /* each action is one d_step: one SPIN transition per IR transition */"]
        lines += body + self.deadlock() + ["    od", "}", ""]
        lines += [f"active proctype {observer}() {{  /* checks states; its program counter never changes */",
                  "end_checks:", "    do"]
        lines += self.state_checks(f"{ready} && " if init_step else "")
        lines += ["    :: 0  /* keeps the loop well formed */", "    od", "}", ""]
        return PromelaModel("\n".join(lines), dict(self.macros), dict(self.flags),
                            1 if init_step else 0, dict(self.unsupported))
