"""The state every C API design shares: interpreters, thread states, OS threads, the GIL,
handles (guards, views, references), client locks and events, and the properties.

A design (model/designs/) adds only the functions it defines; the lifecycle, attach/detach
and the bug classes live here once. Handle values are small ints: 0 is NULL, and each
object kind numbers its slots from 1, so a register holding a handle prints as its name.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .ir import (BOOL, ActionProperty, Assign, Builder, Domain, Expr, ExprLike, Invariant, LeadsTo,
                 NoDeadlock, NoHang, Read, all_of, any_of, assign, enum, ite, lift)

# Interpreter lifecycle (SEMANTICS.md §6): PREFINAL = thread join / atexit / pending calls;
# GUARDS_CLOSED = the finalizer's CAS to NOT_ALLOWED succeeded; FINALIZING = `_finalizing`
# set (Py_IsFinalizing() for main; attach by anyone else hangs); DELETED = freed.
PHASE = enum("unborn", "running", "prefinal", "guards_closed", "finalizing", "deleted")
UNBORN, RUNNING, PREFINAL, GUARDS_CLOSED, FINALIZING, DELETED = range(6)

# A thread stops for good when it hangs (PyThread_hang_thread, 3.14+) or exits
# (PyThread_exit_thread, <= 3.13) on attaching to a finalizing interpreter.
THREAD = enum("running", "hung", "exited")
T_RUNNING, T_HUNG, T_EXITED = range(3)

# Whole-process failures: the process is dead after any of these, so exploration stops there.
CRASH = enum("none", "use_after_free", "fatal_error", "no_thread_state", "wrong_interpreter")
C_NONE, C_UAF, C_FATAL, C_NO_TSTATE, C_WRONG = range(5)

OBJECT = enum("unused", "live", "freed")
O_UNUSED, O_LIVE, O_FREED = range(3)

GILSTATE = enum("PyGILState_LOCKED", "PyGILState_UNLOCKED")


@dataclass(frozen=True)
class Layout:
    """How many of each object a scenario needs; fixed before the system is built."""
    threads: tuple[str, ...]
    interps: tuple[str, ...]            # index 0 is main
    born: tuple[bool, ...]              # exists at start (else made by Py_NewInterpreter)
    tstates_per_thread: int = 2
    guard_slots: tuple[str, ...] = ()   # one name per guard-creating call site instance
    view_slots: tuple[str, ...] = ()
    ref_slots: tuple[str, ...] = ()     # strong/weak interpreter references (earlier revisions)
    locks: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    nesting: int = 3                    # Ensure calls a thread may have open at once
    max_counter: int = 4                # per-tstate Ensure counter bound

    @property
    def n_tstates(self) -> int:
        return len(self.threads) * self.tstates_per_thread

    def tstate_labels(self) -> tuple[str, ...]:
        names = [f"{t}/ts{k + 1}" for t in self.threads for k in range(self.tstates_per_thread)]
        return ("NULL", *names)


@dataclass
class Vocabulary:
    """The declared variables of one scenario, with the helpers designs build calls from."""
    b: Builder
    layout: Layout
    tstate: Domain = field(init=False)
    token: Domain = field(init=False)
    interp: Domain = field(init=False)
    guard: Domain = field(init=False)
    view: Domain = field(init=False)
    ref: Domain = field(init=False)

    def __post_init__(self) -> None:
        lay, b = self.layout, self.b
        nt, ni, nth = lay.n_tstates, len(lay.interps), len(lay.threads)
        self.tstate = Domain(0, nt, lay.tstate_labels())
        # A token is the previous tstate, or the no-previous-tstate sentinel (PEP 788 "Ensure").
        self.token = Domain(0, nt + 1, lay.tstate_labels() + ("SENTINEL",))
        self.SENTINEL = nt + 1
        self.interp = Domain(0, ni, ("NULL", *lay.interps))
        self.guard = Domain(0, len(lay.guard_slots), ("NULL", *lay.guard_slots))
        self.view = Domain(0, len(lay.view_slots), ("NULL", *lay.view_slots))
        self.ref = Domain(0, len(lay.ref_slots), ("NULL", *lay.ref_slots))
        holder = Domain(0, nth, ("nobody", *lay.threads))
        self.holder = holder

        self.crash = b.scalar("crash", CRASH)
        self.phase = b.array("phase", ni, PHASE, [RUNNING if x else UNBORN for x in lay.born], lay.interps)
        self.gil = b.array("gil", ni, holder, labels=lay.interps)
        # The count finalization waits for: guards (Final), and in the earlier revisions the
        # strong interpreter references and non-daemon thread states (docs/modeling.md, r0/r1).
        bound = len(lay.guard_slots) + len(lay.ref_slots) + nth * lay.nesting
        self.guards = b.array("guards", ni, Domain(0, max(1, bound)), labels=lay.interps)
        self.finalizer = b.array("finalizer", ni, holder, labels=lay.interps)

        ts_names = lay.tstate_labels()[1:]
        self.ts_status = b.array("ts_status", nt, OBJECT, labels=ts_names)
        self.ts_interp = b.array("ts_interp", nt, self.interp, labels=ts_names)
        self.ts_counter = b.array("ts_counter", nt, Domain(0, lay.max_counter), labels=ts_names)
        self.ts_owned = b.array("ts_owned", nt, BOOL, labels=ts_names)
        b.bounds.update(ts_status="tstates_per_thread", ts_counter="max_counter", depth="nesting")

        self.status = b.array("status", nth, THREAD, labels=lay.threads)
        self.attached = b.array("attached", nth, self.tstate, labels=lay.threads)
        self.gilstate = b.array("gilstate", nth, self.tstate, labels=lay.threads)
        self.saved = b.array("saved", nth, self.tstate, labels=lay.threads)
        self.scratch = b.array("scratch", nth, self.token, labels=lay.threads)
        self.depth = b.array("depth", nth, Domain(0, lay.nesting), labels=lay.threads)
        # Ghost: the tstate attached before each open Ensure, to check that Release restores it.
        stack_labels = [f"{t}.{d}" for t in lay.threads for d in range(lay.nesting)]
        self.stack_prev = b.array("ensure_prev", nth * lay.nesting, self.tstate, labels=stack_labels)
        # Not ghost: the interpreter whose implicit guard (EnsureFromView) the matching Release closes.
        self.stack_guard = b.array("ensure_guard", nth * lay.nesting, self.interp, labels=stack_labels)
        # Ghost for TOCTOU: 1 while the thread's last Py_IsFinalizing() answered 0.
        self.checked = b.array("checked_not_finalizing", nth, BOOL, labels=lay.threads)

        if lay.guard_slots:
            self.g_status = b.array("guard_status", len(lay.guard_slots), OBJECT, labels=lay.guard_slots)
            self.g_interp = b.array("guard_interp", len(lay.guard_slots), self.interp, labels=lay.guard_slots)
        if lay.view_slots:
            self.v_status = b.array("view_status", len(lay.view_slots), OBJECT, labels=lay.view_slots)
            self.v_interp = b.array("view_interp", len(lay.view_slots), self.interp, labels=lay.view_slots)
        if lay.ref_slots:  # strong and weak interpreter references share one slot space (r1 family)
            self.r_status = b.array("ref_status", len(lay.ref_slots), OBJECT, labels=lay.ref_slots)
            self.r_interp = b.array("ref_interp", len(lay.ref_slots), self.interp, labels=lay.ref_slots)
        self.lock = b.array("lock", len(lay.locks), holder, labels=lay.locks) if lay.locks else None
        self.event = b.array("event", len(lay.events), BOOL, labels=lay.events) if lay.events else None

    # ----- reading the state -------------------------------------------------------------
    def interp_of(self, ts: ExprLike) -> Expr:
        """Interpreter handle of a tstate handle (0 for NULL)."""
        ts = lift(ts)
        return ite(ts.eq(0), 0, self.ts_interp[ts - 1])

    def ts_alive(self, ts: ExprLike) -> Expr:
        ts = lift(ts)
        return ts.ne(0) & self.ts_status[ts - 1].eq(O_LIVE)

    def phase_of(self, interp: ExprLike) -> Read:
        return self.phase[lift(interp) - 1]

    def finalizing(self, interp: ExprLike) -> Expr:
        """`_finalizing` is set: attach by any thread but the finalizer hangs."""
        return self.phase_of(interp) >= FINALIZING

    def is_finalizer(self, t: int, interp: ExprLike) -> Expr:
        return self.finalizer[lift(interp) - 1].eq(t + 1)

    def runtime_finalizing(self) -> Expr:
        """Py_IsFinalizing(): the main interpreter (runtime) is finalizing (SEMANTICS §2.7)."""
        return self.phase[0] >= FINALIZING

    # ----- building outcomes ---------------------------------------------------------------
    def crash_with(self, code: int) -> list[Assign]:
        return [assign(self.crash, code)]

    def hang(self, t: int) -> list[Assign]:
        """The thread attaches to a finalizing interpreter: hangs (3.14+) or exits (<= 3.13)."""
        return [assign(self.status[t], T_EXITED if self.exit_on_finalize else T_HUNG)]

    exit_on_finalize: bool = False

    def attach_outcomes(self, t: int, ts: ExprLike, then: list[Assign], what: str,
                        checks: tuple = ()) -> list["Outcome"]:
        """Attach `ts` to thread t, as _PyThreadState_Attach / take_gil do (Python/ceval_gil.c):
        a freed tstate or interpreter is a use after free; a finalizing interpreter makes every
        thread but the finalizer hang (gh-87135); otherwise wait for that interpreter's GIL."""
        ts = lift(ts)
        interp = self.interp_of(ts)
        null = ts.eq(0)
        freed = ~null & (~self.ts_alive(ts) | self.phase_of(interp).eq(DELETED))
        stale = self.finalizing(interp) & ~self.is_finalizer(t, interp)
        ok = ~null & ~freed & ~stale & self.gil[interp - 1].eq(0)
        return [
            Outcome(null, self.crash_with(C_FATAL), "attach: NULL thread state: Py_FatalError", stop=True),
            Outcome(freed, self.crash_with(C_UAF), "attach: thread state or interpreter already freed",
                    stop=True),
            Outcome(~null & ~freed & stale, self.hang(t), "attach: interpreter is finalizing, thread "
                    + ("exits (PyThread_exit_thread)" if self.exit_on_finalize else "hangs forever (PyThread_hang_thread)"),
                    stop=True, stale_use=True),
            Outcome(ok, [assign(self.attached[t], ts), assign(self.gil[interp - 1], t + 1),
                         assign(self.checked[t], 0)] + then, what, checks=checks),
        ]

    def retake_gil_outcomes(self, t: int, what: str) -> list["Outcome"]:
        """take_gil for a thread whose tstate stayed current while it waited (eval breaker):
        the same checks as attach, without changing the attached tstate."""
        return [Outcome(o.guard, [u for u in o.updates if u.target.var is not self.attached], o.note, o.stop,
                        o.goto, o.stale_use, o.checks)
                for o in self.attach_outcomes(t, self.attached[t], [], what)]

    def detach(self, t: int) -> list[Assign]:
        """Release the GIL of the attached tstate's interpreter and detach (no-op when none)."""
        cur = self.attached[t]
        interp = self.interp_of(cur)
        return [assign(self.attached[t], 0),
                assign(self.gil[ite(cur.eq(0), 1, interp) - 1], ite(cur.eq(0), self.gil[0], 0))]

    def drop_guard(self, interp: ExprLike) -> list[Assign]:
        """Close one guard of `interp`, or nothing when it is NULL (no implicit guard)."""
        interp = lift(interp)
        at = ite(interp.eq(0), 1, interp) - 1
        return [assign(self.guards[at], ite(interp.eq(0), self.guards[at], self.guards[at] - 1))]

    def new_tstate(self, t: int) -> Expr:
        """The first unused tstate slot of thread t; when t has used them all, its last one
        (always in range), which create_tstate then reports as the `tstates_per_thread` bound."""
        base = t * self.layout.tstates_per_thread
        choice: Expr = lift(base + self.layout.tstates_per_thread)
        for k in reversed(range(self.layout.tstates_per_thread - 1)):
            choice = ite(self.ts_status[base + k].eq(O_UNUSED), base + k + 1, choice)
        return choice

    def pool_full(self, t: int) -> Expr:
        base = t * self.layout.tstates_per_thread
        return all_of(*[self.ts_status[base + k].ne(O_UNUSED) for k in range(self.layout.tstates_per_thread)])

    def create_tstate(self, t: int, ts: Expr, interp: ExprLike, owned: int = 0, counter: int = 0) -> list[Assign]:
        """PyThreadState_New (Python/pystate.c): link into the interpreter, bind gilstate if unset.
        A thread with no unused slot left writes a value outside ts_status's domain: every
        engine stops there with the bound message (System.bounds names the spec's bound)."""
        live = ite(self.pool_full(t), len(OBJECT.labels), O_LIVE)
        return [assign(self.ts_status[ts - 1], live), assign(self.ts_interp[ts - 1], interp),
                assign(self.ts_counter[ts - 1], counter), assign(self.ts_owned[ts - 1], owned),
                assign(self.gilstate[t], ite(self.gilstate[t].eq(0), ts, self.gilstate[t]))]

    def delete_tstate(self, t: int, ts: ExprLike) -> list[Assign]:
        ts = lift(ts)
        return [assign(self.ts_status[ts - 1], O_FREED),
                assign(self.gilstate[t], ite(self.gilstate[t].eq(ts), 0, self.gilstate[t]))]

    def push(self, t: int, prev: ExprLike, guard_interp: ExprLike = 0) -> list[Assign]:
        """Remember what Release must restore (ghost) and which implicit guard it closes.
        Overflow trips the `depth` bound."""
        d = self.depth[t]
        n = self.layout.nesting
        at = t * n + ite(d < n, d, n - 1)
        return [assign(self.stack_prev[at], prev), assign(self.stack_guard[at], guard_interp),
                assign(self.depth[t], d + 1)]

    def top_guard(self, t: int) -> Expr:
        n = self.layout.nesting
        d = self.depth[t]
        return ite(d.eq(0), 0, self.stack_guard[t * n + ite(d.eq(0), 0, d - 1)])

    def top(self, t: int) -> Expr:
        n = self.layout.nesting
        d = self.depth[t]
        return ite(d.eq(0), 0, self.stack_prev[t * n + ite(d.eq(0), 0, d - 1)])

    def pop(self, t: int) -> list[Assign]:
        d = self.depth[t]
        return [assign(self.depth[t], ite(d.eq(0), 0, d - 1))]

    def restored(self, t: int) -> Expr:
        """Action check: after Release, the attached tstate is the one before the matching Ensure."""
        return self.attached[t].prime().eq(self.top(t))


