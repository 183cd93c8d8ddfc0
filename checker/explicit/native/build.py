"""Builds one model's C search into a shared library, once: libraries are cached by a hash
of their source and the compiler, so a model compiled before loads at once.

The cache is $INTERPCHECK_CACHE, else $XDG_CACHE_HOME/interpcheck, else ~/.cache/interpcheck
(a temporary folder when none is writable). The compiler is $CC, else cc, gcc or clang.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

RUNTIME = Path(__file__).with_name("runtime.c")
FLAGS = ("-O1", "-shared", "-fPIC", "-w")   # -O2 runs no faster here and compiles 2x slower


class BuildError(Exception):
    """No C compiler, or the compiler refused the source (then the message has its output)."""


def compiler() -> str | None:
    """The C compiler to use, or None."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def cache_dir() -> Path:
    for base in (os.environ.get("INTERPCHECK_CACHE"),
                 os.environ.get("XDG_CACHE_HOME") and str(Path(os.environ["XDG_CACHE_HOME"]) / "interpcheck"),
                 str(Path.home() / ".cache" / "interpcheck")):
        if not base:
            continue
        path = Path(base)
        try:
            path.mkdir(parents=True, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    path = Path(tempfile.gettempdir()) / f"interpcheck-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        st = path.stat()
        if st.st_uid == os.getuid() and not st.st_mode & 0o077:
            return path
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="interpcheck-"))   # never load a library another user could plant


def full_source(sizes: str, functions: str) -> str:
    """The compiled unit: the model's sizes, the runtime, then the model's functions."""
    return f"{sizes}\n{RUNTIME.read_text()}\n{functions}"


class Build:
    """A compilation under way (`start`) or done: `library()` waits for it and loads it."""

    def __init__(self, sizes: str, functions: str):
        cc = compiler()
        if cc is None:
            raise BuildError("no C compiler found (set CC, or install cc/gcc/clang)")
        self.source = full_source(sizes, functions)
        key = hashlib.sha256("\0".join((cc, *FLAGS, self.source)).encode()).hexdigest()[:24]
        self.path = cache_dir() / f"search-{key}.so"
        self.process: subprocess.Popen | None = None
        self.cc = cc
        self._log: Path | None = None

    def start(self) -> "Build":
        """Starts the compiler in the background, unless the library is cached."""
        if self.path.exists() or self.process is not None:
            return self
        work = Path(tempfile.mkdtemp(prefix="interpcheck-cc-"))
        src = work / "search.c"
        src.write_text(self.source)
        self._tmp = work / "search.so"
        self._log = work / "cc.log"
        with open(self._log, "w") as log:
            # A session of its own: cancel() stops the driver's cc1 and as too.
            self.process = subprocess.Popen([self.cc, *FLAGS, "-o", str(self._tmp), str(src)],
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def ready(self) -> bool:
        return self.path.exists() or (self.process is not None and self.process.poll() is not None)

    def ok(self) -> bool:
        """Whether the library is (or will be, once the compiler is done) there to load."""
        return self.path.exists() or (self.process is not None and self.process.poll() in (None, 0))

    def log(self) -> str:
        return self._log.read_text()[-2000:] if self._log is not None and self._log.exists() else ""

    def library(self) -> ctypes.CDLL:
        self.start()
        if self.process is not None:
            if self.process.wait() != 0:
                raise BuildError(f"the C compiler failed on the generated search:\n{self.log()}")
            os.replace(self._tmp, self.path)   # atomic: a concurrent run sees the whole file or none
            shutil.rmtree(self._tmp.parent, ignore_errors=True)
            self.process = None
            _prune(self.path.parent)
        return ctypes.CDLL(str(self.path))

    def cancel(self) -> None:
        """Stops a compilation no longer needed (the Python search finished first); one that
        already finished goes to the cache all the same."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.process.wait()
        elif self.process.returncode == 0:
            os.replace(self._tmp, self.path)
        shutil.rmtree(self._tmp.parent, ignore_errors=True)
        self.process = None


KEEP = 64   # libraries kept in the cache: the most recently built


def _prune(folder: Path) -> None:
    try:
        libraries = sorted(folder.glob("search-*.so"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in libraries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass   # another run pruned first
