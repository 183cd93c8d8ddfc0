"""Trace renderings people read, diff and look at: ITF JSON, Mermaid, SVG, DOT, HTML, and
replaying a saved trace. Each output is deterministic and pinned by a golden file under
tests/golden/render/; run with INTERPCHECK_UPDATE_GOLDEN=1 to rewrite them after a
deliberate change.
"""
import json
import os
from dataclasses import replace
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import itf_py
import pytest
from click.testing import CliRunner
from tiny_models import mutex, philosophers, spinner

from interpcheck.checker.cli import main
from interpcheck.checker.engines import run
from interpcheck.checker.options import Options
from interpcheck.checker.explicit import check, explore
from interpcheck.checker.render import dot
from interpcheck.checker.render.html import ReportItem, to_html
from interpcheck.checker.render.itf import dumps, state_from_itf, to_itf, trace_states, unique_labels
from interpcheck.checker.render.blocking import blocked_by
from interpcheck.checker.render.mermaid import NOTE_CHARS, Note, _span_chars, mermaid_of, sequence_of, to_mermaid
from interpcheck.checker.render.svg import standalone_svg
from interpcheck.checker.replay import replay
from interpcheck.checker.result import Verdict
from interpcheck.model.ir import BOOL, Action, Builder, Invariant, NoHang, assign, enum
from interpcheck.checker.explicit.semantics import compile_system
from interpcheck.model.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "render"
S1 = "specs/s1_isfinalizing_toctou.toml"
GH = "specs/gh129536_daemon_thread_lock.toml"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    """Spec paths are written into the outputs as given: keep them relative to the repo."""
    monkeypatch.chdir(ROOT)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("INTERPCHECK_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; INTERPCHECK_UPDATE_GOLDEN=1 rewrites it"


def spec_result(path: str, design: str, prop: str):
    system = load_spec(path).system(design)
    (result,) = run(system, [prop], Options())
    return system, result


def tiny_result(system, prop: str):
    return system, next(r for r in check(system) if r.prop == prop)


def one_interpreter() -> object:
    """T attaches to interpreter `main` unless main finalized first; main finalizes."""
    b = Builder("attach_race", ["main", "T"])
    phase = b.array("phase", 1, enum("running", "finalizing"), labels=["main"])
    b.facts.interpreters = ("main",)   # the lifelines of interpreters in sequence diagrams
    gil = b.array("gil", 1, enum("nobody", "main", "T"), labels=["main"])
    done = b.array("done", 2, BOOL, labels=["main", "T"])
    b.action(Action("fin", 0, phase[0].eq(0), (assign(phase[0], 1), assign(done[0], 1)), "Py_FinalizeEx()",
                    note="finalizing flag set"))
    b.action(Action("attach", 1, phase[0].eq(0) & gil[0].eq(0) & done[1].eq(0), (assign(gil[0], 2),),
                    "PyThreadState_Ensure(g)", result=gil[0]))
    b.action(Action("release", 1, gil[0].eq(2), (assign(gil[0], 0), assign(done[1], 1)), "PyThreadState_Release(t)"))
    b.prop(Invariant("never_finalizing_while_attached", ~(phase[0].eq(1) & gil[0].eq(2)), "", "finalized under T"))
    b.prop(NoHang())
    return b.build([done[0].eq(1), done[1].eq(1)])


# ----- ITF ---------------------------------------------------------------------------------

def test_itf_of_s1_matches_golden():
    system, result = spec_result(S1, "cpython_3_14", "no_stale_check")
    golden("s1_isfinalizing_toctou.cpython_3_14.no_stale_check.itf.json", dumps(to_itf(system, result, S1)))


def test_itf_of_a_lasso_matches_golden_and_names_its_loop():
    system, result = tiny_result(spinner(), "eventually_done")
    doc = to_itf(system, result, "tests/tiny_models.py")
    golden("spinner.eventually_done.itf.json", dumps(doc))
    assert doc["loop"] == doc["#meta"]["loop"] == result.trace.loop
    assert doc["#meta"]["loop_action"] == "T: toggle()"


def test_itf_parses_with_itf_py():
    system, result = spec_result(S1, "cpython_3_14", "no_stale_check")
    parsed = itf_py.trace_from_json(json.loads(dumps(to_itf(system, result, S1))))
    assert parsed.vars == [v.name for v in system.variables]
    assert len(parsed.states) == result.trace.length + 1
    assert parsed.meta["property"] == "no_stale_check" and parsed.meta["design"] == "cpython_3_14"
    assert [s.meta["index"] for s in parsed.states] == list(range(len(parsed.states)))
    assert parsed.states[2].meta["action"] == "T1: Py_IsFinalizing() -> 0"
    assert parsed.states[0].values["phase"] == {"main": "running"}
    assert parsed.states[4].values["phase"] == {"main": "finalizing"}
    assert parsed.states[5].values["status"]["T1"] == "hung"


def test_itf_of_a_lasso_parses_with_itf_py():
    system, result = spec_result(GH, "cpython_3_14", "finalization_completes")
    parsed = itf_py.trace_from_json(json.loads(dumps(to_itf(system, result, GH))))
    assert parsed.loop == result.trace.loop


def test_itf_round_trips_every_state():
    for path, design, prop in ((S1, "cpython_3_14", "no_stale_check"), (GH, "cpython_3_14", "finalization_completes")):
        system, result = spec_result(path, design, prop)
        doc = json.loads(dumps(to_itf(system, result, path)))
        assert trace_states(system, doc) == list(result.trace.states)


def _has_type(value, typ: str) -> bool:
    """A small reader of Apalache's type syntax, enough for the types interpcheck writes."""
    if typ == "Int":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "Str":
        return isinstance(value, str)
    if typ.startswith("Seq(") and typ.endswith(")"):
        return isinstance(value, list) and all(_has_type(v, typ[4:-1]) for v in value)
    if typ.startswith("(") and " -> " in typ and typ.endswith(")"):
        key, val = typ[1:-1].split(" -> ", 1)
        return isinstance(value, dict) and all(_has_type(k, key) and _has_type(v, val) for k, v in value["#map"])
    return False


@pytest.mark.parametrize("path, design, prop", [(S1, "cpython_3_14", "no_stale_check"), (GH, "cpython_3_14", "finalization_completes")])
def test_itf_meta_var_types_give_every_variable_its_type(path, design, prop):
    system, result = spec_result(path, design, prop)
    doc = json.loads(dumps(to_itf(system, result, path)))
    types = doc["#meta"]["varTypes"]
    assert list(types) == doc["vars"]
    for state in doc["states"]:
        for name, typ in types.items():
            assert _has_type(state[name], typ), (name, typ, state[name])


def test_a_trace_written_before_var_types_still_replays():
    system, result = spec_result(S1, "cpython_3_14", "no_stale_check")
    doc = json.loads(dumps(to_itf(system, result, S1)))
    del doc["#meta"]["varTypes"]
    assert replay(system, doc).ok


def test_itf_numbers_repeated_program_counter_labels():
    system = load_spec("specs/s22_gilstate_loop_during_finalize.toml").system("cpython_3_14")
    pc = system.var("pc.T1").domain
    assert len(set(pc.labels)) < len(pc.labels)        # `repeat` unrolls one line into several pcs
    labels = unique_labels(pc)
    assert len(set(labels)) == len(labels) and any(label.endswith(" #2") for label in labels)
    (result,) = run(system, ["no_use_after_free"], Options())
    doc = json.loads(dumps(to_itf(system, result)))
    assert trace_states(system, doc) == list(result.trace.states)


def test_itf_unknown_label_is_an_error_naming_the_variable():
    system, result = spec_result(S1, "cpython_3_14", "no_stale_check")
    state = to_itf(system, result)["states"][0]
    state["crash"] = "on_fire"
    with pytest.raises(Exception, match="crash"):
        state_from_itf(system, state)


# ----- Mermaid and SVG ---------------------------------------------------------------------

def test_mermaid_of_s1_matches_golden():
    system, result = spec_result(S1, "cpython_3_14", "no_stale_check")
    text = to_mermaid(system, result)
    golden("s1_isfinalizing_toctou.cpython_3_14.no_stale_check.mmd", text)
    assert "participant i_main as interp main" in text
    assert sum("->>" in line for line in text.splitlines()) == result.trace.length
    assert "rect rgb(" in text


def test_mermaid_shows_a_cycle_as_loop():
    system, result = tiny_result(spinner(), "eventually_done")
    text = to_mermaid(system, result)
    golden("spinner.eventually_done.mmd", text)
    assert "loop forever" in text


def test_mermaid_sends_interpreter_changes_to_the_interpreter_lifeline():
    system, result = tiny_result(one_interpreter(), "never_finalizing_while_attached")
    text = to_mermaid(system, result)
    golden("attach_race.never_finalizing_while_attached.mmd", text)
    assert "t_main->>i_main: Py_FinalizeEx()" in text
    assert "Note over i_main: phase = finalizing" in text


def test_mermaid_escapes_statement_separators():
    system, result = tiny_result(one_interpreter(), "never_finalizing_while_attached")
    seq = sequence_of(system, result)
    odd = replace(seq, messages=(replace(seq.messages[0], call="f(a; b) # c <d>"),) + seq.messages[1:])
    assert "f(a#59; b) #35; c #60;d#62;" in mermaid_of(odd)


def test_mermaid_wraps_long_notes_at_word_boundaries():
    """Mermaid draws a note over several lifelines only as wide as they are, and a long line
    makes any note wide: notes are wrapped (tests/test_mermaid_cli.py checks the rendered SVG)."""
    system, result = tiny_result(one_interpreter(), "never_finalizing_while_attached")
    seq = sequence_of(system, result)
    words = "the thread checked Py_IsFinalizing() == 0; finalization started since, and it acts on that"
    span = (seq.participants[0].id, seq.participants[1].id)
    odd = replace(seq, ending=words, ending_over=span,
                  messages=(replace(seq.messages[0], notes=(Note("t_main", (words,)),)),) + seq.messages[1:])
    notes = [line.split(": ", 1)[1] for line in mermaid_of(odd).splitlines() if "Note over" in line]
    assert _span_chars(odd, span) < NOTE_CHARS   # two neighbouring lifelines: narrower than one that grows
    for text, width in ((notes[1], NOTE_CHARS), (notes[-1], _span_chars(odd, span))):   # notes[0]: the title
        lines = text.replace("#59;", ";").split("<br/>")
        assert len(lines) > 1 and max(map(len, lines)) <= width
        assert " ".join(lines) == words


def test_mermaid_names_the_font_it_measures_notes_in():
    system, result = tiny_result(one_interpreter(), "never_finalizing_while_attached")
    assert to_mermaid(system, result).startswith('%%{init: {"fontFamily": ')


def test_mermaid_title_is_a_wrapped_note_over_every_lifeline():
    """Mermaid's own `title` is never wrapped and is cut off at the picture's edge."""
    system, result = tiny_result(one_interpreter(), "never_finalizing_while_attached")
    lines = to_mermaid(system, result).splitlines()
    assert not any(line.strip().startswith("title ") for line in lines)
    assert "    accTitle: attach_race: never_finalizing_while_attached violated" in lines
    assert "    Note over t_main,i_main: attach_race:<br/>never_finalizing_while_attached violated" in lines


def test_a_word_too_long_for_a_span_puts_the_note_over_one_lifeline():
    system, result = tiny_result(one_interpreter(), "never_finalizing_while_attached")
    seq = sequence_of(system, result)
    span = (seq.participants[0].id, seq.participants[1].id)
    word = "x" * (_span_chars(seq, span) + 1)
    assert f"Note over {span[0]}: {word} ends" in mermaid_of(replace(seq, ending=f"{word} ends", ending_over=span))


def test_hang_ending_says_what_the_thread_waits_for():
    system, result = spec_result(GH, "cpython_3_14", "no_thread_hung")
    seq = sequence_of(system, result)
    assert "stuck at PyGILState_Ensure(): status[T1] = hung" in seq.ending


def test_lasso_ending_says_what_every_stuck_thread_waits_for():
    system, result = spec_result(GH, "cpython_3_14", "finalization_completes")
    assert sequence_of(system, result).ending.endswith(
        "(main stuck at lock(L): lock[L] = T1; T1 stuck at Py_END_ALLOW_THREADS: status[T1] = hung)")


def test_blocked_by_names_the_lock_holder():
    system, result = spec_result(GH, "cpython_3_14", "finalization_completes")
    assert blocked_by(system, result.trace.states[-1], 0) == "stuck at lock(L): lock[L] = T1"


def test_svg_matches_golden_and_is_well_formed():
    system, result = tiny_result(one_interpreter(), "never_finalizing_while_attached")
    svg = standalone_svg(sequence_of(system, result))
    golden("attach_race.never_finalizing_while_attached.svg", svg)
    root = ET.fromstring(svg)
    steps = root.findall(".//{http://www.w3.org/2000/svg}g[@class]")
    numbered = [g for g in steps if g.get("data-step")]
    assert [g.get("data-step") for g in numbered] == [str(i + 1) for i in range(result.trace.length)]
    assert "violating" in numbered[-1].get("class")


def test_svg_of_every_bundled_counterexample_is_well_formed():
    system, result = spec_result(GH, "cpython_3_14", "finalization_completes")
    ET.fromstring(standalone_svg(sequence_of(system, result)))
    system, result = tiny_result(spinner(), "eventually_done")
    assert "loop forever" in standalone_svg(sequence_of(system, result))


# ----- DOT -----------------------------------------------------------------------------------

def _dot_of(system, prop):
    compiled = compile_system(system)
    props = [i for i, p in enumerate(system.properties) if p.name == prop]
    ex = explore(system, compiled, set(props), keep_edges=True, stop_early=False)
    result = next(r for r in check(system, [prop]))
    marks = dot.mark(system, compiled, ex, props, result.trace, prop)
    return ex, marks


def test_dot_matches_golden_with_initial_violating_and_trace_marked():
    system = mutex(2, broken=True)
    ex, marks = _dot_of(system, "mutual_exclusion")
    text = dot.to_dot(system, ex, marks, "mutex-broken: mutual_exclusion")
    golden("mutex-broken.mutual_exclusion.dot", text)
    assert "peripheries=2" in text                         # initial state
    assert 'xlabel="mutual_exclusion"' in text              # violating state
    assert text.count('color="#1d4ed8", fontcolor="#1d4ed8"') == 4   # the 4 trace edges
    assert 'label="T0: lock(L)"' in text


def test_dot_marks_action_property_violations_on_edges():
    system = mutex(2, broken=True)
    ex, marks = _dot_of(system, "lock_was_free")
    text = dot.to_dot(system, ex, marks, "t")
    assert "violates lock_was_free" in text


def test_neighbourhood_keeps_states_near_the_trace():
    system = philosophers(3)
    ex, marks = _dot_of(system, "no_deadlock")
    keep = dot.neighbourhood(dot.state_graph(ex), marks.trace_states, 1)
    assert set(marks.trace_states) <= keep < set(range(len(ex.states)))
    text = dot.to_dot(system, ex, marks, "t", keep)
    nodes = [line for line in text.splitlines() if line.startswith("  s") and "->" not in line]
    assert len(nodes) == len(keep) and "dashed" in text


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_graph_command_writes_dot(tmp_path):
    out = tmp_path / "g.dot"
    r = cli("graph", S1, "--design", "cpython_3_14", "-p", "no_stale_check", "--dot", str(out))
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert text.startswith('digraph "s1_isfinalizing_toctou [cpython_3_14]: no_stale_check violated"')
    assert "violates no_stale_check" in text
    assert "26 of 26 states" in r.output          # the whole reachable graph


def test_graph_cuts_big_graphs_to_the_trace_neighbourhood(tmp_path, monkeypatch):
    monkeypatch.setattr(dot, "BIG", 5)
    out = tmp_path / "g.dot"
    r = cli("graph", S1, "--design", "cpython_3_14", "-p", "no_use_after_free", "--dot", str(out))
    assert r.exit_code == 0
    shown, total = r.output.split("wrote ")[1].split(": ")[1].split(" states")[0].split(" of ")
    assert int(shown) < int(total)
    r = cli("graph", S1, "--design", "cpython_3_14", "-p", "no_use_after_free", "--dot", str(out), "--around-trace", "0")
    assert "7 of" in r.output                       # exactly the trace's 7 states (6 steps)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed (apt-get install graphviz)")
def test_graph_svg_through_graphviz(tmp_path):
    svg = tmp_path / "g.svg"
    r = cli("graph", S1, "--design", "cpython_3_14", "--dot", str(tmp_path / "g.dot"), "--svg", str(svg))
    assert r.exit_code == 0, r.output
    root = ET.fromstring(svg.read_text())
    assert root.tag.endswith("svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed (apt-get install graphviz)")
def test_every_dot_output_is_valid_graphviz():
    for system, prop in ((mutex(2, True), "lock_was_free"), (spinner(), "eventually_done"),
                         (philosophers(3), "no_thread_hung")):
        ex, marks = _dot_of(system, prop)
        text = dot.to_dot(system, ex, marks, f'{system.name} "quoted"')
        done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


# ----- HTML ----------------------------------------------------------------------------------

def tiny_items():
    items = []
    for system, spec in ((one_interpreter(), "attach_race"), (spinner(), "spinner")):
        for r in check(system):
            items.append(ReportItem(spec, f"tests/{spec}", f"{spec} summary", "tiny", system, r,
                                    "violated" if r.verdict is Verdict.VIOLATED else None))
    return items


def test_html_matches_golden():
    golden("tiny_report.html", to_html(tiny_items()))


def test_html_is_self_contained():
    text = to_html(tiny_items())
    for needle in ("<link", "src=", "@import", "url(http", "https://", "cdn"):
        assert needle not in text, needle
    assert "<svg" in text and "<script>" in text and "<style>" in text


def test_report_command_covers_every_verdict(tmp_path):
    out = tmp_path / "r.html"
    r = cli("report", "-q", S1, "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "35 verdicts, 18 counterexamples" in r.output
    text = out.read_text()
    assert text.count('<section class="trace"') == 18
    assert text.count("<tr data-design=") == 35
    assert 'id="s1_isfinalizing_toctou-cpython_3_14-no_stale_check"' in text


# ----- check --itf / --mermaid and replay ---------------------------------------------------

def test_check_writes_one_file_per_counterexample(tmp_path):
    r = cli("check", "-q", S1, "--itf", str(tmp_path / "itf"), "--mermaid", str(tmp_path / "mmd"))
    assert r.exit_code == 0
    itf = sorted(p.name for p in (tmp_path / "itf" / "s1_isfinalizing_toctou").iterdir())
    assert len(itf) == 18 and "cpython_3_14.no_stale_check.itf.json" in itf
    assert (tmp_path / "mmd" / "s1_isfinalizing_toctou" / "cpython_3_13.no_null_deref.mmd").exists()
    written = (tmp_path / "itf" / "s1_isfinalizing_toctou" / "cpython_3_14.no_stale_check.itf.json").read_text()
    assert written == (GOLDEN / "s1_isfinalizing_toctou.cpython_3_14.no_stale_check.itf.json").read_text()


@pytest.fixture
def saved(tmp_path):
    cli("check", "-q", S1, GH, "--itf", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("name", ["s1_isfinalizing_toctou/cpython_3_14.no_stale_check",
                                  "s1_isfinalizing_toctou/cpython_3_14.no_thread_hung",
                                  "s1_isfinalizing_toctou/cpython_3_13.no_null_deref",
                                  "gh129536_daemon_thread_lock/cpython_3_14.no_thread_hung",
                                  "gh129536_daemon_thread_lock/cpython_3_14.finalization_completes"])
def test_saved_trace_replays_and_still_fails(saved, name):
    r = cli("replay", str(saved / f"{name}.itf.json"))
    assert r.exit_code == 0, r.output
    assert "still violated" in r.output


def test_replay_of_a_cycle_checks_the_closing_step():
    system, result = tiny_result(spinner(), "eventually_done")
    doc = json.loads(dumps(to_itf(system, result)))
    assert replay(system, doc).ok
    doc["#meta"]["loop_action"] = "U: finish()"
    assert replay(system, doc).diverged_at == len(doc["states"])


def test_replay_diverges_where_the_model_changed(saved, tmp_path):
    changed = tmp_path / "s1_changed.toml"
    changed.write_text((ROOT / S1).read_text().replace("if Py_IsFinalizing():", "if not Py_IsFinalizing():"))
    r = cli("replay", str(saved / "s1_isfinalizing_toctou" / "cpython_3_14.no_stale_check.itf.json"),
            "--spec", str(changed))
    assert r.exit_code == 12
    assert "at step 2: T1: Py_IsFinalizing() -> 0" in r.output
    assert "pc.T1  line 16  /  returned" in r.output


def test_replay_diverges_on_an_edited_state(saved):
    path = saved / "s1_isfinalizing_toctou" / "cpython_3_14.no_stale_check.itf.json"
    doc = json.loads(path.read_text())
    doc["states"][4]["phase"] = {"#map": [["main", "prefinal"]]}
    path.write_text(json.dumps(doc))
    r = cli("replay", str(path))
    assert r.exit_code == 12
    assert "at step 4: main: Py_FinalizeEx()" in r.output
    assert "phase[main]  prefinal  /  finalizing" in r.output


def test_replay_names_the_calls_enabled_instead(saved):
    path = saved / "s1_isfinalizing_toctou" / "cpython_3_14.no_stale_check.itf.json"
    doc = json.loads(path.read_text())
    doc["states"][1]["#meta"]["action"] = "main: Py_Exit()"
    path.write_text(json.dumps(doc))
    r = cli("replay", str(path))
    assert r.exit_code == 12
    assert "no enabled action is this call; enabled here: T1: Py_IsFinalizing() -> 0; main: Py_FinalizeEx()" \
        in r.output


def test_replay_of_garbage_is_bad_input(tmp_path):
    bad = tmp_path / "bad.itf.json"
    bad.write_text("{not json")
    r = CliRunner().invoke(main, ["replay", str(bad)])
    assert r.exit_code == 150 and "cannot read the trace" in r.output


def test_a_cut_graph_without_a_counterexample_says_how_to_see_more(tmp_path, monkeypatch):
    monkeypatch.setattr(dot, "BIG", 5)
    s7 = "specs/s7_ensure_from_view_after_finalize.toml"
    r = cli("graph", s7, "--dot", str(tmp_path / "g.dot"))
    assert r.exit_code == 0, r.output
    assert "no counterexample" in r.output
    assert "drawn: the states within 2 steps of the initial state" in r.output
    assert "--around-trace 5" in r.output and "-p PROPERTY" in r.output
