"""The CI gate: passes on the committed baseline, fails when one transition is broken."""
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.model.designs import DESIGNS
from functools import partial

from interpcheck.model.designs.final import ensure_steps, ensure_with_guard

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def in_root():
    cwd = os.getcwd()
    os.chdir(ROOT)
    yield
    os.chdir(cwd)


def gate(*args):
    return CliRunner().invoke(main, ["gate", *args])


def test_gate_passes_on_the_committed_baseline(in_root):
    r = gate()
    assert r.exit_code == 0, r.output
    assert "0 regressions" in r.output


def test_gate_fails_with_the_new_counterexample_when_a_transition_is_broken(in_root, monkeypatch):
    # Break one transition: final's Ensure returns SENTINEL for a same-interpreter tstate
    # (the PR #149116 draft bug). The gate must name the regression and print its trace.
    api = DESIGNS["final"].api
    monkeypatch.setitem(api, "PyThreadState_Ensure", replace(api["PyThreadState_Ensure"], build=ensure_with_guard(partial(ensure_steps, draft=True))))
    r = gate()
    assert r.exit_code == 12, r.output
    assert "REGRESSION s14_same_interpreter_ensure [final] release_restores: expected holds, now violated" in r.output
    assert "PyThreadState_Release(tok)" in r.output


def test_gate_reports_a_changed_trace(in_root, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(ROOT / "counterexamples", base)
    table = json.loads((base / "verdicts.json").read_text())
    table["s1_isfinalizing_toctou"]["cpython_3_14"]["no_stale_check"]["trace_length"] = 4
    (base / "verdicts.json").write_text(json.dumps(table))
    r = gate("--baseline", str(base))
    assert r.exit_code == 12
    assert "shortest counterexample changed (length 4 → 5" in r.output


def test_gate_writes_junit_and_sarif(in_root, tmp_path, monkeypatch):
    api = DESIGNS["final"].api
    monkeypatch.setitem(api, "PyThreadState_Ensure", replace(api["PyThreadState_Ensure"], build=ensure_with_guard(partial(ensure_steps, draft=True))))
    junit, sarif = tmp_path / "g.xml", tmp_path / "g.sarif"
    gate("--junit", str(junit), "--sarif", str(sarif))
    suite = ET.parse(junit).getroot()
    assert int(suite.get("failures")) >= 1
    data = json.loads(sarif.read_text())
    assert data["version"] == "2.1.0" and data["runs"][0]["results"]


def test_designs_doc_is_generated(in_root):
    r = CliRunner().invoke(main, ["matrix", "--format", "markdown"])
    assert r.exit_code == 0
    assert (ROOT / "docs" / "designs.md").read_text() == r.output, \
        "regenerate: interpcheck matrix --format markdown > docs/designs.md"


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
