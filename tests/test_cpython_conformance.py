"""The models held to the real runtime: traces replayed on CPython builds with a shared
libpython (pyenv's under ~/.pyenv/versions, or the system python3); skipped where none is."""
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.cpython.conform import design_for, run_suite
from interpcheck.checker.cpython.interpreters import found
from interpcheck.checker.cpython.observe import _crash_agrees, _death
from interpcheck.checker.cpython.plan import make_plan
from interpcheck.checker.cpython.replay import trace_of
from interpcheck.model.spec import load_spec
from interpcheck.model.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parent.parent
S1 = "counterexamples/s1_isfinalizing_toctou/cpython_3_12.no_attach_after_finalize.itf.json"
FOUND = found()
BY_MINOR = {i.version[:2]: i for i in FOUND}
# Rows that cannot be replayed, and why (docs/conformance.md): nothing else may be.
NOT_FORCEABLE = ("use_object", "lock_buffered_io")
needs_312 = pytest.mark.skipif((3, 12) not in BY_MINOR, reason="no CPython 3.12 with a shared libpython here "
                                                               "(pyenv install 3.12 with --enable-shared)")


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)     # traces name their spec relative to the repository


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_finalization_phases_stop_at_the_hooks_cpython_runs():
    spec = load_spec("specs/s1_isfinalizing_toctou.toml")
    system = spec.system("cpython_3_12")
    import json
    trace = trace_of(system, json.loads(Path(S1).read_text()))
    plan = make_plan(system, trace, spec.name, "cpython_3_12", "no_attach_after_finalize", spec.scenario)
    assert [(e.thread, e.outcome) for e in plan.steps] == [
        ("main", "hook atexit"), ("T1", "returned"), ("main", "hook flag"), ("T1", "inside"), ("T1", "exited")]


def test_each_version_is_held_to_the_design_of_its_release():
    assert design_for((3, 10, 13)) == "cpython_3_11"      # claimed by no design: the nearest
    assert design_for((3, 11, 7)) == "cpython_3_11"
    assert design_for((3, 12, 1)) == "cpython_3_12"
    assert design_for((3, 13, 0)) == "cpython_3_13"
    assert design_for((3, 13, 8)) == "cpython_3_13_8"
    assert design_for((3, 14, 0)) == "cpython_3_14"
    assert design_for((3, 15, 0)) == "final"
    assert design_for((3, 9, 18)) is None


def test_a_segfault_near_null_is_a_null_dereference_not_a_use_after_free():
    valgrind = "==1== Address 0x60 is not stack'd, malloc'd or (recently) free'd\n"
    death = _death(-11, valgrind)
    assert _crash_agrees("crash:null_deref", death) == (True, "")
    agrees, why = _crash_agrees("crash:use_after_free", death)
    assert not agrees and "a NULL pointer's field, not a freed one" in why
    wild = _death(-11, valgrind.replace("0x60", "0x7f0000001000"))
    assert not _crash_agrees("crash:null_deref", wild)[0]


@pytest.mark.skipif(not BY_MINOR, reason="no CPython with a shared libpython here (pyenv install 3.12 with "
                                         "--enable-shared)")
@pytest.mark.slow   # 70 s: .ci/run runs it (pytest -m slow); the test after it keeps a quick one in the default run
def test_every_per_release_counterexample_agrees_on_each_minor_version_found():
    """The conformance suite: every saved counterexample of cpython_3_11/3_12/3_13 replayed on one
    CPython of each of those minors found here, two replays at a time."""
    interps = [BY_MINOR[m] for m in ((3, 11), (3, 12), (3, 13)) if m in BY_MINOR]
    if not interps:
        pytest.skip("no CPython 3.11, 3.12 or 3.13 with a shared libpython here")
    specs = [load_spec(str(p)) for p in sorted((ROOT / "specs").glob("*.toml"))]
    rows = run_suite(specs, interps, ROOT / "counterexamples", workers=max(2, os.cpu_count() or 2),
                     witnesses=False)
    assert {r.case.design for r in rows} == {f"cpython_{i.version[0]}_{i.version[1]}" for i in interps}
    bad = [f"{r.interp.short} {r.case.name}: {r.verdict}: {r.detail}" for r in rows
           if r.verdict != "agrees" and not (r.verdict == "not replayable"
                                             and any(f"`{f}`" in r.detail or f"{f}(" in r.detail
                                                     for f in NOT_FORCEABLE))]
    assert not bad, "\n".join(bad)
    assert sum(r.verdict == "agrees" for r in rows) >= 15 * len(interps)


