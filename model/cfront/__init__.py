"""The C frontend: C and C++ extension code as thread programs, so every engine checks it unchanged.

`CSources` reads the files (tree-sitter), `translate` turns one function into a program
whose every call knows its C file:line, and `harness` builds the zero-configuration
scenario of `interpcheck check-c`.
"""
from .program import CProgram, CSources, CFrontError, translate
from .harness import Entry, Harness, build_harness, choose_design

__all__ = ["CProgram", "CSources", "CFrontError", "translate", "Entry", "Harness", "build_harness", "choose_design"]
