"""The `interpcheck` command: one click group (app.py), one module per command.

Every command reports bad input as one line naming file and line (exit 150) and any bug of
ours as an internal error (exit 255); see app.py.
"""
from .app import main

# Each command module registers itself on `main`; add a line here for a new one.
from . import check, check_c, conform, export, gate, listing, matrix, starter, trace  # noqa: E402,F401

__all__ = ["main"]
