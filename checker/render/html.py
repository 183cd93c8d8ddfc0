"""One self-contained HTML report: the verdict table, and every counterexample as a stepper.

No network and no script library: CSS and JS are inline, and each sequence diagram is the
SVG that `render.svg` draws. A stepper shows, at its current step, the C call (highlighted
in the step list and in the diagram) and the full state with what changed marked. Steps
move with the buttons, the arrow keys, or the URL: `report.html#trace=ID&step=3` (without
`trace=`, the first counterexample).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape

from interpcheck.model.ir import System

from ..result import AS_EXPECTED, NO_VERDICT, UNEXPECTED, Result, Verdict, status
from .itf import step_label
from .mermaid import sequence_of
from .steps import internal, steps_of
from .svg import STYLE as SVG_STYLE
from .svg import to_svg
from .text import STATUS_LABEL, summary_line

ROW_CLASS = {AS_EXPECTED: "ok", UNEXPECTED: "unexpected", NO_VERDICT: "no-verdict"}


@dataclass(frozen=True)
class ReportItem:
    """One verdict: which spec, design and property, and what the engine answered."""
    spec: str
    path: str
    summary: str
    design: str
    system: System
    result: Result
    expected: str | None

    @property
    def as_expected(self) -> bool:
        return self.expected is None or self.result.verdict.value == self.expected

    @property
    def status(self) -> str:
        return status(self.result.verdict, self.expected)

    @property
    def trace_id(self) -> str:
        return re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.spec}.{self.design}.{self.result.prop}")

    @property
    def has_counterexample(self) -> bool:
        return self.result.verdict is Verdict.VIOLATED and self.result.trace is not None

    @property
    def has_witness(self) -> bool:
        """A reachability question answered yes (a query, `completes`): the run that reaches it."""
        return self.result.verdict is Verdict.HOLDS and self.result.trace is not None

    @property
    def filter_data(self) -> str:
        """What the page's filters read: design, property, status."""
        return (f'data-design="{escape(self.design)}" data-property="{escape(self.result.prop)}" '
                f'data-status="{escape(self.status)}"')


def to_html(items: list[ReportItem], title: str = "interpcheck report") -> str:
    traces = [i for i in items if i.has_counterexample or i.has_witness]
    body = [f"<h1>{escape(title)}</h1>", _summary(items), _filters(items),
            "<h2>Designs × properties</h2>", _matrices(items), "<h2>Every verdict</h2>", _verdict_table(items)]
    if traces:
        body.append("<h2>Counterexamples and witnesses</h2>")
        body.append('<p class="hint">Step with the buttons or the ← → keys (Home, End); '
                    "the state panel marks what the current step changed.</p>")
        body += [_trace_section(i) for i in traces]
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n<style>{PAGE_STYLE}{SVG_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + f"\n<script>{SCRIPT}</script>\n</body>\n</html>\n")


def _filters(items: list[ReportItem]) -> str:
    """Unexpected only, one design, one property: they hide rows, matrix cells and traces (the
    URL can set them too: #only=unexpected&design=legacy&property=no_deadlock)."""
    def choice(name: str, values: list[str]) -> str:
        options = "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
        return f'<label>{name} <select name="{name}"><option value="">all</option>{options}</select></label>'
    designs = list(dict.fromkeys(i.design for i in items))
    props = list(dict.fromkeys(i.result.prop for i in items))
    return ('<form class="filters" onsubmit="return false">'
            '<label><input type="checkbox" name="only" value="unexpected"> unexpected only</label> '
            f'{choice("design", designs)} {choice("property", props)} '
            f'<span class="shown">{len(items)} of {len(items)} verdicts shown</span></form>')


def _link(item: ReportItem) -> str:
    n = item.result.trace.length
    return f'<a href="#trace={item.trace_id}&amp;step=0">{n} step{"s" if n != 1 else ""}</a>'


