"""A sequence diagram as inline SVG, drawn here so the HTML report needs no script library.

It draws the same `mermaid.Sequence` that `to_mermaid` writes: lifelines, one arrow per
step, the changed state as notes, the violating step tinted, a lasso's cycle framed. Each
step is a `<g class="seq-step" data-step="N">`, so the report's stepper can highlight it.
Text is monospace, so widths are known without font metrics.
"""
from __future__ import annotations

import textwrap
from html import escape

from .mermaid import Message, Sequence

CHAR = 7.2          # width of one 12px monospace character
LINE = 15           # text line height
COL = 250           # distance between lifelines
LEFT = 44           # room for step numbers
HEAD = 46           # participant boxes
PAD = 8


def _wrap(text: str, width_px: float) -> list[str]:
    return textwrap.wrap(text, max(12, int(width_px / CHAR)), break_on_hyphens=False) or [""]


def _text(x: float, y: float, lines: list[str], cls: str, anchor: str = "start") -> str:
    spans = "".join(f'<tspan x="{x:.0f}" dy="{0 if i == 0 else LINE}">{escape(t)}</tspan>'
                    for i, t in enumerate(lines))
    return f'<text class="{cls}" x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}">{spans}</text>'


class _Layout:
    def __init__(self, seq: Sequence):
        self.seq = seq
        self.x = {p.id: LEFT + COL / 2 + i * COL for i, p in enumerate(seq.participants)}
        self.width = LEFT + COL * len(seq.participants) + PAD

    def message(self, msg: Message, top: float) -> tuple[str, float]:
        """SVG of one step starting at `top`, and the height it takes."""
        x1, x2 = self.x[msg.source], self.x[msg.target]
        self_call = x1 == x2
        span = COL - 40 if self_call else max(abs(x2 - x1) - 16, COL - 40)
        label = _wrap(msg.call, span) + (_wrap(f"[{msg.detail}]", span) if msg.detail else [])
        y = top + PAD + LINE
        parts = []
        if self_call:
            parts.append(_text(x1 + 10, y, label, "msg"))
        else:
            parts.append(_text((x1 + x2) / 2, y, label, "msg", "middle"))
        ay = top + PAD + LINE * len(label) + 6
        if self_call:
            parts.append(f'<path class="arrow" d="M{x1:.0f},{ay:.0f} h28 v14 h-26" marker-end="url(#arrowhead)"/>')
            ay += 14
        else:
            parts.append(f'<line class="arrow" x1="{x1:.0f}" y1="{ay:.0f}" x2="{x2 - 4 if x2 > x1 else x2 + 4:.0f}" '
                         f'y2="{ay:.0f}" marker-end="url(#arrowhead)"/>')
        parts.append(f'<text class="num" x="{PAD}" y="{ay + 4:.0f}">{msg.step}</text>')
        bottom = ay + 6
        note_top = ay + 8
        for note in msg.notes:
            lines = [w for line in note.lines for w in _wrap(line, COL - 40)]
            h = LINE * len(lines) + 8
            nx = self.x[note.over] - (COL - 24) / 2
            parts.append(f'<rect class="note" x="{nx:.0f}" y="{note_top:.0f}" width="{COL - 24}" height="{h}"/>')
            parts.append(_text(nx + 6, note_top + LINE - 2, lines, "note-text"))
            bottom = max(bottom, note_top + h)
        if msg.violating:
            svg, h = self.ending(bottom + 6)
            parts.append(svg)
            bottom += 6 + h
        height = bottom - top + PAD
        cls = "seq-step violating" if msg.violating else "seq-step"
        bg = f'<rect class="bg" x="0" y="{top:.0f}" width="{self.width:.0f}" height="{height:.0f}"/>'
        return f'<g class="{cls}" data-step="{msg.step}">{bg}{"".join(parts)}</g>', height

    def ending(self, top: float) -> tuple[str, float]:
        xs = [self.x[p] for p in self.seq.ending_over]
        left = min(xs) - (COL - 24) / 2
        right = max(xs) + (COL - 24) / 2
        if right - left < 2 * COL - 24:          # one lifeline: widen, staying inside the picture
            right = min(self.width - PAD, left + 2 * COL - 24)
            left = max(LEFT, right - (2 * COL - 24))
        lines = _wrap(self.seq.ending, right - left - 12)
        h = LINE * len(lines) + 8
        svg = (f'<rect class="ending" x="{left:.0f}" y="{top:.0f}" width="{right - left:.0f}" height="{h}"/>'
               + _text(left + 6, top + LINE - 2, lines, "ending-text"))
        return svg, h


