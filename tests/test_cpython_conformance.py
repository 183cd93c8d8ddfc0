"""The models held to the real runtime: traces replayed on CPython builds with a shared
libpython (pyenv's under ~/.pyenv/versions, or the system python3); skipped where none is."""
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.cpython.conform import design_for, run_suite
from interpcheck.checker.cpython.interpreters import found
from interpcheck.checker.cpython.plan import make_plan
from interpcheck.checker.cpython.replay import trace_of
from interpcheck.model.spec import load_spec
from interpcheck.model.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parent.parent
S1 = "counterexamples/s1_isfinalizing_toctou/legacy_313.no_attach_after_finalize.itf.json"
FOUND = found()
BY_MINOR = {i.version[:2]: i for i in FOUND}
needs_312 = pytest.mark.skipif((3, 12) not in BY_MINOR, reason="no CPython 3.12 with a shared libpython here "
                                                               "(pyenv install 3.12 with --enable-shared)")


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)     # traces name their spec relative to the repository


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_finalization_phases_stop_at_the_hooks_cpython_runs():
    spec = load_spec("specs/s1_isfinalizing_toctou.toml")
    system = spec.system("legacy_313")
    import json
    trace = trace_of(system, json.loads(Path(S1).read_text()))
    plan = make_plan(system, trace, spec.name, "legacy_313", "no_attach_after_finalize", spec.scenario)
    assert [(e.thread, e.outcome) for e in plan.steps] == [
        ("main", "hook atexit"), ("T1", "returned"), ("main", "hook flag"), ("T1", "inside"), ("T1", "exited")]


def test_versions_are_held_to_legacy_313_until_their_designs_exist():
    assert design_for((3, 12, 1)) == "legacy_313"
    assert design_for((3, 13, 0)) == "legacy_313"
    assert design_for((3, 14, 0)) == "legacy"


@needs_312
def test_s1_thread_exits_at_the_predicted_step_on_3_12():
    r = cli("replay", S1, "--cpython", BY_MINOR[3, 12].executable)
    assert r.exit_code == 0, r.output
    assert "5     T1      PyGILState_Ensure()     exited" in r.output
    assert "agrees: 4 observed steps" in r.output


@needs_312
def test_a_call_with_no_observable_outcome_is_not_replayable():
    r = CliRunner().invoke(main, [
        "replay", "counterexamples/s10_gilstate_wrong_interpreter/legacy_313.right_interpreter.itf.json",
        "--cpython", BY_MINOR[3, 12].executable])
    assert r.exit_code == 150
    assert r.stderr.startswith("error: counterexamples/s10_gilstate_wrong_interpreter/") and "step 3" in r.stderr
    assert "Traceback" not in r.stderr


@needs_312
def test_finalization_deadlock_of_gh129536_is_reproduced(tmp_path):
    trace = "counterexamples/gh129536_daemon_thread_lock/legacy_313.no_deadlock.itf.json"
    r = cli("replay", trace, "--cpython", BY_MINOR[3, 12].executable, "--keep", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "blocked in futex" in r.output             # main, stuck on the lock in the finalizer hook
    assert "PyEval_RestoreThread" in (tmp_path / "replay.c").read_text()
    assert "-Wl,-rpath," in (tmp_path / "build.sh").read_text()


@needs_312
def test_a_model_whose_release_never_deletes_fails_conformance(monkeypatch):
    spec = load_spec("specs/gilstate_nested.toml")
    [row] = run_suite([spec], [BY_MINOR[3, 12]], ROOT / "counterexamples")
    assert row.verdict == "agrees", row.detail
    monkeypatch.setattr(Vocabulary, "delete_tstate", lambda self, t, ts: [])    # PyGILState_Release never deletes
    [row] = run_suite([spec], [BY_MINOR[3, 12]], ROOT / "counterexamples")
    assert row.verdict == "diverges"
    assert "PyGILState_Release(a)" in row.detail and "PyGILState_GetThisThreadState() is NULL" in row.detail


@needs_312
def test_every_translated_legacy_call_agrees_on_3_12():
    spec = load_spec("tests/cpython/legacy_calls.toml")
    [row] = run_suite([spec], [BY_MINOR[3, 12]], ROOT / "counterexamples")
    assert (row.case.prop, row.verdict) == ("completes", "agrees"), row.detail


@needs_312
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed (apt-get install valgrind)")
def test_a_null_dereference_is_not_taken_for_a_use_after_free():
    r = cli("replay", "counterexamples/s1_isfinalizing_toctou/legacy_313.no_use_after_free.itf.json",
            "--cpython", BY_MINOR[3, 12].executable)
    assert r.exit_code == 12, r.output
    assert "diverges at step 5 (thread T1): predicted use after free" in r.output
    assert "a NULL or wild pointer, not a freed one" in r.output


def test_a_python_without_shared_libpython_is_bad_input(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho '{\"version\": [3, 12, 0], \"shared\": false, \"include\": \"/x\", "
                    "\"libdir\": \"/x\", \"ldlibrary\": \"libpython3.12.a\", \"libs\": \"\", \"gil_disabled\": false}'\n")
    fake.chmod(0o755)
    for python in (str(fake), "/bin/true"):
        r = CliRunner().invoke(main, ["replay", S1, "--cpython", python])
        assert r.exit_code == 150
        assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"error: {S1}: ")
    assert "no shared libpython" in CliRunner().invoke(main, ["replay", S1, "--cpython", str(fake)]).stderr


def test_a_call_split_in_steps_stores_its_value_from_the_step_that_returns_it():
    spec = load_spec("specs/gilstate_nested.toml")
    system = spec.system("legacy_313")
    from interpcheck.checker.explicit import check
    trace = check(system, ["completes"])[0].trace
    plan = make_plan(system, trace, spec.name, "legacy_313", "completes", spec.scenario)
    ensures = [op.result for t in plan.threads for op in t.ops if op.function == "PyGILState_Ensure"]
    assert ensures == ["T1_a", "T1_b", "T2_a", "T2_b"]


@needs_312
def test_conform_reports_each_trace_per_cpython_as_json():
    import json
    r = cli("conform", "specs/gilstate_nested.toml", "--cpython", BY_MINOR[3, 12].executable, "--format", "json")
    assert r.exit_code == 0, r.output
    [row] = json.loads(r.stdout)["results"]
    assert row == {"spec": "gilstate_nested", "design": "legacy_313", "property": "completes",
                   "trace": "witness: completes", "cpython": BY_MINOR[3, 12].short, "verdict": "agrees",
                   "detail": row["detail"]}
