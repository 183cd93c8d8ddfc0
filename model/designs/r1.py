"""PEP 788 revision R1 (PEP@81424fc9f … c5fc5a4f9): strong and weak
interpreter references, `PyThreadState_Ensure(ref)` that does not steal the reference, and
`PyThreadState_Release(void)` with an implicit per-thread stack.

The strong-reference count is the vocabulary's `guards` counter, and finalization waits on it
exactly as the Final design waits on guards (lifecycle.close_guards): phase GUARDS_CLOSED
reads "finished waiting on strong references", after which Get / Main / AsStrong fail.
Strong and weak references share the `ref` slots; a closed reference counts as freed.
`r1_racy_promote` is R1 with `PyInterpreterWeakRef_AsStrong` split into check, then increment.
"""
from __future__ import annotations

from dataclasses import replace

from ..ir import Expr, all_of, assign, ite
from ..vocabulary import C_FATAL, C_NO_TSTATE, C_UAF, DELETED, GUARDS_CLOSED, O_FREED, O_LIVE, Outcome, Vocabulary
from .api import Api, Design, Site, Steps, table
from .final import ensure_steps, release as token_release
from .legacy import LEGACY
from .lifecycle import MAIN

R1 = "PEP@81424fc9f"


def ref_dead(v: Vocabulary, r: Expr) -> Expr:
    """A NULL or closed (strong or weak) reference."""
    return r.eq(0) | v.r_status[r - 1].ne(O_LIVE)


def done_waiting(v: Vocabulary, interp: Expr) -> Expr:
    """The interpreter finished waiting on strong references (or is gone): promotion fails."""
    return v.phase_of(interp) >= GUARDS_CLOSED


def new_ref(v: Vocabulary, slot: int, interp: Expr, strong: bool) -> list:
    """Fill the call site's slot; a strong reference adds one to the interpreter's count."""
    updates = [assign(v.r_status[slot - 1], O_LIVE), assign(v.r_interp[slot - 1], interp)]
    return updates + ([assign(v.guards[interp - 1], v.guards[interp - 1] + 1)] if strong else [])


def returning(steps: Steps, updates: list) -> Steps:
    """Add `updates` to every outcome that completes the call (sets an int result)."""
    return [[replace(o, updates=o.updates + updates) if not o.stop and o.goto is None else o for o in step]
            for step in steps]


def ref_get(s: Site) -> Steps:
    # R1 PyInterpreterRef_Get (PEP@81424fc9f): needs a thread state; -1 with an
    # exception once the interpreter "already finished waiting on strong references".
    v, t = s.v, s.t
    cur = v.attached[t]
    interp = v.interp_of(cur)
    return [[Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "needs an attached thread state", stop=True),
             Outcome(cur.ne(0) & done_waiting(v, interp), s.ret(0),
                     "finished waiting on strong references: -1, exception set"),
             Outcome(cur.ne(0) & ~done_waiting(v, interp), new_ref(v, s.slot, interp, True) + s.ret(s.slot),
                     "strong reference taken")]]


def ref_main(s: Site) -> Steps:
    # R1 PyInterpreterRef_Main (PEP@81424fc9f): no thread state; -1 once main
    # finished waiting on its reference count.
    v, main = s.v, MAIN
    return [[Outcome(done_waiting(v, main), s.ret(0), "main finished waiting on strong references: -1"),
             Outcome(~done_waiting(v, main), new_ref(v, s.slot, main, True) + s.ret(s.slot),
                     "strong reference to main taken")]]


def ref_dup(s: Site) -> Steps:
    # R1 PyInterpreterRef_Dup (PEP@81424fc9f: "Duplicate a strong reference", "cannot fail"):
    # +1, because the reference it copies pins the interpreter.
    v = s.v
    r = s.args[0]
    dead = ref_dead(v, r)
    return [[Outcome(dead, v.crash_with(C_UAF), "reference is NULL or closed", stop=True),
             Outcome(~dead, new_ref(v, s.slot, v.r_interp[r - 1], True) + s.ret(s.slot), "strong reference copied")]]


def ref_close(s: Site) -> Steps:
    # R1 PyInterpreterRef_Close (PEP@81424fc9f): -1, never blocks, "allowing it to
    # shut down if there are no references left" (wakes a waiting finalizer).
    v = s.v
    r = s.args[0]
    dead = ref_dead(v, r)
    interp = v.r_interp[r - 1]
    return [[Outcome(dead, v.crash_with(C_UAF), "reference is NULL or already closed", stop=True),
             Outcome(~dead, [assign(v.r_status[r - 1], O_FREED),
                             assign(v.guards[interp - 1], v.guards[interp - 1] - 1)], "strong reference closed")]]


