"""Replays traces on a real CPython: the conformance of the models against the runtime.

A trace (ITF) is turned into a C program that embeds the interpreter, runs one pthread per
spec thread and forces the trace's order of steps (`plan` reads the trace, `harness` writes
the program, `build` compiles it against the interpreter's own headers and libpython,
`observe` runs it and compares each step with what the model predicted); `conform` replays
every counterexample and witness on every CPython found. docs/conformance.md describes it.
"""
