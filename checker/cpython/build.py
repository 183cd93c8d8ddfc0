"""Compiles a replay program against one CPython, once: programs are cached by a hash of
their source and the build command (in the cache folder the C search uses)."""
from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from ..explicit.native.build import BuildError, cache_dir, compiler
from .interpreters import Interpreter


def build(source: str, interp: Interpreter, keep: Path | None = None) -> Path:
    """The executable for `source` on `interp`; with `keep`, also writes replay.c and build.sh
    there (the program and the command that builds it)."""
    cc = compiler()
    if cc is None:
        raise BuildError("no C compiler found (set CC, or install cc/gcc/clang)")
    command = interp.compile_command(cc, "replay.c", "replay")
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / "replay.c").write_text(source)
        (keep / "build.sh").write_text("#!/bin/sh\n# builds ./replay; run it as ./replay SETTLE_MS\n"
                                       f"cd \"$(dirname \"$0\")\" && {shlex.join(command)}\n")
        os.chmod(keep / "build.sh", 0o755)
    key = hashlib.sha256("\0".join((*command, interp.executable, source)).encode()).hexdigest()[:24]
    folder = cache_dir() / "cpython"
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / f"replay-{key}"
    if exe.exists():
        return exe
    with tempfile.TemporaryDirectory(prefix="build-", dir=folder) as work:
        (Path(work) / "replay.c").write_text(source)
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"the C compiler failed on the replay program:\n{done.stderr[-2000:]}")
        os.replace(Path(work) / "replay", exe)    # atomic: a parallel run sees all of it or nothing
    return exe


__all__ = ["build", "BuildError"]