def to_svg(seq: Sequence, element_id: str = "") -> str:
    lay = _Layout(seq)
    rows = []
    y = HEAD + 6
    loop_top = None
    for msg in seq.messages:
        if seq.loop_from == msg.step:
            loop_top = y
            y += LINE + 4
        svg, h = lay.message(msg, y)
        rows.append(svg)
        y += h
    if loop_top is not None:
        rows.append(f'<rect class="loop" x="{LEFT - 6}" y="{loop_top:.0f}" width="{lay.width - LEFT:.0f}" '
                    f'height="{y - loop_top + 4:.0f}"/>'
                    + _text(LEFT, loop_top + LINE - 2, ["loop forever"], "loop-text"))
        y += 10
    if not any(m.violating for m in seq.messages):
        svg, h = lay.ending(y + 4)
        rows.append(f'<g class="seq-end">{svg}</g>')
        y += h + 8
    height = y + PAD
    lifelines, heads = [], []
    for p in seq.participants:
        x = lay.x[p.id]
        lifelines.append(f'<line class="lifeline" x1="{x:.0f}" y1="{HEAD}" x2="{x:.0f}" y2="{height:.0f}"/>')
        heads.append(f'<rect class="head {p.kind}" x="{x - (COL - 40) / 2:.0f}" y="6" width="{COL - 40}" '
                     f'height="{HEAD - 14}" rx="4"/>')
        heads.append(_text(x, 6 + (HEAD - 14) / 2 + 4, [p.label], "head-text", "middle"))
    ident = f' id="{escape(element_id)}"' if element_id else ""
    defs = ('<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="seq"{ident} width="{lay.width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {lay.width:.0f} {height:.0f}" role="img" '
            f'aria-label="{escape(seq.title)}">{defs}{"".join(lifelines)}<g class="rows">{"".join(rows)}</g>'
            f'<g class="heads">{"".join(heads)}</g></svg>')


# Styles for the SVG; the report inlines them once (a standalone SVG file embeds them).
STYLE = """
svg.seq { font: 12px "DejaVu Sans Mono", Menlo, Consolas, monospace; }
svg.seq .bg { fill: transparent; }
svg.seq .seq-step.violating .bg { fill: rgba(254, 202, 202, 0.55); }
svg.seq .seq-step.current .bg { fill: rgba(191, 219, 254, 0.6); }
svg.seq .seq-step.violating.current .bg { fill: rgba(249, 168, 212, 0.6); }
svg.seq .lifeline { stroke: #9ca3af; stroke-dasharray: 4 4; }
svg.seq .head { stroke: #374151; }
svg.seq .head.thread { fill: #e0e7ff; }
svg.seq .head.interpreter { fill: #dcfce7; }
svg.seq .head-text { font-weight: bold; }
svg.seq .arrow { stroke: #111827; stroke-width: 1.4; fill: none; }
svg.seq marker path { fill: #111827; }
svg.seq .msg { fill: #111827; paint-order: stroke; stroke: rgba(255, 255, 255, 0.8); stroke-width: 3px; }
svg.seq .num { fill: #6b7280; font-weight: bold; }
svg.seq .current .num { fill: #1d4ed8; }
svg.seq .note { fill: #fef9c3; stroke: #ca8a04; }
svg.seq .note-text { fill: #422006; }
svg.seq .ending { fill: #fee2e2; stroke: #b91c1c; }
svg.seq .ending-text { fill: #7f1d1d; font-weight: bold; }
svg.seq .loop { fill: none; stroke: #b91c1c; stroke-width: 1.5; stroke-dasharray: 6 3; }
svg.seq .loop-text { fill: #b91c1c; font-weight: bold; }
"""


def standalone_svg(seq: Sequence) -> str:
    """A self-contained SVG file: the diagram with its styles."""
    svg = to_svg(seq)
    return svg.replace("<defs>", f"<style>{STYLE}</style><defs>", 1)


__all__ = ["to_svg", "standalone_svg", "STYLE"]
