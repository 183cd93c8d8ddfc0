"""Bad arguments, reported like bad specs: one line `error: ...`, exit 150 (TLC's code)."""
from __future__ import annotations

import difflib
import math
import os
from pathlib import Path

import click

from interpcheck.model.designs import ALIASES, DESIGNS
from interpcheck.model.spec import one_line

EXIT_BAD_INPUT = 150


class BadUsage(click.ClickException):
    """A wrong argument or option: our one line with exit 150, not click's usage block and 2."""
    exit_code = EXIT_BAD_INPUT

    def show(self, file=None) -> None:
        click.echo(f"error: {one_line(self.format_message())}", err=True)


def known_design(option: str, name: str) -> str:
    """`name` if it is a design or an alias of one; else BadUsage: no such design, did you mean ..."""
    if name not in DESIGNS and name not in ALIASES:
        close = difflib.get_close_matches(name, [*DESIGNS, *ALIASES], n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise BadUsage(f"{option} {name}: no such design; {hint}known: {', '.join([*DESIGNS, *ALIASES])}")
    return name


class FiniteFloat(click.ParamType):
    """Seconds: a finite number above `least` (0) or from it; click's FloatRange lets nan
    through (`--time-limit nan` would never stop) and inf."""
    name = "seconds"

    def __init__(self, least: float = 0.0, inclusive: bool = False):
        self.least, self.inclusive = least, inclusive

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        low = number >= self.least if self.inclusive else number > self.least
        if not math.isfinite(number) or not low:
            bound = f"at least {self.least:g}" if self.inclusive else f"above {self.least:g}"
            self.fail(f"{value!r} is not a finite number of seconds {bound}", param, ctx)
        return number


def output_folder(option: str, folder: str | None) -> None:
    """Refuse, before any work, an output folder that cannot be made (`--itf /dev/null/x`)."""
    if folder is None:
        return
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise BadUsage(f"{option} {folder}: not a folder")
    parent = next((p for p in [path, *path.parents] if p.exists()), Path("."))
    if not parent.is_dir():
        raise BadUsage(f"{option} {folder}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadUsage(f"{option} {folder}: {parent} is not writable")


def inside(folder: str | Path, *parts: str) -> Path:
    """folder/parts..., refused when it would land outside `folder` (a part like `..`)."""
    root = Path(folder)
    path = root.joinpath(*parts)
    if any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts) or \
            not path.resolve().is_relative_to(root.resolve()):
        raise BadUsage(f"{path}: would be written outside {folder}; rename the spec (`name`)")
    return path