def _matrices(items: list[ReportItem]) -> str:
    """Per spec, its designs as columns and properties as rows: each cell the verdict, marked
    when not as expected, linked to its counterexample or witness."""
    by_spec: dict[str, list[ReportItem]] = {}
    for i in items:
        by_spec.setdefault(i.spec, []).append(i)
    out = []
    for spec, group in by_spec.items():
        designs = list(dict.fromkeys(i.design for i in group))
        props = list(dict.fromkeys(i.result.prop for i in group))
        cell = {(i.design, i.result.prop): i for i in group}
        head = "".join(f'<th data-design="{escape(d)}">{escape(d)}</th>' for d in designs)
        rows = [f"<tr><th>property</th>{head}</tr>"]
        for p in props:
            tds = []
            for d in designs:
                i = cell.get((d, p))
                if i is None:
                    tds.append(f'<td data-design="{escape(d)}" class="none">-</td>')
                    continue
                verdict = "reached" if i.has_witness else i.result.verdict.value
                text = f'<span class="v-{i.result.verdict.value}">{verdict}</span>'
                if i.has_counterexample or i.has_witness:
                    text += f" ({_link(i)})"
                if i.status != AS_EXPECTED:
                    text += f' <span class="status">{STATUS_LABEL[i.status]}</span>'
                tds.append(f'<td {i.filter_data} class="{ROW_CLASS[i.status]}" '
                           f'title="expected: {escape(i.expected or "-")}">{text}</td>')
            rows.append(f'<tr data-property="{escape(p)}"><th>{escape(p)}</th>{"".join(tds)}</tr>')
        summary = group[0].summary
        out.append(f'<div class="spec-matrix"><h3 title="{escape(group[0].path)}">{escape(spec)}</h3>'
                   + (f'<p class="spec-summary">{escape(summary)}</p>' if summary else "")
                   + '<table class="matrix">' + "".join(rows) + "</table></div>")
    return "\n".join(out)


def _summary(items: list[ReportItem]) -> str:
    statuses = [i.status for i in items]
    cls = "bad" if UNEXPECTED in statuses else "good"
    return f'<p class="summary {cls}">{escape(summary_line(statuses))}</p>'


def _verdict_table(items: list[ReportItem]) -> str:
    rows = ["<tr><th>spec</th><th>design</th><th>property</th><th>verdict</th><th>expected</th>"
            "<th></th><th>trace</th></tr>"]
    for i in items:
        r = i.result
        label = STATUS_LABEL[i.status]
        trace = ""
        if i.has_counterexample or i.has_witness:
            trace = ("witness: " if i.has_witness else "") + _link(i)
        elif r.reason:
            trace = escape(r.reason)
        rows.append(f'<tr {i.filter_data} class="{ROW_CLASS[i.status]}">'
                    f'<td title="{escape(i.path)}">{escape(i.spec)}</td><td>{escape(i.design)}</td>'
                    f"<td>{escape(r.prop)}</td><td class=\"v-{r.verdict.value}\">{r.verdict.value}</td>"
                    f"<td>{escape(i.expected or '-')}</td><td>{label}</td><td>{trace}</td></tr>")
    return '<table class="verdicts">\n' + "\n".join(rows) + "\n</table>"


