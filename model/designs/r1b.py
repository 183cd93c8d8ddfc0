"""PEP 788 revision R1b (PEP@17c42997b / 89e3a44ec): R1's references, with an
explicit `PyThreadRef` token instead of the implicit stack.

C: `int PyThreadState_Ensure(PyInterpreterRef ref, PyThreadRef *thread)` stores the old thread
state in `*thread`; `void PyThreadState_Release(PyThreadRef thread)` restores it. Programs
cannot take addresses, so the model writes `t = PyThreadState_Ensure(ref)`: the result is the
PyThreadRef (the previous thread state, or SENTINEL when there was none; failure is
out-of-memory only and not modelled). Release follows the Final counter/ownership reading
(PEP 788 "PyThreadState_Release"), which R1b leaves unspecified: nothing checks that the token is the latest one.
"""
from __future__ import annotations

from ..vocabulary import C_UAF, Outcome
from .api import Api, Design, Site, Steps, table
from .final import ensure_steps, release
from .legacy import LEGACY
from .r1 import ref_dead, refs_api

R1B = "PEP@17c42997b"


def ensure(s: Site) -> Steps:
    # R1b PyThreadState_Ensure(ref, &thread) (PEP@17c42997b): R1's reuse rules;
    # the old thread state is the returned PyThreadRef; `ref` is not stolen.
    v = s.v
    r = s.args[0]
    dead = ref_dead(v, r)
    steps = ensure_steps(s, v.r_interp[r - 1], ~dead, [], 0, False)
    steps[0].insert(0, Outcome(dead, v.crash_with(C_UAF), "reference is NULL or closed", stop=True))
    return steps


R1B_DESIGN = Design(
    "r1b", "PEP 788 R1b: R1's references; Ensure hands back a PyThreadRef token of the previous "
    "thread state and Release(token) restores it.",
    {**LEGACY.api, **refs_api(), **table(
        Api("PyThreadState_Ensure", ("ref",), "threadref", ensure,
            f"PEP 788 R1b PyThreadState_Ensure(ref, &thread) as `thread = Ensure(ref)` ({R1B})"),
        # R1b PyThreadState_Release(PyThreadRef) (PEP@17c42997b) = final.release.
        Api("PyThreadState_Release", ("threadref",), None, release,
            f"PEP 788 R1b PyThreadState_Release(PyThreadRef) ({R1B}); counter reading of the Final PEP"),
    )}, "PEP 788 R1b (PEP@17c42997b)", waits_for_guards=True)
