"""PEP 788 as accepted and implemented in CPython 3.15 (PEP 788 Final text; gh-149101, PR #149116):
interpreter guards and views, PyThreadState_Ensure/EnsureFromView/Release with a token.

The legacy API stays available (soft deprecation), so this design is legacy + PEP 788, and
finalization parks until the interpreter's guard count is zero before refusing new guards.
`final_draft` is the 2026-05-05 draft of PR #149116, whose Ensure returned the sentinel
when a thread state of the guard's interpreter was already attached (colesbury's review of PR #149116).
"""
from __future__ import annotations

from dataclasses import replace

from functools import partial
from typing import Callable

from ..ir import TRUE, Check, Expr, all_of, assign, ite
from ..vocabulary import (C_FATAL, C_NO_TSTATE, C_UAF, DELETED, GUARDS_CLOSED, O_FREED, O_LIVE, O_SHUTDOWN, Outcome,
                          Vocabulary)
from .api import Api, Design, Site, Steps, table
from .legacy import CPYTHON_3_14


# PR #149116: after the guard wait the finalizer repeats the pre-finalization calls (thread
# join, pending calls) before its next CAS (docs/modeling.md, "The PEP 788 finalization loop").
PREFINAL_LOOP = {"prefinal_loop": True}


def _acquire(v: Vocabulary, slot: int, interp: Expr) -> list:
    """One successful try-acquire: the guard counter CAS (+1 while not NOT_ALLOWED)."""
    return [assign(v.g_status[slot - 1], O_LIVE), assign(v.g_interp[slot - 1], interp),
            assign(v.guards[interp - 1], v.guards[interp - 1] + 1)]


def _refused(v: Vocabulary, interp: Expr) -> Expr:
    """Guards fail once the finalizer's CAS succeeded, or the interpreter is gone."""
    return v.phase_of(interp) >= GUARDS_CLOSED


def guard_from_current(s: Site) -> Steps:
    # PEP 788 "PyInterpreterGuard_FromCurrent": needs a thread state; NULL with an exception
    # once the interpreter has started finalizing.
    v, t = s.v, s.t
    cur = v.attached[t]
    interp = v.interp_of(cur)
    return [[Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "needs an attached thread state", stop=True),
             Outcome(cur.ne(0) & _refused(v, interp), s.ret(0), "finalization started: NULL, exception set"),
             Outcome(cur.ne(0) & ~_refused(v, interp), _acquire(v, s.slot, interp) + s.ret(s.slot), "guard taken")]]


def _view_dead(v: Vocabulary, view: Expr) -> Expr:
    return view.eq(0) | v.v_status[view - 1].ne(O_LIVE)


def guard_from_view(s: Site) -> Steps:
    # PEP 788 "PyInterpreterGuard_FromView": lookup by ID and try-acquire under the runtime
    # lock, one atomic step (views hold an interpreter ID: PR #149116, PR #156409); NULL without
    # an exception if gone or finalizing.
    v = s.v
    view = s.args[0]
    interp = v.v_interp[view - 1]
    return [[Outcome(_view_dead(v, view), v.crash_with(C_UAF), "view is NULL or closed", stop=True),
             Outcome(~_view_dead(v, view) & _refused(v, interp), s.ret(0),
                     "interpreter finalizing or gone: NULL, no exception"),
             Outcome(~_view_dead(v, view) & ~_refused(v, interp), _acquire(v, s.slot, interp) + s.ret(s.slot),
                     "guard taken")]]


def guard_close(s: Site) -> Steps:
    # PEP 788 "PyInterpreterGuard_Close": -1 and wake a parked finalizer; frees the guard, so
    # closing twice or using it afterwards is a use after free.
    v = s.v
    g = s.args[0]
    dead = g.eq(0) | v.g_status[g - 1].ne(O_LIVE)
    interp = v.g_interp[g - 1]
    return [[Outcome(dead, v.crash_with(C_UAF), "guard is NULL or already closed", stop=True),
             Outcome(~dead, [assign(v.g_status[g - 1], O_FREED), assign(v.guards[interp - 1], v.guards[interp - 1] - 1)],
                     "guard closed")]]


