"""Readable text: the verdict table and each counterexample as numbered C calls."""
from __future__ import annotations

from interpcheck.model.ir import NoDeadlock, System, evaluate

from ..result import AS_EXPECTED, NO_VERDICT, UNEXPECTED, Result, Trace, Verdict, status
from .blocking import blocked_by, stuck_threads
from .steps import describe_state, steps_of


STATUS_LABEL = {AS_EXPECTED: "ok", UNEXPECTED: "UNEXPECTED", NO_VERDICT: "no verdict"}   # a row's last column


def verdict_table(rows: list[tuple[str, str, str | None, str]]) -> str:
    """rows: (property, verdict, expected or None, note)."""
    header = ("property", "verdict", "expected", "")
    cells = [header] + [(p, v, e or "-", STATUS_LABEL[status(Verdict(v), e)] + (f"  {n}" if n else ""))
                        for p, v, e, n in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(3)]
    lines = []
    for r in cells:
        lines.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    return "\n".join(line.rstrip() for line in lines)


def summary_line(statuses: list[str]) -> str:
    """The last line of `check` and the report: every verdict counted once, by its status."""
    count = {k: statuses.count(k) for k in (AS_EXPECTED, UNEXPECTED, NO_VERDICT)}
    return (f"{len(statuses)} verdicts: {count[AS_EXPECTED]} as expected, {count[UNEXPECTED]} unexpected, "
            f"{count[NO_VERDICT]} without a verdict")


def _steps(n: int) -> str:
    return f"{n} step{'s' if n != 1 else ''}"


def render_trace(system: System, result: Result, full_state: bool = False) -> str:
    trace = result.trace
    assert trace is not None
    kind = "witness" if result.verdict is Verdict.HOLDS else "counterexample"
    out = [f"{kind} for {result.prop} ({_steps(trace.length)}, {result.engine}):"]
    out += _numbered_steps(system, trace, full_state)
    out.append(f"  => {ending(system, result)}")
    return "\n".join(out)


def render_early_stop(system: System, result: Result, full_state: bool = False) -> str:
    """A witness never reached, explained: the shortest run that ends before every thread finished."""
    trace = result.early_stop
    which = "shortest run" if result.engine == "explicit-bfs" else "a run"   # depth-first: not the shortest
    out = [f"why {result.prop} is never reached ({which} that stops early, {_steps(trace.length)}):"]
    out += _numbered_steps(system, trace, full_state)
    out.append(f"  => {early_stop_ending(system, trace)}")
    return "\n".join(out)


def early_stop_ending(system: System, trace: Trace) -> str:
    """Why the run ends there: the system halted (a crash, the process exiting) or nothing can move."""
    last = trace.states[-1]
    if evaluate(system.halted, last):
        return "the process halted (it crashed or exited) before every thread finished"
    reasons = stuck_threads(system, last)
    return "no thread can take a step, yet not every thread has finished" + \
        (f" ({'; '.join(reasons)})" if reasons else "")


def _numbered_steps(system: System, trace: Trace, full_state: bool) -> list[str]:
    """The trace's rows: one per atomic step, with what changed (or the whole state)."""
    out = []
    if full_state:
        out.append("   0. initial state")
        out += [f"        {name} = {value}" for name, value in describe_state(system, trace.states[0], hide_pc=False)]
    steps = steps_of(system, trace)
    width = max([len(s.thread) for s in steps] + [1])
    for step in steps:
        if trace.loop is not None and step.index - 1 == trace.loop and trace.length >= len(trace.states):
            out.append("      -- the cycle starts here and repeats forever --")
        call = step.shown_call + (f" -> {step.result}" if step.result is not None else "")
        note = f"   [{step.note}]" if step.note else ""
        at = f"  at {step.where}" if step.where else ""
        out.append(f"  {step.index:2}. {step.thread.ljust(width)}  {call}{note}{at}")
        if full_state:
            post = trace.states[step.index] if step.index < len(trace.states) else trace.states[trace.loop]
            out += [f"        {n} = {v}" for n, v in describe_state(system, post, hide_pc=False)]
        elif step.changes:
            out.append("        " + ", ".join(f"{n} = {v}" for n, v in step.changes))
    return out


def render_cti(system: System, result: Result, full_state: bool = False) -> str:
    """k-induction's counterexample to induction: a state the property (and every proven
    invariant) allows, the call out of it, and what fails after that call."""
    cti = result.cti
    out = [f"counterexample to induction for {result.prop} ({result.engine}):",
           f"  a state where {result.prop} and every proven invariant hold, not known to be reachable:"]
    out += _wrapped([f"{n} = {v}" for n, v in cti_state(system, cti, full_state)])
    if not full_state:
        out.append("        (only what the step reads and writes; --full-state shows every variable)")
    if cti.action is None:
        out.append("  some step (no single action explains it)")
    else:
        step = steps_of(system, Trace((cti.before, cti.after), (cti.action,)))[0]
        call = step.call + (f" -> {step.result}" if step.result is not None else "")
        out.append(f"  {step.thread}  {call}" + (f"   [{step.note}]" if step.note else ""))
        out += _wrapped([f"{n} = {v}" for n, v in cti_changes(system, cti)])
    out.append(f"  => {cti.fails}")
    out.append("  hint: if no schedule reaches the first state, add an invariant under [invariants] that rules it")
    out.append("        out (docs/specs.md; `at(T, LINE)` names where a thread is): k-induction assumes every")
    out.append("        invariant it proves. Or raise --depth.")
    return "\n".join(out)


def cti_state(system: System, cti, full_state: bool = False) -> list[tuple[str, str]]:
    """The slots of a CTI's first state worth reading (all of them with `full_state`)."""
    names = system.slot_names()
    shown = range(len(cti.before)) if full_state else cti.shown
    return [(names[j], system.show_slot(j, cti.before[j])) for j in shown]


def cti_changes(system: System, cti) -> list[tuple[str, str]]:
    names = system.slot_names()
    return [(names[j], system.show_slot(j, b)) for j, (a, b) in enumerate(zip(cti.before, cti.after)) if a != b]


def _wrapped(items: list[str], width: int = 100) -> list[str]:
    lines, line = [], ""
    for item in items:
        if line and len(line) + len(item) + 2 > width:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {item}" if line else item
    return [f"        {x}" for x in lines + ([line] if line else [])]


def ending(system: System, result: Result) -> str:
    """The one-line verdict at the end of a trace, with what each stuck thread waits for."""
    trace = result.trace
    prop = system.prop(result.prop)
    why = getattr(prop, "why", "") or getattr(prop, "doc", "")
    if result.verdict is Verdict.HOLDS:
        return f"reached: {why}" if why else "reached"
    if trace.thread is not None:
        reason = blocked_by(system, trace.states[-1], trace.thread)
        return f"{system.threads[trace.thread]} can never take another step: {why}" + (f" ({reason})" if reason else "")
    stops = trace.loop is not None and trace.length < len(trace.states)
    if trace.loop is not None and not stops:
        return f"back to the state before step {trace.loop + 1}, forever: {why}"
    line = (f"from here nothing moves, forever: {why}" if stops else why) or "violated"
    if stops or isinstance(prop, NoDeadlock):
        reasons = stuck_threads(system, trace.states[-1])
        line += f" ({'; '.join(reasons)})" if reasons else ""
    return line
