"""The alternative raised in review (PEP 788 Final, "Rejected Ideas", interpreter reference
counting): "true" reference counting,
where the interpreter is finalized and freed by whichever `PyInterpreterRef_Close` drops the
last strong reference. No PEP revision adopted it; the Final PEP's rejected ideas give the
reason ("an interpreter would not be deallocated immediately when its reference count
reached zero").

The model is R1 (references, Ensure(ref), Release(void)) with two changes:
- `Py_FinalizeEx` / `Py_EndInterpreter` drop the runtime's own reference instead of waiting:
  with no other reference left they finalize as usual; otherwise they detach and return at
  once (phase stays PREFINAL, no finalizer), and
- the `PyInterpreterRef_Close` that then drops the count to 0 finalizes the interpreter on
  its own thread. Finalization runs Python code (finalizers, module teardown), so a closer
  with no thread state of that interpreter attached runs it without one
  (`no_call_without_thread_state`) or under another interpreter's (`right_interpreter`); a
  closer that has one loses it, with every other thread state of the interpreter.
"""
from __future__ import annotations

from ..ir import Expr, all_of, assign
from ..vocabulary import (C_NO_TSTATE, C_UAF, C_WRONG, FINALIZING, GUARDS_CLOSED, LEAVE, O_FREED, PREFINAL, Outcome,
                          Vocabulary)
from .api import Api, Design, Site, Steps, table
from .legacy import LEGACY
from .lifecycle import teardown
from .r1 import R1_THREADS, ref_dead, refs_api

DAZ = "PEP 788 rejected ideas: true refcounting, destroy at zero (not adopted)"


def close_phase(v: Vocabulary, t: int, interp: Expr, s: Site) -> Steps:
    """In place of the guard wait: with references left, hand finalization to the last Close."""
    # Destroy on refcount zero (rejected in PEP 788) instead of a waiting finalizer: it never blocks.
    count = v.guards[interp - 1]
    return [[Outcome(count.eq(0), [assign(v.phase_of(interp), GUARDS_CLOSED)],
                     "no references left: finalized here, no new reference can be taken"),
             Outcome(count > 0, [assign(v.finalizer[interp - 1], 0)] + v.detach(t) + s.ret(0),
                     "references left: returns at once; the last PyInterpreterRef_Close finalizes the interpreter",
                     goto=LEAVE)]]


def ref_close(s: Site) -> Steps:
    # Destroy on the last reference: -1; the Close that reaches 0 after the runtime
    # dropped its own reference finalizes and frees the interpreter on the calling thread.
    v, t = s.v, s.t
    r = s.args[0]
    dead = ref_dead(v, r)
    interp = v.r_interp[r - 1]
    count = v.guards[interp - 1]
    last = all_of(~dead, count.eq(1), v.phase_of(interp).eq(PREFINAL), v.finalizer[interp - 1].eq(0))
    drop = [assign(v.r_status[r - 1], O_FREED), assign(count, count - 1)]
    start = drop + [assign(v.phase_of(interp), FINALIZING), assign(v.finalizer[interp - 1], t + 1)]
    cur = v.attached[t]
    mine = cur.ne(0) & v.interp_of(cur).eq(interp)
    step0 = [
        Outcome(dead, v.crash_with(C_UAF), "reference is NULL or already closed", stop=True),
        Outcome(~dead & ~last, drop, "strong reference closed"),
        Outcome(last & cur.eq(0), start + v.crash_with(C_NO_TSTATE),
                "last reference: this thread finalizes the interpreter, with no thread state attached", stop=True),
        Outcome(last & cur.ne(0) & ~mine, start + v.crash_with(C_WRONG),
                "last reference: this thread finalizes the interpreter under another interpreter's thread state",
                stop=True),
        Outcome(last & mine, start, "last reference: this thread finalizes the interpreter (finalizers run here)",
                goto=1),
    ]
    return [step0] + teardown(v, t, interp, s, "the last Close")


DESTROY_AT_ZERO = Design(
    "destroy_at_zero", "Review alternative (never adopted): R1 references, but the Close that drops the last "
    "strong reference finalizes and frees the interpreter on its own thread; Py_FinalizeEx does not wait.",
    {**LEGACY.api, **refs_api(), **R1_THREADS, **table(
        Api("PyInterpreterRef_Close", ("ref",), None, ref_close, f"PyInterpreterRef_Close, destroying at 0 ({DAZ})"),
    )}, "PEP 788 Final, Rejected Ideas (interpreter reference counting; not adopted)", waits_for_guards=True,
    options={"close_phase": close_phase})