def view_from_current(s: Site) -> Steps:
    # PEP 788 "PyInterpreterView_FromCurrent": needs a thread state; fails only on OOM.
    v, t = s.v, s.t
    cur = v.attached[t]
    return [[Outcome(cur.eq(0), v.crash_with(C_NO_TSTATE), "needs an attached thread state", stop=True),
             Outcome(cur.ne(0), [assign(v.v_status[s.slot - 1], O_LIVE),
                                 assign(v.v_interp[s.slot - 1], v.interp_of(cur))] + s.ret(s.slot), "view taken")]]


def view_from_main(s: Site) -> Steps:
    # Doc/c-api/interp-lifecycle.rst (PR #149116): NULL once main has finalized (docs/modeling.md).
    v = s.v
    gone = v.phase[0].eq(DELETED)
    return [[Outcome(gone, s.ret(0), "main interpreter finalized: NULL"),
             Outcome(~gone, _view_of_main(s), "view of main")]]


def view_from_main_pep_text(s: Site) -> Steps:
    # PEP 788 "PyInterpreterView_FromMain" as written: fails only on OOM (not modelled), so it
    # returns a view even of a freed main; the guard taken from it then fails (the merged
    # Doc/c-api/interp-lifecycle.rst also lets it fail once main has finalized: design `final`;
    # see docs/modeling.md).
    return [[Outcome(TRUE, _view_of_main(s), "view of main")]]


def _view_of_main(s: Site) -> list:
    v = s.v
    return [assign(v.v_status[s.slot - 1], O_LIVE), assign(v.v_interp[s.slot - 1], 1)] + s.ret(s.slot)


def view_close(s: Site) -> Steps:
    # PEP 788 "PyInterpreterView_Close": frees the view; a second close is a use after free.
    v = s.v
    view = s.args[0]
    return [[Outcome(_view_dead(v, view), v.crash_with(C_UAF), "view is NULL or already closed", stop=True),
             Outcome(~_view_dead(v, view), [assign(v.v_status[view - 1], O_FREED)], "view closed")]]


def ensure_steps(s: Site, interp: Expr, pre: Expr, pre_updates: list, implicit: Expr | int,
                 draft: bool = False, gilstate_any_interp: bool = False) -> list[list[Outcome]]:
    """PEP 788 "PyThreadState_Ensure" reuse rules (PEP 788 Final text; PR #149116): the attached tstate
    if it is the guard's interpreter; else, with nothing attached, the gilstate tstate if it
    matches; else a new tstate owned by Ensure. The token is the previous tstate or SENTINEL.
    `gilstate_any_interp`: R3b's pseudo-code, which re-attaches the gilstate tstate without
    checking its interpreter (R3b, PEP@03944adf1)."""
    v, t = s.v, s.t
    cur, gs = v.attached[t], v.gilstate[t]
    same = cur.ne(0) & v.interp_of(cur).eq(interp)
    # a thread state marked shutting down is still the thread's (3.14+, gh-124878): reused, its attach hangs
    reuse = cur.eq(0) & (v.ts_state(gs).eq(O_LIVE) | v.ts_state(gs).eq(O_SHUTDOWN))
    if not gilstate_any_interp:
        reuse = reuse & v.interp_of(gs).eq(interp)
    create = ~same & ~reuse
    new = v.new_tstate(t)
    same_token = v.SENTINEL if draft else cur
    reused = "re-attached the thread's last thread state, whatever its interpreter" if gilstate_any_interp \
        else "re-attached the thread's gilstate thread state"
    step0 = [Outcome(pre & same, pre_updates + [assign(v.ts_counter[cur - 1], v.ts_counter[cur - 1] + 1)]
                     + v.push(t, cur, implicit) + s.ret(same_token),
                     "attached thread state already belongs to this interpreter: counter + 1")]
    step0 += [replace(o, guard=all_of(pre, reuse, o.guard), updates=pre_updates + o.updates)
              for o in v.attach_outcomes(
                  t, gs, [assign(v.ts_counter[gs - 1], v.ts_counter[gs - 1] + 1)] + v.push(t, 0, implicit)
                  + s.ret(v.SENTINEL), reused)]
    step0.append(Outcome(pre & create, pre_updates + v.create_tstate(t, new, interp, owned=1, counter=1)
                         + [assign(v.to_attach[t], new)] + v.push(t, cur, implicit)
                         + s.ret(ite(cur.eq(0), v.SENTINEL, cur)) + v.detach(t),
                         "new thread state owned by Ensure", goto=1))
    step1 = v.attach_outcomes(t, v.to_attach[t], [assign(v.to_attach[t], 0)], "attached")
    return [step0, step1]


