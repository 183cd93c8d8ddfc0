"""What a user reads in a trace: no model internals (`T1._cond0`, `pc.T1`) unless
--full-state, and a C call the model splits into atomic steps says which part each step is."""
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.engines import run
from interpcheck.checker.options import Options
from interpcheck.checker.render.html import ReportItem, to_html
from interpcheck.checker.render.mermaid import to_mermaid
from interpcheck.checker.render.steps import steps_of
from interpcheck.model.spec import load_spec

# The `if` keeps its condition in a compiler temporary (T1._cond0), which turns 1 here.
COND = '''design = "cpython_3_13_8"   # attach during finalization hangs (3.14 creates a thread state that runs)
[[thread]]
name = "main"
tstate = "main"
program = """
Py_FinalizeEx()
"""
[[thread]]
name = "T1"
program = """
if Py_IsFinalizing():
    st = PyGILState_Ensure()
"""
'''


def _spec(tmp_path):
    path = tmp_path / "cond.toml"
    path.write_text(COND)
    return path


def _violation(tmp_path):
    spec = load_spec(_spec(tmp_path))
    system = spec.system("cpython_3_13_8")   # attach during finalization hangs; Ensure takes two steps
    result = next(iter(run(system, ["no_thread_hung"], Options())))
    return spec, system, result


def test_text_trace_hides_compiler_temporaries_and_program_counters(tmp_path):
    r = CliRunner().invoke(main, ["check", "-q", str(_spec(tmp_path)), "-p", "no_thread_hung"])
    assert "Py_IsFinalizing() -> 1" in r.output
    assert "_cond0" not in r.output and "pc." not in r.output


def test_full_state_still_shows_them(tmp_path):
    r = CliRunner().invoke(main, ["check", "-q", str(_spec(tmp_path)), "-p", "no_thread_hung", "--full-state"])
    assert "T1._cond0 = 1" in r.output and "pc.T1 = " in r.output


def test_mermaid_and_html_hide_them(tmp_path):
    spec, system, result = _violation(tmp_path)
    assert "_cond0" not in to_mermaid(system, result)
    html = to_html([ReportItem(spec.name, spec.path, spec.summary, "legacy", system, result, None)])
    assert "_cond0" not in html and '"pc.T1"' not in html


def test_a_call_split_in_two_steps_numbers_its_parts(tmp_path):
    _, system, result = _violation(tmp_path)
    ensure = [s.shown_call for s in steps_of(system, result.trace) if s.call == "PyGILState_Ensure()"]
    assert ensure == ["PyGILState_Ensure() (1/2)", "PyGILState_Ensure() (2/2)"]


def test_finalization_phases_are_named(tmp_path):
    _, system, result = _violation(tmp_path)
    finalize = [s.shown_call for s in steps_of(system, result.trace) if s.thread == "main"]
    assert finalize[:2] == ["Py_FinalizeEx() (begin)", "Py_FinalizeEx() (finalizing)"]


def test_a_call_in_one_step_reads_as_written(tmp_path):
    _, system, result = _violation(tmp_path)
    assert "Py_IsFinalizing()" in [s.shown_call for s in steps_of(system, result.trace)]