LEAVE = -1   # Outcome.goto: return from the whole phased call (destroy_at_zero's deferred finalization)


@dataclass(frozen=True)
class Outcome:
    """One atomic alternative of a C call's step: when `guard` holds, apply `updates`.

    `stop` ends the thread's program here (it crashed the process or hung); `goto` names the
    next step of the same call (None: the call returns; LEAVE: a phased call such as
    Py_FinalizeEx returns at once, skipping its later phases). `stale_use` marks a step that
    acts on a Py_IsFinalizing() answer (checked for TOCTOU).
    """
    guard: Expr
    updates: list[Assign]
    note: str
    stop: bool = False
    goto: int | None = None
    stale_use: bool = False
    checks: tuple = ()


def standard_properties(v: Vocabulary, b: Builder, finalize_started: Expr, finalize_done: Expr) -> None:
    """The bug classes of SEMANTICS.md §5, named once for every design."""
    n = len(v.layout.threads)
    b.prop(Invariant("no_use_after_free", v.crash.ne(C_UAF),
                     "No access to a freed interpreter, thread state, guard or view.",
                     "the process touches freed memory: use after free"))
    b.prop(Invariant("no_attach_after_finalize",
                     all_of(*[v.status[t].eq(T_RUNNING) for t in range(n)]),
                     "No thread but the finalizer attaches to a finalizing interpreter.",
                     "a thread attaches to an interpreter after finalization started: it hangs forever "
                     "(3.14+) or exits (<= 3.13)"))
    b.prop(NoDeadlock(doc="Some thread can always move until every thread has returned; "
                          "includes a finalizer parked forever on guards."))
    b.prop(Invariant("right_interpreter", v.crash.ne(C_WRONG),
                     "Code touching an interpreter's objects runs with a thread state of that interpreter.",
                     "an object of one interpreter is used under another interpreter's thread state"))
    b.prop(ActionProperty("release_restores",
                          "Each Release leaves attached the thread state that was attached before its Ensure.",
                          "Release does not restore the thread state its Ensure replaced"))
    b.prop(Invariant("no_fatal_error", v.crash.ne(C_FATAL),
                     "No Py_FatalError: Ensure counter below zero, Release without a thread state, ...",
                     "CPython calls Py_FatalError: the process aborts"))
    b.prop(Invariant("no_call_without_thread_state", v.crash.ne(C_NO_TSTATE),
                     "Python code and C API calls that need a thread state have one attached.",
                     "Python code runs with no thread state attached: crash"))
    b.prop(NoHang(doc="Every thread that has not returned can eventually take another step."))
    b.prop(LeadsTo("finalization_completes", finalize_started, finalize_done,
                   "Once Py_FinalizeEx starts, it eventually returns (weak fairness per thread).",
                   "finalization started and never completes"))
    b.prop(ActionProperty("no_stale_check",
                          "No thread acts on a Py_IsFinalizing() answer that finalization made stale (TOCTOU).",
                          "the thread checked Py_IsFinalizing() == 0, finalization started since, "
                          "and the thread now acts on the stale answer"))


__all__ = ["Layout", "Vocabulary", "Outcome", "LEAVE", "standard_properties", "PHASE", "THREAD", "CRASH",
           "OBJECT", "GILSTATE", "UNBORN", "RUNNING", "PREFINAL", "GUARDS_CLOSED", "FINALIZING",
           "DELETED", "T_RUNNING", "T_HUNG", "T_EXITED", "C_NONE", "C_UAF", "C_FATAL",
           "C_NO_TSTATE", "C_WRONG", "O_UNUSED", "O_LIVE", "O_FREED", "any_of"]
