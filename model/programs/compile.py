"""Compiles a scenario's thread programs against one design into an IR System.

Every C call becomes one IR action per outcome of each of its atomic steps, guarded by the
thread's program counter. `if` costs no step: the branch is folded into the next-pc of the
action before it (reading the values that action writes). `repeat N` is unrolled, so every
call site owns its handle slots. Py_FinalizeEx expands into its phases with the spec's
atexit handlers and object finalizers spliced in on the finalizing thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..designs.api import Api, Design, Site, Steps
from ..designs.lifecycle import MAIN, finalize_phases, join_threads
from ..ir import (TRUE, Action, Builder, Check, Const, Domain, Expr, Invariant, Ite, Read, Sometimes, Symmetry, System,
                  ThreadGroup, all_of, any_of, assign, enum, evaluate, ite, value_range)
from ..vocabulary import (DELETED, GILSTATE, HANDLES, LEAVE, O_LIVE, PREFINAL, T_EXITED, T_RUNNING, Layout,
                          Outcome, Vocabulary, handle_kind, standard_properties)
from .parse import SET, Arg, Call, Cond, Goto, If, Label, ProgramError, Repeat, Return
from .queries import QueryCompiler

KIND_DOMAIN = {"int": Domain(-1, 1)}


@dataclass(frozen=True)
class Finalize:
    """Py_FinalizeEx / Py_EndInterpreter with the programs spliced into their phases."""
    call: Call
    atexit: tuple
    finalizers: tuple
    pending: tuple | None = None     # pending calls the main thread runs in pre-finalization (None: not main)
    exitfuncs: tuple | None = None   # Py_AtExit functions, run after teardown (None: Py_EndInterpreter)
    pending_again: tuple | None = None   # the pending calls' own copy for PEP 788's loop after the guard wait
    unstable: tuple = ()             # PyUnstable_AtExit functions, run in teardown (_PyAtExit_Fini)


@dataclass(frozen=True)
class Pending:
    """A call on the main thread at which the eval breaker runs pending calls first (run_python)."""
    call: Call
    program: tuple


@dataclass(frozen=True)
class Clearing:
    """A call whose PyThreadState_Clear runs the spec's `tstate_clear` destructors (gh-119585)."""
    call: Call
    program: tuple


@dataclass(frozen=True)
class ThreadSpec:
    name: str
    program: tuple
    tstate: str | None = None      # starts with a thread state of this interpreter
    attached: bool = True          # ... attached (holding that interpreter's GIL)
    line: int = 0
    table: str = ""                # the [[thread]] table's name (a `count` makes several threads of one)
    python: str | None = None      # a threading.Thread of main: "joined" (non-daemon) or "daemon"


@dataclass(frozen=True)
class Scenario:
    name: str
    interps: tuple[str, ...]
    threads: tuple[ThreadSpec, ...]
    atexit: tuple = ()
    finalizers: tuple = ()
    locks: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    tstates_per_thread: int = 2
    nesting: int = 3
    max_counter: int = 4
    lines: dict = field(default_factory=dict, compare=False)  # spec key → line, for errors
    queries: tuple[tuple[str, str], ...] = ()                 # (name, predicate): reachability questions
    invariants: tuple[tuple[str, str], ...] = ()              # (name, predicate): user invariants, also lemmas
    pending_calls: tuple = ()     # the function Py_AddPendingCall queues, run by the main thread
    c_atexit: tuple = ()          # the function Py_AtExit registers, run after finalization
    tstate_clear: tuple = ()      # destructors PyThreadState_Clear runs inside PyGILState_Release
    unstable_atexit: tuple = ()   # the function PyUnstable_AtExit registers, run in the interpreter's teardown


@dataclass(frozen=True)
class Branch:
    cond: Cond
    then: object
    other: object


def _expand(stmts: tuple, sc: Scenario, main: bool = False) -> tuple:
    """Unroll `repeat`, copy nodes so each call site is its own object, splice finalization
    and (on the main thread) pending calls."""
    out = []
    for st in stmts:
        if isinstance(st, Repeat):
            for _ in range(st.count):
                out.extend(_expand(st.body, sc, main))
        elif isinstance(st, If):
            subj = st.cond.subject
            cond = replace(st.cond, subject=replace(subj)) if isinstance(subj, Call) else st.cond
            out.append(If(cond, _expand(st.body, sc, main), _expand(st.orelse, sc, main), st.line))
        elif isinstance(st, Call) and st.name == "Py_FinalizeEx":
            inner = _without_finalization_programs(sc)   # a Py_FinalizeEx inside them splices nothing
            pending = _expand(sc.pending_calls, inner) if main and sc.pending_calls else None
            out.append(Finalize(replace(st), _expand(sc.atexit, inner), _expand(sc.finalizers, inner), pending,
                                _expand(sc.c_atexit, inner) if sc.c_atexit else None,
                                _expand(sc.pending_calls, inner) if pending is not None else None,
                                _expand(sc.unstable_atexit, inner)))
        elif isinstance(st, Call) and st.name == "run_python" and main and sc.pending_calls:
            out.append(Pending(replace(st), _expand(sc.pending_calls, sc)))
        elif isinstance(st, Call) and st.name == "PyGILState_Release" and sc.tstate_clear:
            out.append(Clearing(replace(st), _expand(sc.tstate_clear, replace(sc, tstate_clear=()))))
        elif isinstance(st, Call) and st.name == "Py_EndInterpreter":
            out.append(Finalize(replace(st), (), (), unstable=_expand(sc.unstable_atexit,
                                                                      _without_finalization_programs(sc))))
        else:
            out.append(replace(st))
    return tuple(out)


