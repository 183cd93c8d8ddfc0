"""The state every C API design shares: interpreters, thread states, OS threads, the GIL,
handles (guards, views, references), client locks and events, and the properties.

A design (model/designs/) adds only the functions it defines; the lifecycle, attach/detach
and the bug classes live here once. Handle values are small ints: 0 is NULL, and each
object kind numbers its slots from 1, so a register holding a handle prints as its name.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .ir import (BOOL, FALSE, ActionProperty, Assign, Builder, Domain, Expr, ExprLike, Invariant, LeadsTo,
                 NoDeadlock, NoHang, Read, Var, all_of, any_of, assign, enum, ite, lift)

# Interpreter lifecycle (a modelling choice, docs/modeling.md "Finalization"):
# PREFINAL = thread join / atexit / pending calls;
# GUARDS_CLOSED = the finalizer's CAS to NOT_ALLOWED succeeded; FINALIZING = `_finalizing`
# set (Py_IsFinalizing() for main; attach by anyone else hangs); DELETED = freed.
PHASE = enum("unborn", "running", "prefinal", "guards_closed", "finalizing", "deleted")
UNBORN, RUNNING, PREFINAL, GUARDS_CLOSED, FINALIZING, DELETED = range(6)

# A thread stops for good when it hangs (PyThread_hang_thread, 3.14+) or exits
# (PyThread_exit_thread, <= 3.13) on attaching to a finalizing interpreter.
THREAD = enum("running", "hung", "exited")
T_RUNNING, T_HUNG, T_EXITED = range(3)

# Whole-process failures: the process is dead after any of these, so exploration stops there.
CRASH = enum("none", "use_after_free", "fatal_error", "no_thread_state", "wrong_interpreter", "null_deref")
C_NONE, C_UAF, C_FATAL, C_NO_TSTATE, C_WRONG, C_NULL = range(6)

OBJECT = enum("unused", "live", "freed")
O_UNUSED, O_LIVE, O_FREED = range(3)
# Thread states add a fourth: marked _Py_THREAD_SHUTTING_DOWN by finalization and kept alive by
# their own thread's reference (3.14+, gh-124878): attaching one hangs.
TSTATE = enum("unused", "live", "freed", "shutting_down")
O_SHUTDOWN = 3

# The process after main returned from Py_FinalizeEx: exit() ends every other thread.
PROCESS = enum("running", "exited")


@dataclass(frozen=True)
class Runtime:
    """What differs between CPython releases in attach and finalization (docs/modeling.md,
    "Per CPython release"). Each design runs on one; the PEP 788 designs on 3.15's (3.14's
    lifecycle with main's PyGILState_Ensure)."""
    # attach during finalization: PyThread_exit_thread (<= 3.13.7: Python/ceval_gil.c:385 (v3.12.0)), else
    # hang (gh-87135: Python/ceval_gil.c:314 (v3.13.15), :306 (v3.14.7))
    exit_on_finalize: bool
    # 3.14+: others' thread states marked shutting down, not freed (gh-124878: Python/pylifecycle.c:2092-2103,
    # Python/pystate.c:2040-2043 (v3.14.7)); up to 3.13 freed (Python/pylifecycle.c:1821 (v3.12.0))
    refcounted_tstates: bool
    ensure_after_fini_hangs: bool  # PyGILState_Ensure once main is gone: hang (main/3.15, PR #132510), else NULL deref
    # attach with a thread state attached: fatal (3.13+: Python/pystate.c:2204 (v3.14.7)), else a self-deadlock
    # (Python/ceval_gil.c:740, :403-408 (v3.12.0))
    restore_attached_fatal: bool
    rebind_gilstate: bool        # every attach binds the gilstate thread state (3.12+ tstate_activate,
                                 # Python/pystate.c:1713-1714 (v3.12.0), :2126 (v3.14.7))
    # 3.12+ (PEP 684: Python/pylifecycle.c:2071, Swap releases and takes GILs: Python/pystate.c:1847-1856
    # (v3.12.0)); 3.11 has one GIL and PyThreadState_Swap leaves it alone
    per_interpreter_gil: bool = True
    # 3.13+: Py_AddPendingCall from any thread sets the main thread's eval breaker (Python/ceval_gil.c:790
    # (v3.13.5), :793 (v3.14.7)); 3.12 asks _Py_IsMainThread() on the caller (Python/ceval_gil.c:72-73 (v3.12.0))
    pending_signals_main: bool = True
    # Py_EndInterpreter with another thread state of the interpreter: Py_FatalError("not the last thread")
    # up to 3.14.0 (Python/pylifecycle.c:2163 (v3.12.0)); from 3.14.1 (gh-128639 backport) the others are
    # removed and marked shutting down like Py_FinalizeEx's (Python/pylifecycle.c:2464-2467 (v3.14.7))
    end_interpreter_last_thread_fatal: bool = True
    # 3.13+: PyGILState_Release keeps gilstate_counter at 1 while PyThreadState_Clear runs destructors
    # (gh-119585; backported to 3.12.4, after the 3.12.1 the cpython_3_12 design was run against)
    clear_keeps_counter: bool = True
    # 3.13+: Py_FinalizeEx on the main thread with no thread state swaps main's in (resolve_final_tstate,
    # Python/pylifecycle.c:1988 (v3.13.5)); up to 3.12 the NULL thread state is dereferenced
    finalize_swaps_main: bool = True
    # up to 3.13 PyGILState_Check answers 1 once finalization deleted the PyGILState TSS key
    # (`if (!PyThread_tss_is_created(...)) return 1`: Python/pystate.c:1653 (v3.11.2), :2128 (v3.12.0),
    # :2732 (v3.13.5); run on 3.11.7, 3.12.1, 3.13.0); main keeps the binding in a thread-local and has
    # no such test (Python/pystate.c PyGILState_Check), which 3.14 is assumed to share (not run here)
    gilstate_check_after_fini: bool = False


