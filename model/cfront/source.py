"""Reads C and C++ files with tree-sitter: unpreprocessed, includes unresolved, macros kept.

tree-sitter parses what it can and marks the rest with ERROR nodes, so a file that needs
headers we do not have still yields its functions. Two kinds of macros it cannot recover
from: `Py_BEGIN_ALLOW_THREADS` opens a brace that `Py_END_ALLOW_THREADS` closes, and both
come without a semicolon. They are rewritten, within their own line, into a block with
calls (`{ Py_BEGIN_ALLOW_THREADS(); ... Py_END_ALLOW_THREADS(); }`), so every line keeps
its number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import tree_sitter

CPP_SUFFIXES = {".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".C", ".c++"}

# (macro, replacement): each opens or closes a block, or is a statement without `;`.
_BLOCK_MACROS = [
    (re.compile(r"\bPy_BEGIN_ALLOW_THREADS\b(?!\s*\()"), "{ Py_BEGIN_ALLOW_THREADS();"),
    (re.compile(r"\bPy_END_ALLOW_THREADS\b(?!\s*\()"), "Py_END_ALLOW_THREADS(); }"),
    (re.compile(r"\bPy_BLOCK_THREADS\b(?!\s*\()"), "Py_BLOCK_THREADS();"),
    (re.compile(r"\bPy_UNBLOCK_THREADS\b(?!\s*\()"), "Py_UNBLOCK_THREADS();"),
    (re.compile(r"\b(Py_BEGIN_CRITICAL_SECTION2?\s*\([^()]*\))\s*;?"), r"{ \1;"),
    (re.compile(r"\b(Py_END_CRITICAL_SECTION2?\s*\(\s*\))\s*;?"), r"\1; }"),
]


@lru_cache(maxsize=None)
def _parser(cpp: bool) -> tree_sitter.Parser:
    if cpp:
        import tree_sitter_cpp as grammar
    else:
        import tree_sitter_c as grammar
    return tree_sitter.Parser(tree_sitter.Language(grammar.language()))


def rewrite_macros(text: str) -> str:
    """The block macros as blocks of calls; preprocessor lines are left alone. Lines keep their numbers."""
    out = []
    for line in text.split("\n"):
        if not line.lstrip().startswith("#"):
            for pat, repl in _BLOCK_MACROS:
                line = pat.sub(repl, line)
        out.append(line)
    return "\n".join(out)


@dataclass(frozen=True)
class Function:
    name: str                          # the last component for C++ (`Worker::run` → `run`)
    qualified: str
    node: tree_sitter.Node             # the function_definition
    file: "SourceFile"

    @property
    def line(self) -> int:
        return self.node.start_point[0] + 1

    @property
    def body(self) -> tree_sitter.Node:
        return self.node.child_by_field_name("body")

    def params(self) -> list[tuple[str, str]]:
        """(name, type text) of each parameter, in order."""
        decl = _function_declarator(self.node.child_by_field_name("declarator"))
        plist = decl.child_by_field_name("parameters") if decl is not None else None
        out = []
        for p in (plist.named_children if plist is not None else []):
            if p.type not in ("parameter_declaration", "optional_parameter_declaration"):
                continue
            name = _declared_name(p.child_by_field_name("declarator"))
            typ = p.child_by_field_name("type")
            ptr = "*" if p.child_by_field_name("declarator") is not None and \
                "*" in text_of(p.child_by_field_name("declarator")) else ""
            if name:
                out.append((name, (text_of(typ) if typ is not None else "") + ptr))
        return out

    def return_type(self) -> str:
        typ = self.node.child_by_field_name("type")
        decl = self.node.child_by_field_name("declarator")
        star = "*" if decl is not None and decl.type == "pointer_declarator" else ""
        return (text_of(typ) if typ is not None else "") + star


@dataclass
class SourceFile:
    path: Path
    shown: str                         # the path as the user gave it (for file:line)
    cpp: bool
    tree: tree_sitter.Tree
    functions: list[Function] = field(default_factory=list)
    globals: set[str] = field(default_factory=set)
    errors: list[int] = field(default_factory=list)   # lines of ERROR / MISSING nodes outside functions
    macros: set[str] = field(default_factory=set)     # function-like macros it #defines (not expanded)
    api_macros: set[str] = field(default_factory=set)  # macros it #defines whose text calls the thread-state API

    def where(self, node: tree_sitter.Node) -> tuple[str, int]:
        return self.shown, node.start_point[0] + 1


# what a macro's text calls that a check would need to see (not expanded: no preprocessing)
API_WORDS = re.compile(r"\b(PyEval_SaveThread|PyEval_RestoreThread|PyGILState_\w+|Py_(BEGIN|END)_ALLOW_THREADS|"
                       r"Py_(UN)?BLOCK_THREADS|PyThreadState_\w+|PyInterpreterGuard_\w+|PyInterpreterView_\w+)\b")


def text_of(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf8", "replace") if node is not None else ""


def _function_declarator(node):
    while node is not None and node.type != "function_declarator":
        node = node.child_by_field_name("declarator")
    return node


def _declared_name(node) -> str | None:
    while node is not None:
        if node.type in ("identifier", "field_identifier"):
            return text_of(node)
        if node.type in ("qualified_identifier", "destructor_name", "operator_name"):
            name = node.child_by_field_name("name")
            if name is None or name.type not in ("identifier", "qualified_identifier"):
                return text_of(node).split("::")[-1]
            node = name
            continue
        node = node.child_by_field_name("declarator")
    return None


def read_source(path: str | Path, shown: str | None = None) -> SourceFile:
    path = Path(path)
    text = path.read_text(encoding="utf8", errors="replace")
    return parse_source(text, shown or str(path), path.suffix in CPP_SUFFIXES or _looks_cpp(text), path)


def _looks_cpp(text: str) -> bool:
    return bool(re.search(r"\b(namespace|template\s*<|std::|py::|nb::|class\s+\w+\s*[:{])", text))


def parse_source(text: str, shown: str = "<snippet>", cpp: bool | None = None,
                 path: Path | None = None) -> SourceFile:
    cpp = _looks_cpp(text) if cpp is None else cpp
    tree = _parser(cpp).parse(rewrite_macros(text).encode("utf8"))
    src = SourceFile(path or Path(shown), shown, cpp, tree)
    _index(src, tree.root_node, top=True)
    return src


def _index(src: SourceFile, node: tree_sitter.Node, top: bool) -> None:
    """Functions (also inside namespaces, extern "C" blocks, classes, templates) and file-scope variables."""
    for child in node.named_children:
        kind = child.type
        if kind == "function_definition":
            decl = _function_declarator(child.child_by_field_name("declarator"))
            if decl is not None and child.child_by_field_name("body") is not None:
                inner = decl.child_by_field_name("declarator")
                qualified = text_of(inner)
                name = _declared_name(inner) or qualified
                src.functions.append(Function(name, qualified, child, src))
        elif kind in ("namespace_definition", "linkage_specification", "template_declaration",
                      "class_specifier", "struct_specifier", "declaration_list", "field_declaration_list",
                      "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif"):
            body = child.child_by_field_name("body")
            _index(src, body if body is not None and kind != "template_declaration" else child, top=False)
        elif kind == "declaration" and top or kind == "declaration" and node.type in (
                "declaration_list", "preproc_if", "preproc_ifdef", "preproc_else"):
            for d in child.children_by_field_name("declarator"):
                if _function_declarator(d) is None or d.type == "init_declarator":
                    name = _declared_name(d)
                    if name:
                        src.globals.add(name)
        elif kind in ("preproc_function_def", "preproc_def") and child.child_by_field_name("name") is not None:
            name = text_of(child.child_by_field_name("name"))
            if kind == "preproc_function_def":
                src.macros.add(name)
            if API_WORDS.search(text_of(child.child_by_field_name("value"))):
                src.api_macros.add(name)
        elif kind == "ERROR":
            src.errors.append(child.start_point[0] + 1)
            _index(src, child, top=top)