def _without_finalization_programs(sc: Scenario) -> Scenario:
    """The scenario whose finalization splices no programs: what the spliced programs are
    expanded in, so a Py_FinalizeEx written inside one does not splice them again, forever."""
    return replace(sc, atexit=(), finalizers=(), pending_calls=(), c_atexit=(), unstable_atexit=())


def _thread_end(th: ThreadSpec) -> tuple:
    """A Python thread's program is the body of its target: when it ends, threading's bootstrap
    deletes the thread's thread state (the step `python_thread_exit`, model/designs/client.py)."""
    return (Call(None, "python_thread_exit", (), th.line, bare=True),) if th.python else ()


def _walk(stmts: tuple):
    """Every statement, nested ones included."""
    for st in stmts:
        yield st
        if isinstance(st, If):
            yield from _walk(st.body)
            yield from _walk(st.orelse)


def _calls(stmts: tuple):
    """Every call in program order, including calls used as conditions and spliced programs."""
    for st in stmts:
        if isinstance(st, If):
            if isinstance(st.cond.subject, Call):
                yield st.cond.subject
            yield from _calls(st.body)
            yield from _calls(st.orelse)
        elif isinstance(st, Finalize):
            yield st.call
            yield from _calls(st.pending or ())
            yield from _calls(st.pending_again or ())
            yield from _calls(st.atexit)
            yield from _calls(st.finalizers)
            yield from _calls(st.exitfuncs or ())
            yield from _calls(st.unstable)
        elif isinstance(st, Pending):
            yield from _calls(st.program)
            yield st.call
        elif isinstance(st, Clearing):
            yield st.call
            yield from _calls(st.program)
        elif isinstance(st, Call):
            yield st


