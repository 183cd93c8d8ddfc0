"""Traces as sequence diagrams: threads and interpreters as lifelines, one message per step.

`sequence_of` reads a trace (through `render.steps`) into a small diagram model that two
renderers share: `to_mermaid` here, and `render.svg` for the HTML report. A step goes from
its thread to the interpreter whose state it changed (its phase, GIL, guards, or a thread
state it created in it); a step that touches no interpreter is a message to itself.
Interpreters are the element labels of the `phase` variable; a system without one (a tiny
test model) has thread lifelines only.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

from interpcheck.model.ir import System

from ..result import Result, Verdict
from .steps import steps_of
from .text import ending


@dataclass(frozen=True)
class Participant:
    id: str         # identifier safe in Mermaid and in HTML ids
    label: str
    kind: str       # "thread" | "interpreter"


@dataclass(frozen=True)
class Note:
    over: str                  # participant id
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Message:
    step: int                  # 1-based, as in the text rendering
    source: str
    target: str
    call: str                  # the C call with its result: "Py_IsFinalizing() → 0"
    detail: str                # what happened inside, or ""
    notes: tuple[Note, ...]    # state that changed, on the lifeline it belongs to
    violating: bool            # the step that breaks the property


@dataclass(frozen=True)
class Sequence:
    title: str
    participants: tuple[Participant, ...]
    messages: tuple[Message, ...]
    loop_from: int | None      # first step of a cycle that repeats forever
    ending: str                # why the trace is a counterexample, one sentence
    ending_over: tuple[str, ...]
    violated: bool


def interpreters(system: System) -> tuple[str, ...]:
    return system.facts.interpreters


def _thread_id(name: str) -> str:
    return f"t_{name}"


def _interp_id(name: str) -> str:
    return "i_" + "".join(c if c.isalnum() else "_" for c in name)


def sequence_of(system: System, result: Result) -> Sequence:
    trace = result.trace
    if trace is None:
        raise ValueError(f"{result.prop}: no trace to draw")
    interps = interpreters(system)
    people = tuple(Participant(_thread_id(t), t, "thread") for t in system.threads) + \
        tuple(Participant(_interp_id(i), f"interp {i}", "interpreter") for i in interps)
    owner = _slot_owners(system, interps)
    violated = result.verdict is Verdict.VIOLATED
    cycle = trace.loop is not None and trace.length >= len(trace.states)
    messages = []
    for step in steps_of(system, trace):
        src = _thread_id(step.thread) if step.thread in system.threads else people[0].id
        notes: dict[str, list[str]] = {}
        target = None
        for name, value in step.changes:
            where, shown, points_at = owner.get(name, (None, name, False))
            where = where or src
            notes.setdefault(where, []).append(f"{shown} = {value}")
            if where.startswith("i_") and target is None:
                target = where
            if points_at and value in interps and target is None:
                target = _interp_id(value)
        call = step.shown_call + (f" → {step.result}" if step.result is not None else "")
        last = step.index == trace.length and violated and not cycle
        messages.append(Message(step.index, src, target or src, call, step.note,
                                tuple(Note(k, tuple(v)) for k, v in notes.items()), last))
    ending_line = ending(system, result)
    over = tuple(dict.fromkeys((people[0].id, people[-1].id)))
    if trace.thread is not None:
        over = (_thread_id(system.threads[trace.thread]),)
    title = f"{system.name} [{system.facts.design}]: {result.prop} " \
            f"{result.verdict.value}".replace(" []", "")
    loop_from = trace.loop + 1 if cycle else None
    return Sequence(title, people, tuple(messages), loop_from, ending_line, over, violated)


def _slot_owners(system: System, interps: tuple[str, ...]) -> dict[str, tuple[str | None, str, bool]]:
    """slot name → (lifeline id or None for the acting thread, name to show, holds an interpreter)."""
    out = {}
    for var in system.variables:
        names = var.domain.labels or ()
        points_at = bool(interps) and tuple(names[1:]) == interps
        for k in range(var.length):
            slot = var.slot_name(k)
            where, shown = None, slot
            if not var.scalar and var.labels == interps and interps:
                where, shown = _interp_id(var.labels[k]), var.name
            elif not var.scalar and var.labels == system.threads:
                where, shown = _thread_id(var.labels[k]), var.name
            out[slot] = (where, shown, points_at)
    return out


# ----- Mermaid ------------------------------------------------------------------------------

HIGHLIGHT = "rgb(255, 221, 221)"


_ENTITIES = str.maketrans({"#": "#35;", ";": "#59;", "<": "#60;", ">": "#62;"})


def _esc(text: str) -> str:
    """Mermaid reads `;` as a line end and `#…;` as an entity: write such characters as entity codes."""
    return text.translate(_ENTITIES)


# Mermaid sizes a note over one lifeline to its text as measured in the configured note font,
# which by default it leaves unset and so measures in Arial, while it draws the note in the
# diagram's font ("trebuchet ms", verdana, …). Where that falls to a wider font (DejaVu Sans on
# Linux), long notes spilled out of their box. Naming the font makes both the same.
FONT = '"trebuchet ms", verdana, arial, sans-serif'
INIT = '%%{init: {"fontFamily": "' + FONT.replace('"', '\\"') + '"}}%%'

# A note's lines are wrapped at word boundaries: one line of a hundred characters makes the
# whole diagram that wide, and a note over several lifelines does not grow to its text at all.
NOTE_CHARS = 40
MESSAGE_CHARS = 50
# Mermaid makes a note over several lifelines exactly as wide as the lifelines it spans: at
# least 200 px from one lifeline to the next (a 150 px actor and a 50 px margin) plus 50 px,
# less 10 px of padding each side. 10 px a character bounds our text in a 16 px sans-serif font
# (identifiers in capitals are the widest).
LIFELINE_STEP_PX, SPAN_EXTRA_PX, NOTE_PADDING_PX, CHAR_PX = 200, 50, 10, 10


def _wrap(line: str, width: int) -> list[str]:
    """Word-wrapped; a word longer than `width` stays whole (C names must read as written)."""
    return textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [line]


def _note_text(lines: tuple[str, ...] | list[str], width: int = NOTE_CHARS) -> str:
    return "<br/>".join(_esc(part) for line in lines for part in _wrap(line, width))


def _span_chars(seq: Sequence, over: tuple[str, ...]) -> int:
    """How many characters fit on a line of a note over `over` (its first and last lifeline)."""
    if len(over) < 2:
        return NOTE_CHARS   # over one lifeline: the box grows to the text
    ids = [p.id for p in seq.participants]
    steps = abs(ids.index(over[-1]) - ids.index(over[0]))
    width_px = steps * LIFELINE_STEP_PX + SPAN_EXTRA_PX - 2 * NOTE_PADDING_PX
    return min(NOTE_CHARS, width_px // CHAR_PX)


def _header(seq: Sequence) -> list[str]:
    """Mermaid draws a `title` unwrapped from the middle of the picture rightwards, and cuts off
    whatever passes its edge: most of our titles (spec, design, property, verdict). A note over
    every lifeline wraps and fits; accTitle keeps the title for screen readers."""
    over = tuple(dict.fromkeys((seq.participants[0].id, seq.participants[-1].id)))
    return [f"    accTitle: {_esc(seq.title)}", _wide_note(seq, over, seq.title, "    ")]


def _message_text(msg: Message) -> str:
    """The call, and what it did in brackets, each wrapped: Mermaid widens the gap between two
    lifelines for a long message, but not past the picture's edge."""
    text = _note_text([msg.call], MESSAGE_CHARS)
    return text + (f"<br/>{_note_text([f'[{msg.detail}]'], MESSAGE_CHARS)}" if msg.detail else "")