def ref_as_interpreter(s: Site) -> Steps:
    # R1 PyInterpreterRef_AsInterpreter (PEP@81424fc9f): cannot fail.
    v = s.v
    r = s.args[0]
    dead = ref_dead(v, r)
    return [[Outcome(dead, v.crash_with(C_UAF), "reference is NULL or closed", stop=True),
             Outcome(~dead, s.ret(v.r_interp[r - 1]), "")]]


def wref_get(s: Site) -> Steps:
    # R1 PyInterpreterWeakRef_Get (PEP@81424fc9f): needs a thread state; the
    # interpreter does not wait for weak references.
    v, t = s.v, s.t
    cur = v.attached[t]
    return [[Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "needs an attached thread state", stop=True),
             Outcome(cur.ne(0), new_ref(v, s.slot, v.interp_of(cur), False) + s.ret(s.slot), "weak reference taken")]]


def wref_dup(s: Site) -> Steps:
    # R1 PyInterpreterWeakRef_Dup (PEP@81424fc9f): cannot fail.
    v = s.v
    w = s.args[0]
    dead = ref_dead(v, w)
    return [[Outcome(dead, v.crash_with(C_UAF), "weak reference is NULL or closed", stop=True),
             Outcome(~dead, new_ref(v, s.slot, v.r_interp[w - 1], False) + s.ret(s.slot), "weak reference copied")]]


def wref_close(s: Site) -> Steps:
    # R1 PyInterpreterWeakRef_Close (PEP@81424fc9f): always allowed, even after
    # the interpreter was deleted (weak references are looked up by ID).
    v = s.v
    w = s.args[0]
    dead = ref_dead(v, w)
    return [[Outcome(dead, v.crash_with(C_UAF), "weak reference is NULL or already closed", stop=True),
             Outcome(~dead, [assign(v.r_status[w - 1], O_FREED)], "weak reference closed")]]


def wref_as_strong(s: Site) -> Steps:
    # R1 PyInterpreterWeakRef_AsStrong (PEP@81424fc9f): -1 without an exception
    # if the interpreter is gone or finished waiting; lookup and increment are one atomic step
    # (as Final's FromView, an ID lookup under the runtime lock: PR #149116).
    v = s.v
    w = s.args[0]
    dead = ref_dead(v, w)
    interp = v.r_interp[w - 1]
    return [[Outcome(dead, v.crash_with(C_UAF), "weak reference is NULL or closed", stop=True),
             Outcome(~dead & done_waiting(v, interp), s.ret(0), "interpreter gone or finished waiting: -1"),
             Outcome(~dead & ~done_waiting(v, interp), new_ref(v, s.slot, interp, True) + s.ret(s.slot),
                     "promoted to a strong reference")]]


def wref_as_strong_racy(s: Site) -> Steps:
    # Design option (a modelling choice, docs/modeling.md "r1_racy_promote"): AsStrong as
    # check-then-increment, two steps; the finalizer can finish waiting, or free the interpreter, in between.
    v = s.v
    w = s.args[0]
    dead = ref_dead(v, w)
    interp = v.r_interp[w - 1]
    gone = v.phase_of(interp).eq(DELETED)
    check = [Outcome(dead, v.crash_with(C_UAF), "weak reference is NULL or closed", stop=True),
             Outcome(~dead & done_waiting(v, interp), s.ret(0), "interpreter gone or finished waiting: -1"),
             Outcome(~dead & ~done_waiting(v, interp), [], "check: interpreter alive and still waiting", goto=1)]
    incr = [Outcome(gone, v.crash_with(C_UAF), "increment: the interpreter was freed since the check", stop=True),
            Outcome(~gone & done_waiting(v, interp), new_ref(v, s.slot, interp, True) + s.ret(s.slot),
                    "increment after the finalizer finished waiting: the reference no longer holds it"),
            Outcome(~gone & ~done_waiting(v, interp), new_ref(v, s.slot, interp, True) + s.ret(s.slot),
                    "increment: promoted to a strong reference")]
    return [check, incr]