def _trace_section(item: ReportItem) -> str:
    system, result = item.system, item.result
    trace = result.trace
    steps = steps_of(system, trace)
    seq = sequence_of(system, result)
    shown = [(j, n) for j, n in enumerate(system.slot_names()) if not internal(system, n)]   # as the text trace
    after = [trace.states[0]] + [trace.states[s.index] if s.index < len(trace.states) else trace.states[trace.loop]
                                 for s in steps]
    data = {"id": item.trace_id, "slots": [n for _, n in shown],
            "states": [[system.show_slot(j, st[j]) for j, _ in shown] for st in after],
            "labels": ["initial state"] + [step_label(s) for s in steps]}
    rows = ['<li data-step="0" class="initial">initial state</li>']
    for s in steps:
        mark = " cycle" if seq.loop_from is not None and s.index >= seq.loop_from else ""
        mark += " violating" if any(m.violating and m.step == s.index for m in seq.messages) else ""
        note = f' <span class="detail">[{escape(s.note)}]</span>' if s.note else ""
        note += f' <span class="source">at {escape(s.where)}</span>' if s.where else ""   # C file:line
        result_text = f" → {escape(s.result)}" if s.result is not None else ""
        rows.append(f'<li data-step="{s.index}" class="step{mark}"><span class="n">{s.index}.</span> '
                    f'<span class="thread">{escape(s.thread)}</span> <code>{escape(s.shown_call)}{result_text}</code>'
                    f"{note}</li>")
    verdict = ('<span class="v-violated">violated</span>' if item.has_counterexample
               else '<span class="v-holds">reached</span> (witness)')
    head = (f'<h3>{escape(item.spec)} [{escape(item.design)}]: {escape(result.prop)} {verdict}</h3>'
            + (f'<p class="spec-summary">{escape(item.summary)}</p>' if item.summary else "")
            + f'<p class="ending">⇒ {escape(seq.ending)}</p>')
    controls = ('<div class="controls"><button type="button" class="prev">◀ previous</button>'
                '<span class="position" aria-live="polite"></span>'
                '<button type="button" class="next">next ▶</button>'
                '<span class="current-label"></span></div>')
    return (f'<section class="trace" id="{item.trace_id}" {item.filter_data} data-step="0" tabindex="-1">\n'
            f'{head}\n{controls}\n'
            f'<div class="panes"><div class="left"><ol class="steps">{"".join(rows)}</ol>'
            f'<div class="diagram">{to_svg(seq, item.trace_id + "-svg")}</div></div>'
            f'<div class="right"><table class="state"><thead><tr><th>variable</th><th>value</th></tr></thead>'
            f"<tbody></tbody></table></div></div>\n"
            f'<script type="application/json" class="trace-data">{_json(data)}</script>\n</section>')


def _json(data: dict) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


