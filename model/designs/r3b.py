"""PEP 788 revision R3b, the SC revision that was accepted (PEP@03944adf1):
guards and views as in Final, with Ensure / EnsureFromView / Release following the reference
pseudo-code that R3b printed (and the Final revision removed).

Two places where that pseudo-code differs from the Final prose, both modelled as written:
- Ensure with nothing attached re-attaches `PyGILState_GetThisThreadState()` without checking
  its interpreter, so it can attach a thread state of the wrong interpreter;
- Release with SENTINEL clears and deletes the attached thread state even when Ensure did not
  create it (the re-attached gilstate one); the pseudo-code asserts `should_dealloc_tstate`,
  which a release build does not check.
Otherwise the same reading as Final (stale gilstate tstates are skipped, per-call implicit guards).
"""
from __future__ import annotations

from dataclasses import replace

from functools import partial

from ..ir import Check, assign
from ..vocabulary import C_FATAL, Outcome
from .api import Api, Design, Site, Steps, table
from .final import FINAL, ensure_from_view, ensure_with_guard
from .final import ensure_steps as final_ensure_steps

R3B = "PEP@03944adf1"


ensure_steps = partial(final_ensure_steps, gilstate_any_interp=True)


def release(s: Site) -> Steps:
    # R3b PyThreadState_Release(old) (PEP@03944adf1 pseudo-code): PyThreadState_Get
    # (fatal if NULL); --counter, return if still > 0; SENTINEL → Clear + DeleteCurrent (owned or
    # not); else delete if owned, then PyThreadState_Swap(old), which detaches and re-attaches.
    v, t = s.v, s.t
    cur, old = v.attached[t], s.args[0]
    count = v.ts_counter[cur - 1]
    close = v.drop_guard(v.top_guard(t))
    checks = (Check("release_restores", v.restored(t)),)
    owned = v.ts_owned[cur - 1].eq(1)
    last = cur.ne(0) & count.eq(1)
    sentinel = old.eq(v.SENTINEL)
    drop = [assign(count, 0)] + close
    step0 = [
        Outcome(cur.eq(0), v.crash_with(C_FATAL), "PyThreadState_Get: no attached thread state, Py_FatalError",
                stop=True),
        Outcome(cur.ne(0) & count.eq(0), v.crash_with(C_FATAL), "counter below zero: Py_FatalError", stop=True),
        Outcome(cur.ne(0) & (count > 1), [assign(count, count - 1)] + close + v.pop(t),
                "counter still above 0: returns without swapping", checks=checks),
        Outcome(last & sentinel & owned, drop + v.delete_tstate(t, cur) + v.detach(t) + v.pop(t),
                "counter 0, SENTINEL: owned thread state cleared and deleted", checks=checks),
        Outcome(last & sentinel & ~owned, drop + v.delete_tstate(t, cur) + v.detach(t) + v.pop(t),
                "counter 0, SENTINEL: clears and deletes a thread state Ensure did not create "
                "(assert(should_dealloc_tstate) is debug-only)", checks=checks),
        Outcome(last & ~sentinel & owned, drop + v.delete_tstate(t, cur) + v.detach(t)
                + [assign(v.to_attach[t], old)], "counter 0: owned thread state deleted", goto=1),
        Outcome(last & ~sentinel & ~owned, drop + v.detach(t) + [assign(v.to_attach[t], old)],
                "counter 0: PyThreadState_Swap(old) detaches the current thread state", goto=1),
    ]
    nothing = v.to_attach[t].eq(0)
    step1 = [Outcome(nothing, v.pop(t), "PyThreadState_Swap(NULL)", checks=checks)]
    step1 += [replace(o, guard=~nothing & o.guard, updates=o.updates + ([] if o.stop else v.pop(t)))
              for o in v.attach_outcomes(t, v.to_attach[t], [assign(v.to_attach[t], 0)],
                                         "PyThreadState_Swap(old) attaches the previous thread state", checks)]
    return [step0, step1]


R3B_DESIGN = Design(
    "r3b", "PEP 788 R3b (accepted text) with its reference pseudo-code: Ensure re-attaches the gilstate "
    "thread state without checking its interpreter; Release(SENTINEL) deletes it.",
    {**FINAL.api, **table(
        Api("PyThreadState_Ensure", ("guard",), "token", ensure_with_guard(ensure_steps),
            f"PEP 788 R3b PyThreadState_Ensure pseudo-code ({R3B})"),
        Api("PyThreadState_EnsureFromView", ("view",), "token", ensure_from_view(ensure_steps),
            f"PEP 788 R3b PyThreadState_EnsureFromView pseudo-code ({R3B})"),
        Api("PyThreadState_Release", ("token",), None, release,
            f"PEP 788 R3b PyThreadState_Release pseudo-code ({R3B})"),
    )}, "PEP 788 R3b (PEP@03944adf1)", waits_for_guards=True)