def ensure(s: Site) -> Steps:
    # R1 PyThreadState_Ensure(ref) (PEP@81424fc9f): the reuse rules the Final
    # text kept (attached tstate, else gilstate tstate, if its interpreter matches; else a new
    # one); does not steal `ref`; 0 on success (failure is out-of-memory only, not modelled).
    v = s.v
    r = s.args[0]
    dead = ref_dead(v, r)
    steps = returning(ensure_steps(replace(s, result=None), v.r_interp[r - 1], ~dead, [], 0, False), s.ret(0))
    steps[0].insert(0, Outcome(dead, v.crash_with(C_UAF), "reference is NULL or closed", stop=True))
    return steps


def release(s: Site) -> Steps:
    # R1 PyThreadState_Release(void) (PEP@81424fc9f): pops the implicit stack and
    # restores the tstate saved there; the Final counter/ownership reading (PEP 788
    # "PyThreadState_Release") decides whether the tstate is deleted; an empty stack is
    # Py_FatalError (R1 says only "cannot fail"; a modelling choice, docs/modeling.md).
    v, t = s.v, s.t
    prev = v.top(t)
    steps = token_release(replace(s, args=(ite(prev.eq(0), v.SENTINEL, prev),)))
    empty = v.depth[t].eq(0)
    steps[0] = [Outcome(empty, v.crash_with(C_FATAL), "no open PyThreadState_Ensure: implicit stack is empty, "
                        "Py_FatalError", stop=True)] + [replace(o, guard=all_of(~empty, o.guard)) for o in steps[0]]
    return steps


def refs_api(as_strong=wref_as_strong) -> dict[str, Api]:
    """R1's reference functions; R1b, R1c-era options and destroy_at_zero share them."""
    return table(
        Api("PyInterpreterRef_Get", (), "ref", ref_get, f"PEP 788 R1 PyInterpreterRef_Get ({R1})", creates="ref"),
        Api("PyInterpreterRef_Main", (), "ref", ref_main, f"PEP 788 R1 PyInterpreterRef_Main ({R1})", creates="ref"),
        Api("PyInterpreterRef_Dup", ("ref",), "ref", ref_dup, f"PEP 788 R1 PyInterpreterRef_Dup ({R1}: +1, 'cannot fail')",
            creates="ref"),
        Api("PyInterpreterRef_Close", ("ref",), None, ref_close, f"PEP 788 R1 PyInterpreterRef_Close ({R1})"),
        Api("PyInterpreterRef_AsInterpreter", ("ref",), "interp", ref_as_interpreter,
            f"PEP 788 R1 PyInterpreterRef_AsInterpreter ({R1})"),
        Api("PyInterpreterWeakRef_Get", (), "wref", wref_get, f"PEP 788 R1 PyInterpreterWeakRef_Get ({R1})",
            creates="wref"),
        Api("PyInterpreterWeakRef_Dup", ("wref",), "wref", wref_dup, f"PEP 788 R1 PyInterpreterWeakRef_Dup ({R1})",
            creates="wref"),
        Api("PyInterpreterWeakRef_AsStrong", ("wref",), "ref", as_strong,
            f"PEP 788 R1 PyInterpreterWeakRef_AsStrong ({R1})"
            + ("" if as_strong is wref_as_strong else "; racy check-then-increment option (a modelling choice)"), creates="ref"),
        Api("PyInterpreterWeakRef_Close", ("wref",), None, wref_close, f"PEP 788 R1 PyInterpreterWeakRef_Close ({R1})"),
    )


R1_THREADS = table(
    Api("PyThreadState_Ensure", ("ref",), "int", ensure, f"PEP 788 R1 PyThreadState_Ensure ({R1})"),
    Api("PyThreadState_Release", (), None, release, f"PEP 788 R1 PyThreadState_Release(void) ({R1}; empty stack: Py_FatalError, a modelling choice)"),
)

R1_DESIGN = Design(
    "r1", "PEP 788 R1: strong/weak interpreter references; Ensure(ref) does not steal it; Release(void) "
    "pops an implicit per-thread stack.",
    {**LEGACY.api, **refs_api(), **R1_THREADS}, "PEP 788 R1 (PEP@81424fc9f)", waits_for_guards=True)

R1_RACY_PROMOTE = Design(
    "r1_racy_promote", "R1 with PyInterpreterWeakRef_AsStrong as check-then-increment in two steps "
    "(not atomic): the finalizer can finish waiting, or free the interpreter, in between.",
    {**LEGACY.api, **refs_api(wref_as_strong_racy), **R1_THREADS}, "PEP 788 R1 (PEP@81424fc9f); promotion atomicity as a design option",
    waits_for_guards=True)