RUNTIME_3_11 = Runtime(exit_on_finalize=True, refcounted_tstates=False, ensure_after_fini_hangs=False,
                       restore_attached_fatal=False, rebind_gilstate=False, per_interpreter_gil=False,
                       pending_signals_main=False, clear_keeps_counter=False,
                       finalize_swaps_main=False, gilstate_check_after_fini=True)
RUNTIME_3_12 = replace(RUNTIME_3_11, rebind_gilstate=True, per_interpreter_gil=True)
RUNTIME_3_13 = replace(RUNTIME_3_12, restore_attached_fatal=True, pending_signals_main=True,
                       clear_keeps_counter=True, finalize_swaps_main=True)
RUNTIME_3_13_8 = replace(RUNTIME_3_13, exit_on_finalize=False)  # gh-87135: Python/ceval_gil.c:314 (v3.13.15)
# 3.14: thread states refcounted and marked shutting down (Python/pystate.c:3141-3144, :2040-2043
# (v3.14.7); gh-124878); PyGILState_Ensure still has no hang check (Python/pystate.c:2897 (v3.14.7))
RUNTIME_3_14 = replace(RUNTIME_3_13_8, refcounted_tstates=True, end_interpreter_last_thread_fatal=False,
                       gilstate_check_after_fini=False)
RUNTIME_3_15 = replace(RUNTIME_3_14, ensure_after_fini_hangs=True)   # main: gh-131185, PR #132510

GILSTATE = enum("PyGILState_LOCKED", "PyGILState_UNLOCKED")


@dataclass(frozen=True)
class Handle:
    """A kind of API object a call creates into a numbered slot (a guard, a view, an
    interpreter reference): its layout's slot names, its variables' prefix and its domain."""
    kind: str
    prefix: str          # its variables: <prefix>_status, <prefix>_interp
    layout_field: str    # Layout's slot names
    domain: str          # Vocabulary's domain of its values


# The handle kinds, declared once: the layout, the domains, what a call creates and symmetry read it.
# Strong and weak interpreter references ("wref") share the "ref" slots (r1 family).
HANDLES = (Handle("guard", "g", "guard_slots", "guard"), Handle("view", "v", "view_slots", "view"),
           Handle("ref", "r", "ref_slots", "ref"))


