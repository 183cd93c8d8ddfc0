"""The code's shape, checked: no import cycle between interpcheck's modules, and no function
over 60 lines without a docstring saying why it is long (docs/architecture.md).

`python tests/test_architecture.py` prints both lists; the suite requires them empty."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("model", "checker")
LONG = 60


def modules() -> dict[str, Path]:
    """Module name (as in the source tree: model.ir.expr) → file."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _local(name: str) -> str:
    """interpcheck.checker.x → checker.x: installed names map to the source tree's."""
    return name.removeprefix("interpcheck.")


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of this project `name` imports, at any depth of its code (lazy imports
    inside functions count: they are cycles deferred, not removed; imports for type checkers
    only do not). `from pkg import sub` depends on the submodule only; `from pkg import value`
    on the package."""
    deps = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            deps.update(_local(a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _local(node.module or "")
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known}
            deps |= subs
            if len(subs) < len(node.names):
                deps.add(base)
    return {d for d in deps if d in known and d != name}


def _runtime_nodes(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in ast.walk(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def import_cycles() -> list[list[str]]:
    """The strongly connected components of the import graph with more than one module."""
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                cycles.append(sorted(component + [v]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def long_functions() -> list[str]:
    """Functions over LONG lines whose docstring does not say why ("Long because ...")."""
    out = []
    for name, path in sorted(modules().items()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONG and "Long because" not in (ast.get_docstring(node) or ""):
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    return out


def test_no_import_cycle():
    assert import_cycles() == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    for name, text in {"a": "from . import b\n", "b": "from .a import x\n", "c": "import checker.a\n"}.items():
        (tmp_path / "checker").mkdir(exist_ok=True)
        (tmp_path / "checker" / f"{name}.py").write_text(text)
    (tmp_path / "checker" / "__init__.py").write_text("")
    (tmp_path / "model").mkdir()
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert import_cycles() == [["checker.a", "checker.b"]]


def test_every_model_variable_has_a_declared_owner():
    """Symmetry is switched off, silently and soundly, for a variable nobody declared an
    owner for (model/vocabulary.py `_declare_owners`): no bundled spec may have one."""
    from interpcheck.model.designs import DESIGNS, resolve
    from interpcheck.model.programs.compile import ProgramCompiler
    from interpcheck.model.spec import load_spec
    missing = []
    for path in sorted((ROOT / "specs").glob("*.toml")):
        spec = load_spec(path)
        for design in spec.designs:
            compiler = ProgramCompiler(spec.scenario, DESIGNS[resolve(design)])
            missing += [f"{spec.name} [{design}]: {name}" for name in compiler.undeclared(compiler.build())]
    assert missing == []


def test_long_functions_say_why():
    assert long_functions() == []


if __name__ == "__main__":
    print("import cycles:", import_cycles() or "none")
    print(f"functions over {LONG} lines without a reason:", *long_functions() or ["none"], sep="\n  ")
