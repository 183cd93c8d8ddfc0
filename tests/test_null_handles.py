"""A handle no call of the spec creates can only be NULL: passing it is the bug the design
says (a use after free for a closed or NULL guard or view), never an internal error."""
import json

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main

SPEC = '''design = "{design}"
[[thread]]
name = "T1"
program = """
{call}
"""
'''


@pytest.mark.parametrize("design, call", [("final", "PyInterpreterGuard_Close(NULL)"),
                                          ("final", "PyInterpreterView_Close(NULL)"),
                                          ("final", "g = PyInterpreterGuard_FromView(NULL)")])
def test_a_null_literal_handle_with_no_handle_created_is_a_use_after_free(tmp_path, design, call):
    spec = tmp_path / "null.toml"
    spec.write_text(SPEC.format(design=design, call=call))
    r = CliRunner().invoke(main, ["check", str(spec), "-p", "no_use_after_free", "--format", "json"],
                           catch_exceptions=False)
    (result,) = json.loads(r.output)["results"]
    assert (result["verdict"], result["trace_length"]) == ("violated", 1), r.output