class ProgramCompiler:
    def __init__(self, sc: Scenario, design: Design, group: str | None = None):
        self.group = group   # a thread table described as interchangeable threads even when it has one
        self.sc, self.design = sc, design
        self.main_thread = _main_thread(sc)
        self.programs = [_expand(th.program, sc, t == self.main_thread) + _thread_end(th)
                         for t, th in enumerate(sc.threads)]
        self.names = [th.name for th in sc.threads]
        self.kinds: list[dict[str, str]] = [{} for _ in sc.threads]
        self.shared_kinds: dict[str, str] = {}
        self.slots: dict[int, int] = {}          # id(call) → handle slot (1-based) within its kind
        self.made_interps: dict[int, int] = {}   # id(call) → interpreter index
        self.apis: dict[int, Api] = {}

    # ----- pass 1: names, kinds, slots --------------------------------------------------------
    def _kind_of_arg(self, t: int, arg: Arg, bound: set[str]) -> str:
        sc = self.sc
        if arg.is_null or arg.text == "0":
            return "null"
        if _number(arg.text):
            return "number"
        if arg.text in sc.interps or arg.text == "main":
            return "interp"
        if arg.text in sc.locks:
            return "lock"
        if arg.text in sc.events:
            return "event"
        if arg.text in sc.shared:
            return self.shared_kinds.get(arg.text, "unbound-shared")
        if arg.text not in bound:
            raise ProgramError(f"`{arg.text}` is used before it is bound: assign it first "
                               f"(`{arg.text} = SomeCall(...)`), or declare it under `locks`, `events`, "
                               "`interpreters` or `shared`", arg.line)
        return self.kinds[t][arg.text]

    @staticmethod
    def _check_literal(call: Call, want: str, arg: Arg, got: str) -> None:
        """A number stands for a value of its own only where an int or a PyGILState_STATE is
        wanted; 0 (NULL) also for a missing handle; never for a lock or event, which are named."""
        if want in ("lock", "event") and got in ("null", "number"):
            article = "an" if want == "event" else "a"
            raise ProgramError(f"argument `{arg.text}` of {call.name} must name {article} {want} declared under "
                               f"`{want}s`", call.line)
        if got != "number":
            return
        if want not in ("int", "gilstate"):
            raise ProgramError(f"argument `{arg.text}` of {call.name} must be a {want} (a name bound to one, "
                               "or NULL): a number is not one", call.line)
        lo, hi = (0, 1) if want == "gilstate" else (-2 ** 31, 2 ** 31 - 1)   # PyGILState_STATE; a C int
        if not lo <= int(arg.text) <= hi:
            raise ProgramError(f"argument `{arg.text}` of {call.name} is out of range: give a number from {lo} "
                               f"to {hi}", call.line)

    def _collect_set(self, t: int, call: Call, bound: set[str]) -> None:
        """`x = NULL` or `x = y`: x takes y's kind (NULL fits any, and a later value's kind
        replaces it), so a register only ever set to NULL is a register of NULLs."""
        source = call.args[0]
        kind = "null" if source.is_null else self._kind_of_arg(t, source, bound)
        if kind in ("lock", "event", "unbound-shared"):
            raise ProgramError(f"`{call.text}`: `{source.text}` is a {kind.replace('unbound-', '')}"
                               + (" not assigned yet" if kind == "unbound-shared" else ", not a value"), call.line)
        table = self.shared_kinds if call.target in self.sc.shared else self.kinds[t]
        old = table.get(call.target)
        if kind != "null" and old not in (None, "null", kind):
            raise ProgramError(f"`{call.target}` holds a {old}; `{source.text}` a {kind}: use another name", call.line)
        if old in (None, "null"):
            table[call.target] = kind
        bound.add(call.target)

    def collect(self) -> Layout:
        """Pass 1: every call's function, argument and result kinds checked, the handle slots
        and interpreters the calls create, numbered. Long because it is one walk over every
        call of every thread, doing each check at the call it names in its error."""
        slots: dict[str, list[str]] = {h.kind: [] for h in HANDLES}   # per handle kind, the slots' names
        interps = list(self.sc.interps)
        consumed: set[str] = set()    # handle kinds some call takes as an argument
        own_gil: set[int] = set()     # interpreters made with PyInterpreterConfig_OWN_GIL
        for t, prog in enumerate(self.programs):
            bound: set[str] = set()
            ahead = {c.target for c in _calls(prog) if c.target and c.where}   # assigned somewhere, from C
            for call in _calls(prog):
                if call.name == SET:
                    self._collect_set(t, call, bound)
                    continue
                api = self.design.function(call.name)
                if api is None:
                    raise ProgramError(f"`{call.name}` is not a function of design `{self.design.name}`; "
                                       "`interpcheck list` shows each design's functions", call.line, design_mismatch=True)
                self.apis[id(call)] = api
                if len(call.args) != len(api.args):
                    raise ProgramError(f"{call.name} takes {len(api.args)} argument(s) "
                                       f"({', '.join(api.args) or 'none'}), got {len(call.args)}", call.line, design_mismatch=True)
                for want, arg in zip(api.args, call.args):
                    consumed.add("ref" if want == "wref" else want)
                    if call.where and arg.text in ahead and arg.text not in bound:
                        continue   # C code that reads it on a path where it is still NULL (0)
                    got = self._kind_of_arg(t, arg, bound)
                    self._check_literal(call, want, arg, got)
                    if got not in (want, "null", "number", "unbound-shared"):
                        raise ProgramError(f"argument `{arg.text}` of {call.name} must be a {want}, "
                                           f"but it holds a {got}", call.line, design_mismatch=True)
                if call.target:
                    if api.result is None:
                        raise ProgramError(f"{call.name} returns nothing; drop `{call.target} =`", call.line, design_mismatch=True)
                    table = self.shared_kinds if call.target in self.sc.shared else self.kinds[t]
                    if table.get(call.target, api.result) not in (api.result, "null"):
                        raise ProgramError(f"`{call.target}` holds a {table[call.target]}; {call.name} returns "
                                           f"a {api.result}: use another name", call.line, design_mismatch=True)
                    table[call.target] = api.result
                    bound.add(call.target)
                label = f"{self.names[t]}.{call.target or call.name}"
                if (kind := handle_kind(api.creates)) is not None:
                    slots[kind].append(_unique(label, slots[kind]))
                    self.slots[id(call)] = len(slots[kind])
                elif api.creates == "interp":
                    interps.append(_unique(f"{self.names[t]}.interp", interps))
                    self.made_interps[id(call)] = len(interps)
                    if call.name == "Py_NewInterpreterFromConfig":
                        if len(call.args) != 1 or call.args[0].text not in ("0", "1", "2"):
                            raise ProgramError("Py_NewInterpreterFromConfig takes the config's `gil`: 0 (default: "
                                               "shared), 1 (PyInterpreterConfig_SHARED_GIL) or 2 "
                                               "(PyInterpreterConfig_OWN_GIL)", call.line)
                        if call.args[0].text == "2":
                            own_gil.add(len(interps) - 1)
        # A handle no call creates can only be NULL, but the functions that take one still
        # read its (never used) object: give each such kind one slot.
        for kind, names in slots.items():
            if kind in consumed and not names:
                names.append(f"no {kind} created")
        self.interp_names = tuple(interps)
        sc = self.sc
        born = len(sc.interps)   # declared interpreters have their own GIL; Py_NewInterpreter's share main's
        # (Py_NewInterpreterFromConfig's with PyInterpreterConfig_OWN_GIL have their own)
        own = self.design.runtime.per_interpreter_gil   # 3.11: one GIL for every interpreter
        return Layout(tuple(self.names), tuple(interps), tuple(i < born for i in range(len(interps))),
                      sc.tstates_per_thread, tuple(slots["guard"]), tuple(slots["view"]), tuple(slots["ref"]), sc.locks,
                      sc.events, sc.nesting, sc.max_counter,
                      tuple(i if (i < born or i in own_gil) and own else 0 for i in range(len(interps))),
                      tuple(k for k in ("pending_calls", "c_atexit", "unstable_atexit") if getattr(sc, k)),
                      tuple(t for t, th in enumerate(sc.threads) if th.python == "joined"))

    # ----- pass 2: actions -----------------------------------------------------------------------
    def build(self) -> System:
        layout = self.collect()
        b = Builder(self.sc.name, layout.threads)
        v = Vocabulary(b, layout)
        v.runtime = self.design.runtime
        v.main_thread = self.main_thread
        if v.pending_calls is not None and not v.runtime.pending_signals_main:
            v.pending_seen = v.declare_shared(b.scalar("pending_signalled", Domain(0, 1)))
        self.b, self.v = b, v
        self.regs: list[dict[str, Read]] = []
        domains = {"gilstate": GILSTATE, **KIND_DOMAIN}   # a register's or a result's kind -> its domain
        domains.update({k: v.kind_domain(k) for k in ("guard", "view", "ref", "wref", "token", "tstate", "interp",
                                                       "threadref")})
        domains["null"] = Domain(0, 0)   # a register only ever set to NULL
        self.domains = domains
        for name in self.sc.shared:
            if name not in self.shared_kinds:
                raise ProgramError(f"shared name `{name}` is never assigned", self.sc.lines.get("shared", 0))
        self.shared_regs = {n: b.scalar(f"shared.{n}", domains[k]) for n, k in sorted(self.shared_kinds.items())}
        for t, kinds in enumerate(self.kinds):
            self.regs.append({n: b.scalar(f"{self.names[t]}.{n}", domains[k]) for n, k in sorted(kinds.items())})
        self.labels: dict[int, dict[str, object]] = {}   # thread → label → where it continues
        self.cond_regs: dict[int, Read] = {}
        self.cond_regs_of: dict[int, list[Read]] = {}
        self.pcs: list[list[str]] = [[] for _ in self.names]
        self.pending: list[tuple[int, int, Call, list[Outcome], object, str]] = []
        entries = []
        for t, prog in enumerate(self.programs):
            entries.append(self._block(t, prog, "END"))
        pc_vars = []
        for t in range(len(self.names)):
            labels = tuple(self.pcs[t]) + ("returned",)
            pc_vars.append(b.scalar(f"pc.{self.names[t]}", enum(*labels)))
            b.facts.program_counters[self.names[t]] = f"pc.{self.names[t]}"
        self.pc_vars = pc_vars
        for t, (entry, prog) in enumerate(zip(entries, self.programs)):
            b.init[pc_vars[t].var.base] = self._static(t, entry)
        self.at_pc: list[tuple[int, int]] = []   # per action emitted: (thread, program counter)
        self.cond_after: dict[tuple[int, int], set[int]] = {}   # (thread, pc) -> cond registers set on arrival
        for item in self.pending:
            self._emit(*item)
        self._reset_conditions()
        self._process_exit()
        self._initial_tstates()
        started = v.phase[0] >= PREFINAL
        done = v.phase[0].eq(DELETED)
        standard_properties(v, b, started, done)
        b.prop(Sometimes("completes", all_of(*[self._finished(t) for t in range(len(self.names))]),
                         "Some schedule runs every thread to its end (vacuity check)."))
        self._queries()
        self._invariants()
        b.facts.design = self.design.name
        b.facts.lemmas = tuple(name for name, _ in self.sc.invariants)   # k-induction assumes these once proven
        b.facts.interpreters = tuple(v.phase.labels or ())
        owned = [self._own(t) for t in range(len(self.names))]
        b.facts.thread_slots = tuple(slots for slots, _ in owned)
        system = b.build([self._finished(t) for t in range(len(self.names))], v.crash.ne(0) | v.process.ne(0))
        symmetry = self._symmetry(system, owned)
        return replace(system, symmetry=symmetry) if symmetry is not None else system

    def _queries(self) -> None:
        taken = {p.name for p in self.b.properties}
        for name, text in self.sc.queries:
            line = self.sc.lines.get(f"query:{name}", 0)
            if name in taken:
                raise ProgramError(f"query `{name}` has the name of a property; choose another name", line)
            q = QueryCompiler(self.v, tuple(self.names), self.interp_names, self._finished, self._at, line)
            self.b.prop(Sometimes(name, q.compile(text), f"query: can `{text}` happen?", text,
                                  query=True))

    def _invariants(self) -> None:
        """Each user invariant is checked like any property, and k-induction may assume it
        once it is proven (a strengthening lemma)."""
        taken = {p.name for p in self.b.properties}
        for name, text in self.sc.invariants:
            line = self.sc.lines.get(f"invariant:{name}", 0)
            if name in taken:
                raise ProgramError(f"invariant `{name}` has the name of a property or query; choose another name",
                                   line)
            q = QueryCompiler(self.v, tuple(self.names), self.interp_names, self._finished, self._at, line,
                              "invariant")
            self.b.prop(Invariant(name, q.compile(text), f"invariant: `{text}` holds in every reachable state",
                                  f"the invariant `{text}` is false"))

    def _finished(self, t: int) -> Expr:
        end = len(self.pcs[t])
        return self.pc_vars[t].eq(end) | self.v.status[t].eq(T_EXITED)

    def _at(self, t: int, line: int) -> Expr | None:
        """Thread t's next step is a step of the call on spec line `line` (None: it has none)."""
        pcs = [k for k, label in enumerate(self.pcs[t]) if label == f"line {line}"
               or label.startswith(f"line {line} ")]
        return any_of(*[self.pc_vars[t].eq(k) for k in pcs]) if pcs else None

    def _new_pc(self, t: int, label: str) -> int:
        self.pcs[t].append(label)
        return len(self.pcs[t]) - 1

    def _block(self, t: int, stmts: tuple, after):
        cur = after
        for st in reversed(stmts):
            cur = self._stmt(t, st, cur)
        return cur

    def _stmt(self, t: int, st, after):
        if isinstance(st, Return):
            return "END"
        if isinstance(st, Label):   # where `goto` lands: the code after it
            labels = self.labels.setdefault(t, {})
            if st.name in labels:
                raise ProgramError(f"label `{st.name}` appears twice", st.line)
            labels[st.name] = after
            return after
        if isinstance(st, Goto):    # resolved once every label is known (in _resolve)
            return st
        if isinstance(st, If):
            then = self._block(t, st.body, after)
            other = self._block(t, st.orelse, after)
            subj = st.cond.subject
            if isinstance(subj, Call):
                reg = self.b.scalar(f"{self.names[t]}._cond{len(self.cond_regs)}", KIND_DOMAIN["int"]
                                    if self.apis[id(subj)].result == "int" else self._domain_of(subj))
                self.cond_regs[id(subj)] = reg
                self.cond_regs_of.setdefault(t, []).append(reg)
                branch = Branch(st.cond, then, other)
                return self._call(t, replace(subj), after=branch, result=reg, api=self.apis[id(subj)], orig=subj)
            self._check_cond_name(t, st.cond)
            return Branch(st.cond, then, other)
        if isinstance(st, Finalize):
            return self._finalize(t, st, after)
        if isinstance(st, Pending):
            return self._eval_breaker(t, st, after)
        if isinstance(st, Clearing):
            return self._clearing(t, st, after)
        return self._call(t, st, after)

    def _clearing(self, t: int, st: Clearing, after):
        """The call's first step leaves for the destructors (goto LEAVE); they come back to its
        second step (PyThreadState_Clear returns, then the thread state is deleted)."""
        api = self.apis[id(st.call)]
        steps = api.clearing(self._site(t, st.call, None))
        label = f"__clear{len(self.pcs[t])}"
        body = self._block(t, st.program, Goto(label, st.call.line))
        pc = self._steps(t, st.call, steps, after, None, st.call.text, leave=body)
        self.labels.setdefault(t, {})[label] = pc + 1
        return pc

    def _eval_breaker(self, t: int, st: Pending, after):
        """run_python on the main thread: its first step may instead run a queued pending call
        (make_pending_calls at the eval-breaker check, Python/ceval.c:692 (v3.11.2)), then try
        again; only under the main interpreter, and up to 3.12 only once the eval breaker saw it."""
        v = self.v
        queued, seen = v.pending_calls, v.pending_seen
        ok = all_of(queued > 0, v.interp_of(v.attached[t]).eq(1), *([seen.eq(1)] if seen is not None else []))
        steps = self.apis[id(st.call)].build(self._site(t, st.call, None))
        clear = [assign(seen, ite(queued.eq(0), 0, seen))] if seen is not None else []
        steps[0] = [Outcome(ok, [assign(queued, queued - 1)], "pending call runs", goto=LEAVE)] + [
            replace(o, guard=all_of(~ok, o.guard), updates=list(o.updates) + clear) for o in steps[0]]
        label = f"__pending{len(self.pcs[t])}"
        body = self._block(t, st.program, Goto(label, st.call.line))
        pc = self._steps(t, st.call, steps, after, None, st.call.text, leave=body)
        self.labels.setdefault(t, {})[label] = pc
        return pc

    def _hook(self, t: int, call: Call, queued: Read, program: tuple, after, name: str, what: str):
        """A step of the runtime inside `call` that runs a spliced program once per queued
        function, then looks again (_Py_FinishPendingCalls, call_ll_exitfuncs)."""
        label = f"__{name}{len(self.pcs[t])}"
        body = self._block(t, program, Goto(label, call.line))
        steps = [[Outcome(queued > 0, [assign(queued, queued - 1)], f"{what} runs", goto=LEAVE),
                  Outcome(queued.eq(0), [], f"no {what} to run")]]
        step = replace(call, name=name, target=None, args=(), bare=False)
        phase = {"call_ll_exitfuncs": "exitfuncs", "_PyAtExit_Fini": "atexit_fini"}.get(name, "pending")
        pc = self._steps(t, step, steps, after, None, f"{name}()", phase, leave=body)
        self.labels.setdefault(t, {})[label] = pc
        return pc

    def _domain_of(self, call: Call) -> Domain:
        return self.domains.get(self.apis[id(call)].result, KIND_DOMAIN["int"])

    def _reg(self, t: int, name: str) -> Read | None:
        return self.regs[t][name] if name in self.regs[t] else self.shared_regs.get(name)

    def _check_cond_name(self, t: int, cond: Cond) -> None:
        name = cond.subject
        if name not in self.regs[t] and name not in self.shared_regs:
            raise ProgramError(f"`{name}` is tested before it is bound", cond.line)

    def _site(self, t: int, call: Call, result: Read | None, orig: Call | None = None) -> Site:
        key = id(orig or call)
        args = tuple(self._arg(t, a) for a in call.args)
        return Site(self.v, t, args, result, self.slots.get(key), call.text, self.made_interps.get(key))

    def _arg(self, t: int, arg: Arg) -> Expr:
        if arg.is_null:
            return Const(0)
        if _number(arg.text):   # in range for its kind: checked in pass 1 (_check_literal)
            return Const(int(arg.text))
        if arg.text in self.regs[t]:
            return self.regs[t][arg.text]
        if arg.text in self.shared_regs:
            return self.shared_regs[arg.text]
        if arg.text in self.interp_names:
            return Const(self.interp_names.index(arg.text) + 1)
        if arg.text in self.sc.locks:
            return Const(self.sc.locks.index(arg.text))
        if arg.text in self.sc.events:
            return Const(self.sc.events.index(arg.text))
        raise ProgramError(f"`{arg.text}` is not bound in thread {self.names[t]}", arg.line)

    def _call(self, t: int, call: Call, after, result: Read | None = None, api: Api | None = None,
              orig: Call | None = None):
        if call.name == SET:   # one step of the thread's own: C's `x = NULL;`, `x = y;`
            value = Const(0) if call.args[0].is_null else self._arg(t, call.args[0])
            return self._steps(t, call, [[Outcome(TRUE, [assign(self._reg(t, call.target), value)], "")]],
                               after, None, call.text)
        api = api or self.apis[id(call)]
        if result is None and call.target:
            result = self._reg(t, call.target)
        steps = api.build(self._site(t, call, result, orig))
        return self._steps(t, call, steps, after, result, call.text)

    def _steps(self, t: int, call: Call, steps: Steps, after, result: Read | None, text: str, phase: str = "",
               leave=None):
        """`leave` is where an outcome with goto=LEAVE continues (the end of a phased call)."""
        pcs = [self._new_pc(t, f"line {call.line}" + (f" {phase}" if phase else "") + (f" step {k + 1}" if k else ""))
               for k in range(len(steps))]
        for k, outcomes in enumerate(steps):
            self.pending.append((t, pcs[k], call, outcomes, (pcs, after, after if leave is None else leave), text,
                                 result))
        return pcs[0]

    def _finalize(self, t: int, st: Finalize, after):
        v = self.v
        call = st.call
        if call.name == "Py_FinalizeEx":
            result = self._reg(t, call.target) if call.target else None
            interp = MAIN
        else:
            result = None
            interp = v.interp_of(self._arg(t, call.args[0]))
        site = self._site(t, call, result)
        loop = bool(self.design.options.get("prefinal_loop"))
        phases = finalize_phases(v, t, interp, site, self.design.waits_for_guards, call.name, loop)
        close = self.design.options.get("close_phase")   # a design's own step in place of the guard wait
        if close is not None:
            phases["close"] = close(v, t, interp, site)
        end = after
        if st.exitfuncs is not None and v.exitfuncs is not None:   # call_ll_exitfuncs: no thread state
            end = self._hook(t, call, v.exitfuncs, st.exitfuncs, after, "call_ll_exitfuncs", "C atexit function")
        cur = self._steps(t, call, phases["teardown"], end, result, call.text, "teardown")
        if st.unstable and v.unstable_exitfuncs is not None:   # _PyAtExit_Fini in interpreter_clear
            cur = self._hook(t, call, v.unstable_exitfuncs[interp - 1], st.unstable, cur, "_PyAtExit_Fini",
                             "PyUnstable_AtExit callback")
        cur = self._block(t, st.finalizers, cur)
        cur = self._steps(t, call, phases["flag"], cur, None, call.text, "finalizing")
        if "close" in phases:
            label = f"__guards{len(self.pcs[t])}"
            again = self._prefinal_again(t, st, Goto(label, call.line)) if loop else after
            cur = self._steps(t, call, phases["close"], cur, None, call.text, "guards", leave=again)
            self.labels.setdefault(t, {})[label] = cur
        cur = self._block(t, st.atexit, cur)
        if st.pending is not None and v.pending_calls is not None:   # before atexit (pylifecycle.c:1767 (v3.11.2))
            cur = self._hook(t, call, v.pending_calls, st.pending, cur, "_Py_FinishPendingCalls", "pending call")
        if call.name == "Py_FinalizeEx" and v.layout.joined:
            cur = self._steps(t, call, join_threads(v, t), cur, None, call.text, "join")
        return self._steps(t, call, phases["begin"], cur, None, call.text, "begin")

    def _prefinal_again(self, t: int, st: Finalize, close: Goto):
        """PEP 788's finalization loop (PR #149116): once the guards it waited for are closed,
        the finalizer goes back through the pre-finalization calls, thread join and pending
        calls, before the next CAS; atexit handlers ran once and were cleared."""
        v, call = self.v, st.call
        cur = close
        if st.pending_again is not None and v.pending_calls is not None:
            cur = self._hook(t, call, v.pending_calls, st.pending_again, cur, "_Py_FinishPendingCalls", "pending call")
        if call.name == "Py_FinalizeEx" and v.layout.joined:
            cur = self._steps(t, call, join_threads(v, t), cur, None, call.text, "join")
        return cur

    # ----- emitting actions ---------------------------------------------------------------------
    def _emit(self, t: int, pc: int, call: Call, outcomes: list[Outcome], flow, text: str,
              result: Read | None) -> None:
        v = self.v
        pcs, after, leave = flow
        pc_var = self.pc_vars[t]
        base = all_of(v.crash.eq(0), v.process.eq(0), v.status[t].eq(T_RUNNING), pc_var.eq(pc))
        for o in outcomes:
            if value_range(o.guard) == (0, 0):
                continue   # can never happen here (e.g. the live-handle outcome of a NULL literal)
            updates = list(o.updates)
            if o.stop:
                nxt = None
            elif o.goto == LEAVE:
                nxt = self._resolve(t, leave, {id(u.target.var): u.value for u in updates if u.target.var.scalar})
            elif o.goto is not None:
                nxt = Const(pcs[o.goto])
            else:
                written = {id(u.target.var): u.value for u in updates if u.target.var.scalar}
                nxt = self._resolve(t, after, written)
            if nxt is not None:
                updates.append(assign(pc_var, nxt))
                if result is not None and id(result.var) in {id(r.var) for r in self.cond_regs_of.get(t, ())}:
                    for target in _leaves(nxt):
                        self.cond_after.setdefault((t, target), set()).add(id(result.var))
            checks = tuple(o.checks)
            if o.stale_use:
                checks += (Check("no_stale_check", v.checked[t].eq(0)),)
            done = not o.stop and o.goto in (None, LEAVE)
            if call.where:   # a call translated from C: renderers show its source line
                self.b.facts.call_sites[len(self.b.actions)] = call.where
            self.at_pc.append((t, pc))
            self.b.action(Action(call.name, t, all_of(base, o.guard), tuple(updates), text,
                                 result if done and result is not None else None, checks, o.note))

    def _reset_conditions(self) -> None:
        """A call's result that an `if` tests lives in a register of its own, read only in the
        step that sets it (the branch is resolved there): the thread's next step sets it back
        to 0, so runs that met again after the branch are one state (C code's `if`s and gotos
        would otherwise multiply the states by every condition ever taken)."""
        regs = {id(r.var): r for rs in self.cond_regs_of.values() for r in rs}
        for k, (t, pc) in enumerate(self.at_pc):
            stale = self.cond_after.get((t, pc))
            if not stale:
                continue
            action = self.b.actions[k]
            written = {id(u.target.var) for u in action.updates}
            stale = sorted((regs[r] for r in stale if r not in written), key=lambda reg: reg.var.base)
            resets = tuple(assign(reg, 0) for reg in stale)
            self.b.actions[k] = replace(action, updates=action.updates + resets)

    def _process_exit(self) -> None:
        """Once a thread that called Py_FinalizeEx has returned (main returns), the process
        exits: exit() ends every other thread, hung ones included, so what they were waiting
        for is no deadlock (a hung thread is still reported by no_thread_hung)."""
        v = self.v
        for t, prog in enumerate(self.programs):
            if not any(isinstance(st, Finalize) and st.call.name == "Py_FinalizeEx" for st in _walk(prog)):
                continue
            returned = self.pc_vars[t].eq(len(self.pcs[t])) & v.status[t].eq(T_RUNNING)
            # exit() halts the system: partial-order reduction counts it dependent on every thread
            guard = all_of(v.crash.eq(0), v.process.eq(0), returned, v.phase[0].eq(DELETED))
            self.b.action(Action("exit", t, guard, (assign(v.process, 1),), "exit()", None, (),
                                 "main returned after Py_FinalizeEx: the process exits, other threads end"))

    def _resolve(self, t: int, target, written: dict) -> Expr:
        seen = set()
        while isinstance(target, Goto):
            if target.name not in self.labels.get(t, {}) or target.name in seen:
                raise ProgramError(f"`goto {target.name}`: no `label {target.name}` in this program"
                                   if target.name not in seen else f"`goto {target.name}` jumps to itself",
                                   target.line)
            seen.add(target.name)
            target = self.labels[t][target.name]
        if target == "END":
            return Const(len(self.pcs[t]))
        if isinstance(target, int):
            return Const(target)
        return ite(self._cond_expr(t, target.cond, written), self._resolve(t, target.then, written),
                   self._resolve(t, target.other, written))

    def _cond_expr(self, t: int, cond: Cond, written: dict) -> Expr:
        subj = cond.subject
        reg = self.cond_regs[id(subj)] if isinstance(subj, Call) else self._reg(t, subj)
        value = written.get(id(reg.var), reg)
        rhs = self._arg(t, Arg(cond.value, cond.line))
        return value.eq(rhs) if cond.op == "==" else value.ne(rhs)

    def _static(self, t: int, target) -> int:
        init = tuple(self.b.init)
        return evaluate(self._resolve(t, target, {}), init)

    def _initial_tstates(self) -> None:
        v, b = self.v, self.b
        holders: dict[int, tuple[str, str]] = {}
        for t, th in enumerate(self.sc.threads):
            if th.tstate is None:
                continue
            if th.tstate not in self.interp_names[:len(self.sc.interps)]:
                raise ProgramError(f"thread {th.name}: unknown interpreter `{th.tstate}`", th.line)
            i = self.interp_names.index(th.tstate)
            ts = t * v.layout.tstates_per_thread
            init = b.init
            init[v.ts_status.base + ts] = O_LIVE
            init[v.ts_interp.base + ts] = i + 1
            init[v.gil_counter.base + ts] = 1   # not made by PyGILState_Ensure (Python/pystate.c:1521 (v3.13.5))
            init[v.gilstate.base + t] = ts + 1
            if th.attached:
                gil = v.layout.gil_of[i] if v.layout.gil_of else i
                if gil in holders:
                    other, where = holders[gil]
                    shared = "" if where == th.tstate else f" and {where} share one GIL in design `{self.design.name}`"
                    raise ProgramError(f"threads {other} and {th.name} cannot both start attached "
                                       f"to {th.tstate}{shared}: one holds its GIL; set `attached = false` on one",
                                       th.line, design_mismatch=bool(shared))
                holders[gil] = (th.name, th.tstate)
                init[v.attached.base + t] = ts + 1
                init[v.gil.base + gil] = t + 1
            else:  # a Python thread inside Py_BEGIN_ALLOW_THREADS: its tstate is saved
                init[v.saved.base + t] = ts + 1


    # ----- symmetry ------------------------------------------------------------------------------
    def _grouped(self, ts: list[int]) -> bool:
        return self.group is not None and all(self.sc.threads[t].table == self.group for t in ts)

    def undeclared(self, system: System) -> list[str]:
        """Variables of `system` with no declared owner (tests keep this empty: symmetry is off
        while it is not)."""
        v = self.v
        known = {id(x.var) for x in [*self.pc_vars, *self.shared_regs.values()]}
        known |= {id(x) for x in [*v.shared, *v.owned_by_thread, *[x for x, _ in v.owned_by_thread_block],
                                  *[x for xs in v.owned_by_handle.values() for x in xs]]}
        known |= {id(r.var) for regs in self.regs for r in regs.values()}
        known |= {id(r.var) for regs in self.cond_regs_of.values() for r in regs}
        return [x.name for x in system.variables if id(x) not in known]

    def _own(self, t: int) -> tuple[tuple[int, ...], dict[str, tuple[int, ...]]]:
        """Thread t's own slots (its program counter, registers, its elements of per-thread
        arrays, the handle slots its call sites create) and the values that name it, per value
        class."""
        v, lay = self.v, self.v.layout
        per_thread, blocks, handles = v.owned_by_thread, v.owned_by_thread_block, v.owned_by_handle
        created: dict[str, list[int]] = {h.kind: [] for h in HANDLES}
        for call in _calls(self.programs[t]):
            if call.name != SET and (kind := handle_kind(self.apis[id(call)].creates)) is not None:
                created[kind].append(self.slots[id(call)])
        slots = [self.pc_vars[t].var.base]
        slots += [self.regs[t][name].var.base for name in sorted(self.regs[t])]
        slots += [r.var.base for r in self.cond_regs_of.get(t, [])]
        slots += [x.base + t for x in per_thread]
        slots += [x.base + t * size + k for x, size in blocks for k in range(size)]
        slots += [x.base + h - 1 for kind, xs in handles.items() for x in xs for h in created[kind]]
        values = {"thread": (t + 1,),
                  "tstate": tuple(1 + t * lay.tstates_per_thread + k for k in range(lay.tstates_per_thread)),
                  **{kind: tuple(hs) for kind, hs in created.items()}}
        return tuple(slots), values

    def _symmetry(self, system: System, owned: list[tuple[tuple[int, ...], dict]]) -> Symmetry | None:
        """The interchangeable threads: those a spec's `count` made from one [[thread]] table
        (same program, same start). For each, the slots that are its own, role by role, and
        the values that name it, per value class (`owned`, per thread: _own; docs/performance.md)."""
        by_start: dict[tuple, list[int]] = {}
        for t, th in enumerate(self.sc.threads):
            by_start.setdefault((th.line, th.program, th.tstate, th.attached, th.python), []).append(t)
        candidates = [ts for ts in by_start.values() if (len(ts) > 1 or self._grouped(ts)) and not any(
            id(call) in self.made_interps for t in ts for call in _calls(self.programs[t]))]
        if not candidates:
            return None
        classes = self.v.value_classes()
        if self.undeclared(system):
            return None   # a variable nobody declared an owner for: no symmetry claimed
        groups = []
        for ts in candidates:
            group = [owned[t] for t in ts]
            names = sorted(group[0][1])
            groups.append(ThreadGroup(tuple(ts), tuple(o[0] for o in group),
                                      tuple((c, tuple(o[1][c] for o in group)) for c in names)))
        slot_class: list[str | None] = [None] * system.width
        for x in system.variables:
            for k in range(x.length):
                slot_class[x.base + k] = classes.get(id(x.domain))
        return Symmetry(tuple(groups), tuple(slot_class))


