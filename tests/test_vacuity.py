"""A witness never reached says why: the shortest run that stops before every thread finished."""
import json

from click.testing import CliRunner

from interpcheck.checker.cli import main

CRASH = '''summary = "the only thread runs Python with no thread state: the process crashes at once"
design = "cpython_3_14"
[[thread]]
name = "T1"
program = """
run_python()
"""
[expect]
no_call_without_thread_state = "violated"
completes = "violated"
'''


def _check(tmp_path, *args):
    spec = tmp_path / "crash.toml"
    spec.write_text(CRASH)
    return CliRunner().invoke(main, ["check", "-q", str(spec), "-p", "completes", *args], catch_exceptions=False)


def test_never_reached_completes_shows_the_run_that_stops_early(tmp_path):
    r = _check(tmp_path)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "why completes is never reached (shortest run that stops early, 1 step):" in out
    after = out.split("why completes is never reached", 1)[1]
    assert "1. T1  run_python() (1/2)   [no thread state attached]" in after
    assert "crash = no_thread_state" in after


def test_never_reached_completes_has_its_early_stop_in_json(tmp_path):
    r = _check(tmp_path, "--format", "json")
    (item,) = json.loads(r.output)["results"]
    assert item["verdict"] == "violated" and item["trace"] is None and item["trace_length"] is None
    stop = item["early_stop"]
    assert stop["length"] == 1
    assert stop["trace"] == [{"thread": "T1", "call": "run_python()", "result": None}]
    assert "halted" in stop["ends"] or "crash" in stop["ends"]


def test_a_reached_witness_has_no_early_stop(tmp_path):
    spec = tmp_path / "fine.toml"
    spec.write_text(CRASH.replace("run_python()", "st = PyGILState_Ensure()\nrun_python()\nPyGILState_Release(st)")
                    .replace('no_call_without_thread_state = "violated"\ncompletes = "violated"\n', ""))
    r = CliRunner().invoke(main, ["check", "-q", str(spec), "-p", "completes", "--format", "json"])
    (item,) = json.loads(r.output)["results"]
    assert item["verdict"] == "holds" and item["early_stop"] is None


def test_never_reached_completes_shows_where_nothing_can_move(tmp_path):
    spec = tmp_path / "stuck.toml"
    spec.write_text('design = "cpython_3_14"\nlocks = ["L"]\n[[thread]]\nname = "T1"\n'
                    'program = """\nlock(L)\nlock(L)\n"""\n')
    r = CliRunner().invoke(main, ["check", "-q", str(spec), "-p", "completes"], catch_exceptions=False)
    after = r.output.split("why completes is never reached (shortest run that stops early, 1 step):", 1)[1]
    assert "1. T1  lock(L)" in after
    assert "no thread can take a step, yet not every thread has finished (T1 stuck at lock(L)" in after


def test_an_unreachable_query_is_explained_only_when_it_was_expected_reachable(tmp_path):
    spec = tmp_path / "q.toml"
    text = CRASH.replace("[expect]\n", '[queries]\nt1_returns = "finished(T1)"\n\n[expect]\nt1_returns = "holds"\n')
    spec.write_text(text)
    run = CliRunner().invoke(main, ["check", "-q", str(spec), "-p", "t1_returns"], catch_exceptions=False)
    assert run.exit_code == 12
    assert "why t1_returns is never reached (shortest run that stops early, 1 step):" in run.output
    spec.write_text(text.replace('t1_returns = "holds"', 't1_returns = "violated"'))
    run = CliRunner().invoke(main, ["check", "-q", str(spec), "-p", "t1_returns"], catch_exceptions=False)
    assert run.exit_code == 0 and "why t1_returns" not in run.output