def _wide_note(seq: Sequence, over: tuple[str, ...], text: str, indent: str) -> str:
    """A note over the lifelines from over[0] to over[-1], wrapped to fit their span; one with a
    word too long for the span goes over the first lifeline only, where the box grows to it."""
    width = _span_chars(seq, over)
    if max(map(len, text.split()), default=0) > width:
        over, width = over[:1], NOTE_CHARS
    return f"{indent}Note over {','.join(over)}: {_note_text([text], width)}"


def _ending_note(seq: Sequence, indent: str) -> str:
    return _wide_note(seq, seq.ending_over, seq.ending, indent)


def to_mermaid(system: System, result: Result) -> str:
    return mermaid_of(sequence_of(system, result))


def mermaid_of(seq: Sequence) -> str:
    out = [INIT, "sequenceDiagram", "    autonumber"]
    for p in seq.participants:
        out.append(f"    participant {p.id} as {_esc(p.label)}")
    out += _header(seq)
    indent = "    "
    for msg in seq.messages:
        if seq.loop_from == msg.step:
            out.append(f"    rect {HIGHLIGHT}")
            out.append("        loop forever")
            indent = "            "
        if msg.violating:
            out.append(f"{indent}rect {HIGHLIGHT}")
        inner = indent + ("    " if msg.violating else "")
        out.append(f"{inner}{msg.source}->>{msg.target}: {_message_text(msg)}")
        for note in msg.notes:
            out.append(f"{inner}Note over {note.over}: {_note_text(note.lines)}")
        if msg.violating:
            out.append(_ending_note(seq, inner))
            out.append(f"{indent}end")
    if seq.loop_from is not None:
        out += ["        end", "    end"]
    if not any(m.violating for m in seq.messages):
        out.append(_ending_note(seq, "    "))
    return "\n".join(out) + "\n"


__all__ = ["Participant", "Note", "Message", "Sequence", "sequence_of", "to_mermaid", "mermaid_of", "interpreters"]
