"""A scenario that outgrows a spec bound stops every engine with the bound to raise (exit 152),
never an internal error: here a thread creates more thread states than `tstates_per_thread`."""
import json

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main

POOL = '''design = "legacy"
bounds = {{ tstates_per_thread = 2 }}
[[thread]]
name = "T1"
count = {count}
program = """
a = PyThreadState_New(main)
b = PyThreadState_New(main)
c = PyThreadState_New(main)
"""
'''
ADVICE = "bound: ts_status would become 4 in PyThreadState_New(main); raise `tstates_per_thread` under [bounds]"


@pytest.mark.parametrize("engine", [["--backend", "python"], ["--backend", "c"], ["--engine", "bmc"],
                                    ["--engine", "induction"], ["--engine", "parametric"],
                                    ["--order", "simulate"]])
def test_more_thread_states_than_the_pool_names_the_bound(tmp_path, engine):
    spec = tmp_path / "pool.toml"
    spec.write_text(POOL.format(count=2 if "parametric" in engine else 1))
    r = CliRunner().invoke(main, ["check", str(spec), "-p", "no_use_after_free", "--format", "json", *engine],
                           catch_exceptions=False)
    assert r.exit_code == 152, r.output
    (result,) = json.loads(r.output)["results"]
    assert result["verdict"] == "unknown" and ADVICE in result["reason"]


def test_a_pool_that_is_large_enough_is_no_limit(tmp_path):
    spec = tmp_path / "pool.toml"
    spec.write_text(POOL.format(count=1).replace("tstates_per_thread = 2", "tstates_per_thread = 3"))
    r = CliRunner().invoke(main, ["check", str(spec), "-p", "no_use_after_free"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