def handle_kind(creates: str | None) -> str | None:
    """The handle kind whose slots a call that creates `creates` takes, or None."""
    kind = "ref" if creates == "wref" else creates
    return kind if any(h.kind == kind for h in HANDLES) else None


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
    gil_of: tuple[int, ...] = ()        # per interpreter, the interpreter whose GIL it uses (empty: its own)
    hooks: tuple[str, ...] = ()         # spliced programs the spec gives: "pending_calls", "c_atexit", "unstable_atexit"
    joined: tuple[int, ...] = ()        # threads that are non-daemon threading.Threads (Py_FinalizeEx joins them)

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
        """Declares every variable once, with who owns it (the thread, its thread states, its
        Ensure stack, a handle slot, or nobody: shared); symmetry reads that declaration.
        Long because it is the list of the model's state, each variable with its reason."""
        lay, b = self.layout, self.b
        self.owned_by_thread: list[Var] = []               # indexed by thread
        self.owned_by_thread_block: list[tuple[Var, int]] = []   # `size` consecutive slots per thread
        self.owned_by_handle: dict[str, list[Var]] = {h.kind: [] for h in HANDLES}   # indexed by slot - 1
        self.shared: list[Var] = []                        # belongs to no thread
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
        self.process = b.scalar("process", PROCESS)
        self.phase = b.array("phase", ni, PHASE, [RUNNING if x else UNBORN for x in lay.born], lay.interps)
        self.gil = b.array("gil", ni, holder, labels=lay.interps)
        # The count finalization waits for: guards (Final), and in the earlier revisions the
        # strong interpreter references and non-daemon thread states (docs/modeling.md, r0/r1).
        bound = len(lay.guard_slots) + len(lay.ref_slots) + nth * lay.nesting
        self.guards = b.array("guards", ni, Domain(0, max(1, bound)), labels=lay.interps)
        self.finalizer = b.array("finalizer", ni, holder, labels=lay.interps)

        ts_names = lay.tstate_labels()[1:]
        self.ts_status = b.array("ts_status", nt, TSTATE, labels=ts_names)
        self.ts_interp = b.array("ts_interp", nt, self.interp, labels=ts_names)
        # PEP 788's Ensure counter and PyGILState's gilstate_counter are separate fields.
        self.ts_counter = b.array("ts_counter", nt, Domain(0, lay.max_counter), labels=ts_names)
        self.gil_counter = b.array("gilstate_counter", nt, Domain(0, lay.max_counter), labels=ts_names)
        self.ts_owned = b.array("ts_owned", nt, BOOL, labels=ts_names)
        b.bounds.update(ts_status="tstates_per_thread", ts_counter="max_counter", gilstate_counter="max_counter",
                        depth="nesting")

        self.status = b.array("status", nth, THREAD, labels=lay.threads)
        self.attached = b.array("attached", nth, self.tstate, labels=lay.threads)
        self.gilstate = b.array("gilstate", nth, self.tstate, labels=lay.threads)
        self.saved = b.array("saved", nth, self.tstate, labels=lay.threads)
        # What a call split in steps attaches in its next step: the thread state Ensure made or
        # found, the one Release gives back, the one Swap switches to, the one PyMutex_Lock
        # re-attaches after parking.
        self.to_attach = b.array("to_attach", nth, self.token, labels=lay.threads)
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
        # Functions queued by Py_AddPendingCall / registered by Py_AtExit and not run yet.
        queue = Domain(0, lay.max_counter)
        self.pending_calls = b.scalar("pending_calls", queue) if "pending_calls" in lay.hooks else None
        self.exitfuncs = b.scalar("exitfuncs", queue) if "c_atexit" in lay.hooks else None
        b.bounds.update({n: "max_counter" for n, x in (("pending_calls", self.pending_calls),
                                                       ("exitfuncs", self.exitfuncs)) if x is not None})
        # PyUnstable_AtExit callbacks not run yet, per interpreter (each runs its own at its end).
        self.unstable_exitfuncs = b.array("unstable_exitfuncs", ni, queue, labels=lay.interps) \
            if "unstable_atexit" in lay.hooks else None
        if self.unstable_exitfuncs is not None:
            b.bounds["unstable_exitfuncs"] = "max_counter"
        # 1 once a non-daemon Python thread's thread state is deleted: threading._shutdown's join returns.
        self.thread_done = b.array("thread_done", nth, BOOL, labels=lay.threads) if lay.joined else None
        self.lock = b.array("lock", len(lay.locks), holder, labels=lay.locks) if lay.locks else None
        self.event = b.array("event", len(lay.events), BOOL, labels=lay.events) if lay.events else None
        self._declare_owners()

    def _declare_owners(self) -> None:
        lay = self.layout
        self.owned_by_thread += [x for x in (self.status, self.attached, self.gilstate, self.saved, self.to_attach,
                                             self.depth, self.checked, self.thread_done) if x is not None]
        self.owned_by_thread_block += [(x, lay.tstates_per_thread) for x in (
            self.ts_status, self.ts_interp, self.ts_counter, self.ts_owned, self.gil_counter)]
        self.owned_by_thread_block += [(self.stack_prev, lay.nesting), (self.stack_guard, lay.nesting)]
        for h in HANDLES:
            if getattr(lay, h.layout_field):
                self.owned_by_handle[h.kind] += [getattr(self, f"{h.prefix}_status"), getattr(self, f"{h.prefix}_interp")]
        self.shared += [x for x in (self.crash.var, self.process.var, self.phase, self.gil, self.guards, self.finalizer,
                                    self.lock, self.event, self.unstable_exitfuncs) if x is not None]
        self.shared += [x.var for x in (self.pending_calls, self.exitfuncs) if x is not None]

    def declare_shared(self, x: Read) -> Read:
        """A variable a compiler adds beside the vocabulary's, owned by no thread."""
        self.shared.append(x.var)
        return x

    def value_classes(self) -> dict[int, str]:
        """Domain (by id) → which kind of object its values name: a thread, a thread state
        (or an Ensure token, which names one), a handle slot; symmetry permutes those values."""
        classes = {id(self.holder): "thread", id(self.tstate): "tstate", id(self.token): "tstate"}
        classes.update({id(getattr(self, h.domain)): h.kind for h in HANDLES})
        return classes

    def kind_domain(self, kind: str) -> Domain:
        """The domain of the values of an object kind a call takes or returns (handle slots,
        thread states, interpreters; 0 is NULL)."""
        return {"token": self.token, "tstate": self.tstate, "interp": self.interp, "threadref": self.token,
                **{h.kind: getattr(self, h.domain) for h in HANDLES}, "wref": self.ref}[kind]

    # ----- reading the state -------------------------------------------------------------
    def interp_of(self, ts: ExprLike) -> Expr:
        """Interpreter handle of a tstate handle (0 for NULL)."""
        ts = lift(ts)
        return ite(ts.eq(0), 0, self.ts_interp[ts - 1])

    def gil_index(self, interp: ExprLike) -> Expr:
        """0-based GIL slot of an interpreter handle: its own, or main's for one made by
        Py_NewInterpreter, whose legacy config shares the main GIL (PyInterpreterConfig_SHARED_GIL,
        Python/pylifecycle.c Py_NewInterpreter), and for every interpreter on 3.11 (one GIL)."""
        interp = lift(interp)
        idx: Expr = interp - 1
        for i, g in enumerate(self.layout.gil_of):
            if g != i:
                idx = ite(interp.eq(i + 1), g, idx)
        return idx

    def gil_of(self, interp: ExprLike) -> Read:
        return self.gil[self.gil_index(interp)]

    def ts_state(self, ts: ExprLike) -> Expr:
        """ts_status of a tstate handle (unused for NULL)."""
        ts = lift(ts)
        return ite(ts.eq(0), O_UNUSED, self.ts_status[ts - 1])

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
        """Py_IsFinalizing(): the main interpreter (runtime) is finalizing (Doc/c-api/interp-lifecycle.rst)."""
        return self.phase[0] >= FINALIZING

    # ----- building outcomes ---------------------------------------------------------------
    def crash_with(self, code: int) -> list[Assign]:
        return [assign(self.crash, code)]

    def hang(self, t: int) -> list[Assign]:
        """The thread attaches to a finalizing interpreter: exits (<= 3.13.7) or hangs (3.13.8+)."""
        return [assign(self.status[t], T_EXITED if self.runtime.exit_on_finalize else T_HUNG)]

    runtime: Runtime = RUNTIME_3_15
    # Set by the program compiler: the process's main thread (pending calls run there), and up
    # to 3.12 whether its eval breaker has seen the queued pending calls.
    main_thread = None
    pending_seen = None

    def hang_note(self) -> str:
        return "exits (PyThread_exit_thread)" if self.runtime.exit_on_finalize \
            else "hangs forever (PyThread_hang_thread)"

    def attach_outcomes(self, t: int, ts: ExprLike, then: list[Assign], what: str,
                        checks: tuple = ()) -> list["Outcome"]:
        """Attach `ts` to thread t, as _PyThreadState_Attach / take_gil do. Which check comes
        first depends on the release (docs/modeling.md, "Per CPython release"):
        <= 3.13: take_gil asks _PyRuntime's finalizing before touching the thread state, so a
          non-finalizer exits (hangs from 3.13.8) even when its thread state was freed
          (Python/ceval_gil.h:196 tstate_must_exit (v3.11.2), Python/ceval_gil.c:349-359 (v3.12.0),
          Python/pystate.c:3014 (v3.13.5));
        3.14+: _PyThreadState_MustExit reads the thread state's own SHUTTING_DOWN mark
          (gh-124878, Python/pystate.c:3141-3144 (v3.14.7)), so a thread state created during
          finalization is not stopped (gh-132948).
        Then: a freed thread state or interpreter is a use after free; up to 3.13 a finalizing
        subinterpreter stops every thread but its finalizer too; else wait for the GIL."""
        ts = lift(ts)
        interp = self.interp_of(ts)
        null = ts.eq(0)
        freed = ~null & (~self.ts_alive(ts) | self.phase_of(interp).eq(DELETED))
        if self.runtime.refcounted_tstates:
            first = self.ts_state(ts).eq(O_SHUTDOWN)
            later: Expr = FALSE   # only the mark stops a thread (gh-132948)
        else:
            first = ~null & self.runtime_finalizing() & ~self.is_finalizer(t, 1)
            later = ~null & self.finalizing(interp) & ~self.is_finalizer(t, interp)
        ok = ~null & ~first & ~freed & ~later & self.gil_of(interp).eq(0)
        bind = [assign(self.gilstate[t], ts)] if self.runtime.rebind_gilstate else []
        if self.pending_seen is not None and t == self.main_thread:
            # <= 3.12: take_gil recomputes the eval breaker, which then sees the queued calls
            # (Python/ceval_gil.h:321, Python/ceval.c:247 (v3.11.2); Python/ceval_gil.c:63-75 (v3.12.0))
            bind.append(assign(self.pending_seen, ite(self.pending_calls > 0, 1, 0)))
        stop = "attach: interpreter is finalizing, thread " + self.hang_note()
        return [
            Outcome(null, self.crash_with(C_FATAL), "attach: NULL thread state: Py_FatalError", stop=True),
            Outcome(first, self.hang(t), stop, stop=True, stale_use=True),
            Outcome(~null & ~first & freed, self.crash_with(C_UAF), "attach: thread state or interpreter already freed",
                    stop=True),
            Outcome(~null & ~first & ~freed & later, self.hang(t), stop, stop=True, stale_use=True),
            Outcome(ok, [assign(self.attached[t], ts), assign(self.gil_of(interp), t + 1),
                         assign(self.checked[t], 0)] + bind + then, what, checks=checks),
        ]

    def restore_outcomes(self, t: int, ts: ExprLike, then: list[Assign], what: str,
                         checks: tuple = ()) -> list["Outcome"]:
        """PyEval_RestoreThread / Py_END_ALLOW_THREADS: attach, with another thread state
        possibly attached. 3.13+: Py_FatalError("non-NULL old thread state")
        (Python/pystate.c:2084 (v3.13.5), :2204 (v3.14.7)); 3.11/3.12: take_gil waits for the GIL
        this thread already holds, a self-deadlock (Python/ceval_gil.h:213 take_gil (v3.11.2);
        Python/ceval_gil.c:740, :403-408 (v3.12.0)). A NULL argument is Py_FatalError first, on
        every release, attached or not (_Py_EnsureTstateNotNULL: PyEval_RestoreThread(NULL) with
        main attached aborts on 3.11.7, 3.12.1 and 3.13.0, tests/cpython)."""
        cur, ts = self.attached[t], lift(ts)
        outs = [replace(o, guard=(cur.eq(0) | ts.eq(0)) & o.guard)
                for o in self.attach_outcomes(t, ts, then, what, checks)]
        if self.runtime.restore_attached_fatal:
            outs.insert(0, Outcome(cur.ne(0) & ts.ne(0), self.crash_with(C_FATAL),
                                   "non-NULL old thread state: Py_FatalError", stop=True))
        else:   # the thread waits for a GIL nobody will release; another interpreter's GIL it can take
            outs += [replace(o, guard=cur.ne(0) & o.guard) for o in self.attach_outcomes(t, ts, then, what, checks)
                     if not o.stop]
        return outs

    def retake_gil_outcomes(self, t: int, what: str) -> list["Outcome"]:
        """take_gil for a thread whose tstate stayed current while it waited (eval breaker):
        the same checks as attach, without changing the attached tstate."""
        return [replace(o, updates=[u for u in o.updates if u.target.var is not self.attached
                                    and u.target.var is not self.gilstate])
                for o in self.attach_outcomes(t, self.attached[t], [], what)]

    def detach(self, t: int) -> list[Assign]:
        """Release the GIL of the attached tstate's interpreter and detach (no-op when none)."""
        cur = self.attached[t]
        interp = self.interp_of(cur)
        at = self.gil[ite(cur.eq(0), 1, interp) - 1] if not any(g != i for i, g in enumerate(self.layout.gil_of)) \
            else self.gil[ite(cur.eq(0), 0, self.gil_index(interp))]
        return [assign(self.attached[t], 0), assign(at, ite(cur.eq(0), self.gil[0], 0))]

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

    def create_tstate(self, t: int, ts: Expr, interp: ExprLike, owned: int = 0, counter: int = 0,
                      gil_counter: int = 1) -> list[Assign]:
        """PyThreadState_New (Python/pystate.c): link into the interpreter, bind gilstate if
        unset. gilstate_counter starts at 1 so that PyGILState_Release never deletes a thread
        state it did not create (Python/pystate.c:1627 (v3.11.2), :1303 (v3.12.0), :1521 (v3.13.5),
        :1579 (v3.14.7));
        PyGILState_Ensure passes 0. A thread with no unused slot left writes a value outside
        ts_status's domain: every engine stops there with the bound message (System.bounds)."""
        live = ite(self.pool_full(t), len(TSTATE.labels), O_LIVE)
        return [assign(self.ts_status[ts - 1], live), assign(self.ts_interp[ts - 1], interp),
                assign(self.ts_counter[ts - 1], counter), assign(self.gil_counter[ts - 1], gil_counter),
                assign(self.ts_owned[ts - 1], owned),
                assign(self.gilstate[t], ite(self.gilstate[t].eq(0), ts, self.gilstate[t]))]

    def delete_tstate(self, t: int, ts: ExprLike) -> list[Assign]:
        """Free `ts`, deleted by thread t. Up to 3.11 t's PyGILState forgets it if it was t's
        (Python/pystate.c:1102-1110 (v3.11.2)). From 3.12, if any thread's PyGILState is bound
        to it, unbind_gilstate_tstate clears the *calling* thread's binding (tstate_delete_common,
        Python/pystate.c:1539, :325-335 (v3.12.0); :1811, :338-347 (v3.13.5); gilstate_clear on
        main): deleting another thread's bound thread state makes t's next PyGILState_Ensure
        create one while t is attached (a self-deadlock on 3.12.1, Py_FatalError on 3.13.0),
        and leaves the other thread's binding dangling."""
        ts = lift(ts)
        mine = self.gilstate[t].eq(ts)
        if self.runtime.rebind_gilstate:
            mine = any_of(*[self.gilstate[u].eq(ts) for u in range(self.gilstate.length)])
        return [assign(self.ts_status[ts - 1], O_FREED), assign(self.gilstate[t], ite(mine, 0, self.gilstate[t]))]

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
    """The bug classes (use after free, hang, deadlock, wrong interpreter, fatal error, ...),
    named once for every design."""
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
    b.prop(Invariant("no_null_deref", v.crash.ne(C_NULL),
                     "No NULL pointer dereference (SIGSEGV), e.g. PyGILState_Ensure after finalization on <= 3.13.",
                     "the process dereferences a NULL pointer: SIGSEGV"))
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
           "C_NO_TSTATE", "C_WRONG", "C_NULL", "O_SHUTDOWN", "TSTATE", "PROCESS", "Runtime", "RUNTIME_3_11",
           "RUNTIME_3_12", "RUNTIME_3_13", "RUNTIME_3_13_8", "RUNTIME_3_14", "RUNTIME_3_15", "O_UNUSED", "O_LIVE", "O_FREED", "any_of"]