EnsureCore = Callable[[Site, Expr, Expr, list, "Expr | int"], Steps]


def ensure_with_guard(core: EnsureCore) -> Callable[[Site], Steps]:
    """PEP 788 "PyThreadState_Ensure" around a design's reuse rules (`core`); a closed guard
    is undefined behaviour (here: use after free)."""
    def build(s: Site) -> Steps:
        v = s.v
        g = s.args[0]
        dead = g.eq(0) | v.g_status[g - 1].ne(O_LIVE)
        steps = core(s, v.g_interp[g - 1], ~dead, [], 0)
        steps[0].insert(0, Outcome(dead, v.crash_with(C_UAF), "guard is NULL or closed", stop=True))
        return steps
    return build


def ensure_from_view(core: EnsureCore) -> Callable[[Site], Steps]:
    """PEP 788 "PyThreadState_EnsureFromView": Guard_FromView + Ensure; the implicit guard is
    closed by the matching Release (docs/modeling.md: per call, not per tstate)."""
    def build(s: Site) -> Steps:
        v = s.v
        view = s.args[0]
        interp = v.v_interp[view - 1]
        ok = ~_view_dead(v, view) & ~_refused(v, interp)
        take = [assign(v.guards[interp - 1], v.guards[interp - 1] + 1)]
        steps = core(s, interp, ok, take, interp)
        steps[0][:0] = [
            Outcome(_view_dead(v, view), v.crash_with(C_UAF), "view is NULL or closed", stop=True),
            Outcome(~_view_dead(v, view) & _refused(v, interp), s.ret(0),
                    "interpreter finalizing or gone: NULL, no exception")]
        return steps
    return build


def release(s: Site, restore_above_zero: bool = False) -> Steps:
    # PEP 788 "PyThreadState_Release" + PR #149116: fatal without a tstate or when the counter
    # would drop below 0; returns early while it stays above 0 (the PEP's pseudo-code); at 0
    # deletes an owned tstate, closes the implicit guard and attaches the token's tstate (NULL
    # for SENTINEL). `restore_above_zero`: the merged docs' reading, "If *tstate* is non-NULL,
    # it will be attached upon returning" with no condition on the counter.
    v, t = s.v, s.t
    cur, token = v.attached[t], s.args[0]
    count = v.ts_counter[cur - 1]
    close = v.drop_guard(v.top_guard(t))
    restore = ite(token.eq(v.SENTINEL), 0, token)
    checks = (Check("release_restores", v.restored(t)),)
    owned = v.ts_owned[cur - 1].eq(1)
    last = cur.ne(0) & count.eq(1)
    drop = [assign(count, 0)]
    step0 = [
        Outcome(cur.eq(0), v.crash_with(C_FATAL), "no attached thread state: Py_FatalError", stop=True),
        Outcome(cur.ne(0) & count.eq(0), v.crash_with(C_FATAL), "counter below zero: Py_FatalError", stop=True),
        *([Outcome(cur.ne(0) & (count > 1), [assign(count, count - 1)] + close + v.pop(t),
                   "counter still above 0: returns without swapping", checks=checks)] if not restore_above_zero else [
            Outcome(cur.ne(0) & (count > 1) & restore.eq(cur), [assign(count, count - 1)] + close + v.pop(t),
                    "counter still above 0: the token's thread state is attached already", checks=checks),
            Outcome(cur.ne(0) & (count > 1) & restore.ne(cur), [assign(count, count - 1)] + close + v.detach(t)
                    + [assign(v.to_attach[t], restore)], "counter still above 0: detached, the token's thread state "
                    "is attached upon returning", goto=1)]),
        Outcome(last & restore.eq(cur), drop + close + v.pop(t), "counter 0: previous thread state stays attached",
                checks=checks),
        Outcome(last & restore.ne(cur) & owned, drop + close + v.delete_tstate(t, cur) + v.detach(t)
                + [assign(v.to_attach[t], restore)], "counter 0: owned thread state deleted", goto=1),
        Outcome(last & restore.ne(cur) & ~owned, drop + close + v.detach(t) + [assign(v.to_attach[t], restore)],
                "counter 0: thread state detached", goto=1),
    ]
    nothing = v.to_attach[t].eq(0)
    step1 = [Outcome(nothing, v.pop(t), "nothing to restore", checks=checks)]
    step1 += [replace(o, guard=~nothing & o.guard, updates=o.updates + (v.pop(t) if not o.stop else []))
              for o in v.attach_outcomes(t, v.to_attach[t], [assign(v.to_attach[t], 0)],
                                         "previous thread state re-attached", checks)]
    return [step0, step1]