PAGE_STYLE = """
body { font: 14px/1.4 system-ui, "DejaVu Sans", sans-serif; margin: 1.5em 2em; color: #111827; }
h1 { margin: 0 0 .3em; font-size: 1.6em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #d1d5db; }
h3 { margin: 0 0 .3em; }
code, .steps, table.state { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.summary.good { color: #166534; font-weight: bold; }
.summary.bad { color: #b91c1c; font-weight: bold; }
.hint { color: #4b5563; }
table.verdicts { border-collapse: collapse; }
table.verdicts th, table.verdicts td { border: 1px solid #d1d5db; padding: 2px 8px; text-align: left; }
table.verdicts tr.unexpected { background: #fee2e2; }
table.verdicts tr.no-verdict { background: #fef3c7; }
[hidden] { display: none !important; }   /* what the filters hide, whatever its own display */
form.filters { display: flex; gap: 1.2em; align-items: center; padding: .4em .8em; background: #f3f4f6;
  border-radius: 6px; position: sticky; top: 0; z-index: 1; }
form.filters .shown { color: #4b5563; }
.spec-matrix { display: inline-block; vertical-align: top; margin: 0 1.5em 1.2em 0; }
.spec-matrix h3 { margin: .4em 0 .1em; font-size: 1.05em; }
.spec-matrix .spec-summary { max-width: 60em; font-size: .92em; }
table.matrix { border-collapse: collapse; }
table.matrix th, table.matrix td { border: 1px solid #d1d5db; padding: 2px 8px; text-align: left; }
table.matrix td.unexpected { background: #fee2e2; }
table.matrix td.no-verdict { background: #fef3c7; }
table.matrix td .status { font-weight: bold; color: #b91c1c; }
.v-violated { color: #b91c1c; font-weight: bold; }
.v-holds { color: #166534; font-weight: bold; }
.v-unknown { color: #92400e; font-weight: bold; }
section.trace { border: 1px solid #d1d5db; border-radius: 6px; padding: 1em; margin: 1.2em 0; }
section.trace:focus { outline: 2px solid #93c5fd; }
section.trace.active { border-color: #60a5fa; box-shadow: 0 0 0 2px #bfdbfe; }
.spec-summary { margin: 0 0 .3em; color: #374151; }
p.ending { margin: 0 0 .6em; color: #7f1d1d; font-weight: bold; }
.controls { display: flex; gap: .8em; align-items: center; margin: .4em 0 .8em; }
.controls button { font: inherit; padding: .25em .9em; border: 1px solid #6b7280; border-radius: 4px;
  background: #f3f4f6; cursor: pointer; }
.controls button:disabled { opacity: .4; cursor: default; }
.position { font-weight: bold; min-width: 7em; }
.current-label { font-family: "DejaVu Sans Mono", Menlo, monospace; color: #1d4ed8; }
.panes { display: grid; grid-template-columns: minmax(0, 3fr) minmax(20em, 1.4fr); gap: 1em; align-items: start; }
ol.steps { list-style: none; padding: 0; margin: 0 0 .8em; }
ol.steps li { padding: 1px 6px; border-left: 3px solid transparent; cursor: pointer; }
ol.steps li .n { color: #6b7280; display: inline-block; min-width: 2.2em; text-align: right; }
ol.steps li .thread { font-weight: bold; display: inline-block; min-width: 4em; }
ol.steps li .detail { color: #6b7280; }
ol.steps li.violating { background: #fee2e2; }
ol.steps li.cycle { border-left-color: #fca5a5; }
ol.steps li.current { background: #dbeafe; border-left-color: #1d4ed8; }
.diagram { overflow: auto; max-height: 75vh; border: 1px solid #e5e7eb; }
.right { position: sticky; top: .5em; max-height: 95vh; overflow: auto; }
table.state { border-collapse: collapse; }
table.state th, table.state td { border-bottom: 1px solid #e5e7eb; padding: 1px 6px; text-align: left;
  white-space: nowrap; }
table.state tr.changed td { background: #fef08a; font-weight: bold; }
table.state .old { color: #9ca3af; font-weight: normal; text-decoration: line-through; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var steppers = [];
  var active = null;

  function Stepper(root) {
    this.root = root;
    this.id = root.id;
    this.data = JSON.parse(root.querySelector(".trace-data").textContent);
    this.last = this.data.states.length - 1;
    this.k = 0;
    var self = this;
    root.querySelector(".prev").addEventListener("click", function () { self.go(self.k - 1); });
    root.querySelector(".next").addEventListener("click", function () { self.go(self.k + 1); });
    root.querySelectorAll("ol.steps li").forEach(function (li) {
      li.addEventListener("click", function () { self.go(parseInt(li.dataset.step, 10)); });
    });
    root.addEventListener("click", function () { activate(self); });
  }

  Stepper.prototype.go = function (k) {
    this.set(k);
    activate(this);
    history.replaceState(null, "", "#trace=" + this.id + "&step=" + this.k);
  };

  Stepper.prototype.set = function (k) {
    k = Math.max(0, Math.min(this.last, isNaN(k) ? 0 : k));
    this.k = k;
    var root = this.root, data = this.data;
    root.dataset.step = String(k);
    root.querySelector(".position").textContent = "step " + k + " of " + this.last;
    root.querySelector(".current-label").textContent = data.labels[k];
    root.querySelector(".prev").disabled = k === 0;
    root.querySelector(".next").disabled = k === this.last;
    root.querySelectorAll(".current").forEach(function (el) { el.classList.remove("current"); });
    root.querySelectorAll('[data-step="' + k + '"]').forEach(function (el) {
      if (el !== root) { el.classList.add("current"); }
    });
    this.reveal();
    var now = data.states[k], before = k > 0 ? data.states[k - 1] : null;
    var body = root.querySelector("table.state tbody");
    body.textContent = "";
    data.slots.forEach(function (name, i) {
      var tr = document.createElement("tr");
      var changed = before !== null && before[i] !== now[i];
      if (changed) { tr.classList.add("changed"); }
      var a = document.createElement("td"); a.textContent = name;
      var b = document.createElement("td"); b.textContent = now[i];
      if (changed) {
        var was = document.createElement("span"); was.className = "old"; was.textContent = before[i];
        b.appendChild(document.createTextNode(" ")); b.appendChild(was);
      }
      tr.appendChild(a); tr.appendChild(b);
      body.appendChild(tr);
    });
  };

  Stepper.prototype.reveal = function () {
    // Scroll the diagram (not the page) so the current step is in view.
    var box = this.root.querySelector(".diagram");
    var bg = this.root.querySelector("g.seq-step.current rect.bg");
    if (!box || !bg) { return; }
    var top = bg.y.baseVal.value, bottom = top + bg.height.baseVal.value;
    if (top < box.scrollTop || bottom > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, top - 60);
    }
  };

  function activate(st) {
    if (active) { active.root.classList.remove("active"); }
    active = st;
    st.root.classList.add("active");
  }

  function applyHash() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var kv = part.split("=");
      if (kv.length === 2) { params[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1]); }
    });
    var target = params.trace ? steppers.filter(function (s) { return s.id === params.trace; })[0] : steppers[0];
    if (!target) { return; }
    if (params.step !== undefined) { target.set(parseInt(params.step, 10)); }
    activate(target);
    if (params.trace) { target.root.scrollIntoView(); }
  }

  document.querySelectorAll("section.trace").forEach(function (root) {
    var st = new Stepper(root);
    st.set(0);
    steppers.push(st);
  });
  document.addEventListener("keydown", function (e) {
    if (!active || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var to = {ArrowRight: active.k + 1, ArrowLeft: active.k - 1, Home: 0, End: active.last}[e.key];
    if (to === undefined) { return; }
    e.preventDefault();
    active.go(to);
  });
  // Filters: unexpected only, one design, one property; the URL hash may set them.
  var form = document.querySelector("form.filters");
  function wanted(el, f) {
    var d = el.dataset;
    return (!f.design || d.design === undefined || d.design === f.design) &&
      (!f.property || d.property === undefined || d.property === f.property) &&
      (!f.only || d.status === undefined || d.status === f.only);
  }
  function applyFilters() {
    if (!form) { return; }
    var f = {only: form.only.checked ? "unexpected" : "", design: form.design.value, property: form.property.value};
    var rows = document.querySelectorAll("table.verdicts tr[data-status]"), shown = 0;
    rows.forEach(function (tr) { tr.hidden = !wanted(tr, f); if (!tr.hidden) { shown++; } });
    form.querySelector(".shown").textContent = shown + " of " + rows.length + " verdicts shown";
    document.querySelectorAll("section.trace").forEach(function (sec) { sec.hidden = !wanted(sec, f); });
    document.querySelectorAll(".spec-matrix").forEach(function (box) {
      box.querySelectorAll("[data-design]").forEach(function (c) {
        c.hidden = !!f.design && c.dataset.design !== f.design;
      });
      var any = false;
      box.querySelectorAll("tr[data-property]").forEach(function (tr) {
        var cells = Array.prototype.filter.call(tr.querySelectorAll("td[data-status]"), function (td) {
          return wanted(td, f);
        });
        tr.hidden = !wanted(tr, f) || cells.length === 0;
        if (!tr.hidden) { any = true; }
      });
      box.hidden = !any;
    });
  }
  function filtersFromHash() {
    if (!form) { return; }
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var kv = part.split("=");
      if (kv.length === 2) { params[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1]); }
    });
    if (params.only !== undefined) { form.only.checked = params.only === "unexpected"; }
    if (params.design !== undefined) { form.design.value = params.design; }
    if (params.property !== undefined) { form.property.value = params.property; }
    applyFilters();
  }
  if (form) { form.addEventListener("change", applyFilters); }
  window.addEventListener("hashchange", filtersFromHash);
  filtersFromHash();
  window.addEventListener("hashchange", applyHash);
  if (steppers.length) { activate(steppers[0]); }
  applyHash();
})();
"""

__all__ = ["ReportItem", "to_html"]