# Scenarios where replaying showed the model wrong, fixed since (docs/conformance.md, "Divergences
# fixed", 5); two are seen only in their witness runs, which the suite above leaves out.
RUNTIME_FINDINGS = ("restore_thread_null_while_attached", "delete_bound_tstate_of_another_thread",
                    "delete_tstate_attached_on_another_thread", "gilstate_check_after_subinterpreter",
                    "gilstate_check_after_finalize")


@pytest.mark.skipif(not BY_MINOR, reason="no CPython with a shared libpython here (pyenv install 3.12 with "
                                         "--enable-shared)")
def test_the_runtime_findings_agree_counterexamples_and_witnesses():
    interps = [BY_MINOR[m] for m in ((3, 11), (3, 12), (3, 13)) if m in BY_MINOR]
    specs = [load_spec(str(ROOT / "specs" / f"{name}.toml")) for name in RUNTIME_FINDINGS]
    rows = run_suite(specs, interps, ROOT / "counterexamples", workers=max(2, os.cpu_count() or 2))
    bad = [f"{r.interp.short} {r.case.name}: {r.verdict}: {r.detail}" for r in rows
           if r.verdict not in ("agrees", "no witness")]
    assert not bad, "\n".join(bad)
    agreeing = {(r.interp.short, r.case.spec.name) for r in rows if r.verdict == "agrees"}
    assert len(agreeing) == len(RUNTIME_FINDINGS) * len(interps), agreeing


@needs_312
def test_python_threads_of_main_start_detached_with_their_own_thread_state():
    r = cli("replay", "counterexamples/daemon_thread_reattach/cpython_3_12.no_attach_after_finalize.itf.json",
            "--cpython", BY_MINOR[3, 12].executable)
    assert r.exit_code == 0, r.output
    assert "returned (attached=0, gilstate=1)" in r.output     # T1's own thread state, bound, detached
    assert "Py_END_ALLOW_THREADS  exited" in r.output


@needs_312
def test_not_the_last_thread_is_a_fatal_error_before_the_flag_hook():
    r = cli("replay", "counterexamples/end_interpreter_not_last_thread/cpython_3_12.no_fatal_error.itf.json",
            "--cpython", BY_MINOR[3, 12].executable)
    assert r.exit_code == 0, r.output
    assert "fatal error: Py_EndInterpreter: not the last thread" in r.output


@needs_312
def test_s1_thread_exits_at_the_predicted_step_on_3_12():
    r = cli("replay", S1, "--cpython", BY_MINOR[3, 12].executable)
    assert r.exit_code == 0, r.output
    assert "5     T1      PyGILState_Ensure()     exited" in r.output
    assert "agrees: 4 observed steps" in r.output


@needs_312
def test_a_call_with_no_observable_outcome_is_not_replayable():
    r = CliRunner().invoke(main, [
        "replay", "counterexamples/s10_gilstate_wrong_interpreter/cpython_3_12.right_interpreter.itf.json",
        "--cpython", BY_MINOR[3, 12].executable])
    assert r.exit_code == 150
    assert r.stderr.startswith("error: counterexamples/s10_gilstate_wrong_interpreter/") and "step 3" in r.stderr
    assert "Traceback" not in r.stderr


@needs_312
def test_finalization_deadlock_of_gh129536_is_reproduced(tmp_path):
    trace = "counterexamples/gh129536_daemon_thread_lock/cpython_3_12.no_deadlock.itf.json"
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
    spec = load_spec("specs/gilstate_nested.toml")   # a spec keeps the systems it built: load it on the new model
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
def test_ensure_after_finalize_dereferences_null_under_valgrind():
    r = cli("replay", "counterexamples/s1_isfinalizing_toctou/cpython_3_12.no_null_deref.itf.json",
            "--cpython", BY_MINOR[3, 12].executable)
    assert r.exit_code == 0, r.output
    assert "(under valgrind)" in r.output and "a NULL pointer's field, not a freed one" in r.output


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
    system = spec.system("cpython_3_12")
    from interpcheck.checker.explicit import check
    trace = check(system, ["completes"])[0].trace
    plan = make_plan(system, trace, spec.name, "cpython_3_12", "completes", spec.scenario)
    ensures = [op.result for t in plan.threads for op in t.ops if op.function == "PyGILState_Ensure"]
    assert ensures == ["T1_a", "T1_b", "T2_a", "T2_b"]


@needs_312
def test_conform_reports_each_trace_per_cpython_as_json():
    import json
    r = cli("conform", "specs/gilstate_nested.toml", "--cpython", BY_MINOR[3, 12].executable, "--format", "json")
    assert r.exit_code == 0, r.output
    [row] = json.loads(r.stdout)["results"]
    assert row == {"spec": "gilstate_nested", "design": "cpython_3_12", "property": "completes",
                   "trace": "witness: completes", "cpython": BY_MINOR[3, 12].short, "verdict": "agrees",
                   "detail": row["detail"]}