def pep788_api(draft: bool, view_main_can_fail: bool = True, restore_above_zero: bool = False) -> dict[str, Api]:
    return table(
        Api("PyInterpreterGuard_FromCurrent", (), "guard", guard_from_current,
            "PEP 788 PyInterpreterGuard_FromCurrent", creates="guard"),
        Api("PyInterpreterGuard_FromView", ("view",), "guard", guard_from_view,
            "PEP 788 PyInterpreterGuard_FromView; ID lookup under the runtime lock (PR #149116, PR #156409)",
            creates="guard"),
        Api("PyInterpreterGuard_Close", ("guard",), None, guard_close, "PEP 788 PyInterpreterGuard_Close"),
        Api("PyInterpreterView_FromCurrent", (), "view", view_from_current,
            "PEP 788 PyInterpreterView_FromCurrent", creates="view"),
        Api("PyInterpreterView_FromMain", (), "view", view_from_main if view_main_can_fail else view_from_main_pep_text,
            "PEP 788 PyInterpreterView_FromMain; Doc/c-api/interp-lifecycle.rst", creates="view"),
        Api("PyInterpreterView_Close", ("view",), None, view_close, "PEP 788 PyInterpreterView_Close"),
        Api("PyThreadState_Ensure", ("guard",), "token", ensure_with_guard(partial(ensure_steps, draft=draft)),
            "PEP 788 PyThreadState_Ensure; PR #149116 (same-interpreter reuse)"),
        Api("PyThreadState_EnsureFromView", ("view",), "token", ensure_from_view(partial(ensure_steps, draft=draft)),
            "PEP 788 PyThreadState_EnsureFromView"),
        Api("PyThreadState_Release", ("token",), None, partial(release, restore_above_zero=restore_above_zero),
            "PEP 788 PyThreadState_Release; the merged C API docs of PyThreadState_Release" if restore_above_zero
            else "PEP 788 PyThreadState_Release (pseudo-code: returns early while the counter is above 0)"),
    )


FINAL = Design(
    "final", "PEP 788 as accepted (3.15): guards, views, Ensure/Release with a token; legacy API and "
    "lifecycle as in 3.14.", {**CPYTHON_3_14.api, **pep788_api(draft=False)}, "PEP 788 (Final); CPython 3.14 lifecycle",
    waits_for_guards=True, options=PREFINAL_LOOP, covers=((3, 15, 0), (3, 15, 99)))

FINAL_DRAFT = Design(
    "final_draft", "PR #149116 draft of 2026-05-05: Ensure with a same-interpreter tstate attached "
    "returned SENTINEL, so Release detached it (found in review).",
    {**CPYTHON_3_14.api, **pep788_api(draft=True)}, "PR #149116 draft of 2026-05-05 (colesbury's review)",
    waits_for_guards=True, options=PREFINAL_LOOP)

FINAL_PEP_TEXT = Design(
    "final_pep_text", "As final, but PyInterpreterView_FromMain as the PEP text has it: it never fails "
    "(OOM aside), where the merged docs make it NULL once main has finalized.",
    {**CPYTHON_3_14.api, **pep788_api(draft=False, view_main_can_fail=False)}, "PEP 788 (Final) 'PyInterpreterView_FromMain' (fails only on OOM)",
    waits_for_guards=True, options=PREFINAL_LOOP)

FINAL_DOCS_RELEASE = Design(
    "final_docs_release", "As final, but PyThreadState_Release attaches the token's thread state even while the "
    "counter stays above 0, as the merged docs' unconditional 'it will be attached upon returning' reads "
    "(the PEP's pseudo-code, which final follows, returns early).",
    {**CPYTHON_3_14.api, **pep788_api(draft=False, restore_above_zero=True)},
    "PEP 788 (Final) PyThreadState_Release; merged C API docs (versionadded next)",
    waits_for_guards=True, options=PREFINAL_LOOP)
