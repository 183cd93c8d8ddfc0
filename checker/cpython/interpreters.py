"""The CPython builds a trace can be replayed on: what the interpreter itself says about its
headers and shared libpython (sysconfig), and which of them are on this machine."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_ASK = ("import json, sys, sysconfig as s; v = s.get_config_var; "
        "print(json.dumps({'version': list(sys.version_info[:3]), 'shared': bool(v('Py_ENABLE_SHARED')), "
        "'include': v('INCLUDEPY'), 'libdir': v('LIBDIR'), 'ldlibrary': v('LDLIBRARY'), "
        "'libs': v('LIBS') or '', 'gil_disabled': bool(v('Py_GIL_DISABLED'))}))")


class NoInterpreter(Exception):
    """PYTHON is not a CPython this replay can embed (not found, or without a shared libpython)."""


@dataclass(frozen=True)
class Interpreter:
    executable: str
    version: tuple[int, int, int]
    include: str
    libdir: str
    library: str          # the -l name: "python3.12"
    libs: str             # what libpython itself links with ("-ldl -lm")

    @property
    def short(self) -> str:
        return f"{self.version[0]}.{self.version[1]}.{self.version[2]}"

    def compile_command(self, cc: str, source: str, output: str) -> list[str]:
        """The build command, with an rpath so the program finds this libpython and no other."""
        return [cc, "-g", "-O0", "-w", f"-I{self.include}", "-o", output, source, f"-L{self.libdir}",
                f"-Wl,-rpath,{self.libdir}", f"-l{self.library}", "-lpthread", *self.libs.split()]


def inspect(python: str) -> Interpreter:
    """Asks PYTHON for its version, headers and libpython."""
    exe = shutil.which(os.path.expanduser(python)) or os.path.expanduser(python)
    try:
        out = subprocess.run([exe, "-I", "-c", _ASK], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise NoInterpreter(f"cannot run {python}: {err}") from err
    if out.returncode != 0:
        raise NoInterpreter(f"{python} is not a working Python: {out.stderr.strip()[-200:]}")
    try:
        info = json.loads(out.stdout)
    except ValueError as err:
        raise NoInterpreter(f"{python} is not a CPython (it does not answer sysconfig questions)") from err
    version = tuple(info["version"])
    if not info["shared"] or not info["ldlibrary"] or not str(info["ldlibrary"]).endswith(".so"):
        raise NoInterpreter(f"{python} ({'.'.join(map(str, version))}) has no shared libpython "
                            "(built without --enable-shared)")
    if info["gil_disabled"]:
        raise NoInterpreter(f"{python} is a free-threaded build: the models assume a GIL")
    if not Path(info["include"], "Python.h").exists():
        raise NoInterpreter(f"{python} has no Python.h under {info['include']}")
    name = str(info["ldlibrary"])[3:].split(".so")[0]           # libpython3.12.so -> python3.12
    return Interpreter(exe, version, info["include"], info["libdir"], name, info["libs"])


def found() -> list[Interpreter]:
    """Every CPython here with a shared libpython: pyenv builds, then the system python3;
    oldest first, one per version."""
    candidates = sorted(Path.home().glob(".pyenv/versions/3.*/bin/python3"))
    candidates += [Path(p) for p in ("/usr/bin/python3", "/usr/local/bin/python3") if Path(p).exists()]
    seen: dict[tuple, Interpreter] = {}
    for path in candidates:
        try:
            interp = inspect(str(path))
        except NoInterpreter:
            continue
        if interp.version >= (3, 10):
            seen.setdefault(interp.version, interp)
    return [seen[v] for v in sorted(seen)]


__all__ = ["Interpreter", "NoInterpreter", "inspect", "found"]