def _leaves(e: Expr) -> list[int]:
    """The program counters a resolved `next pc` expression may take (its Ite's constants)."""
    out, stack = [], [e]
    while stack:
        x = stack.pop()
        if isinstance(x, Ite):
            stack += [x.then, x.other]
        elif isinstance(x, Const):
            out.append(x.value)
    return out


def _number(text: str) -> bool:
    """An integer literal, in ASCII digits (str.isdigit also takes '²' and '١')."""
    digits = text.removeprefix("-")
    return digits.isascii() and digits.isdigit()


def _main_thread(sc: Scenario) -> int | None:
    """The process's main thread: the thread starting attached to main's thread state, else the
    first with one (as the conformance harness runs it); pending calls run only there."""
    holders = [t for t, th in enumerate(sc.threads) if th.tstate == "main" and not th.python]
    return next((t for t in holders if sc.threads[t].attached), holders[0] if holders else None)


def _unique(label: str, taken: list[str]) -> str:
    if label not in taken:
        return label
    k = 2
    while f"{label}#{k}" in taken:
        k += 1
    return f"{label}#{k}"


def build_system(sc: Scenario, design: Design, group: str | None = None) -> System:
    """`group` names a thread table whose threads the System's symmetry lists even when
    there is only one (the parametric engine reads thread roles from it)."""
    return ProgramCompiler(sc, design, group).build()


def resize(sc: Scenario, table: str, count: int) -> Scenario:
    """The scenario with `count` threads made from thread table `table` (named table1..)."""
    made = [t for t in sc.threads if t.table == table]
    if not made:
        raise ValueError(f"no thread table {table}")
    at = sc.threads.index(made[0])
    copies = tuple(replace(made[0], name=f"{table}{i + 1}") for i in range(count))
    rest = [t for t in sc.threads if t.table != table]
    return replace(sc, threads=tuple(rest[:at]) + copies + tuple(rest[at:]))
