"""How much memory this process uses, for --max-memory (SPIN's -DMEMLIM, for the whole process),
and how much a finished process used at its peak (pan's, for SpinStats; benchmarks' children)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading


def resident_mib() -> int:
    """This process's resident memory in MiB: /proc where there is one, else the peak."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE >> 20
    except OSError:
        import resource
        return int(peak_mib(resource.getrusage(resource.RUSAGE_SELF)))


def peak_mib(usage) -> float:
    """A rusage's peak resident memory in MiB (ru_maxrss: bytes on macOS, KiB elsewhere)."""
    return usage.ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1 << 10)


def run_peak(argv: list[str], cwd, stdout, timeout: float) -> float:
    """Runs argv to its end, as subprocess.run(..., timeout=timeout) does, and returns its
    peak resident memory in MiB: os.wait4 reaps it with its own rusage, so neither this
    process nor its other children count (RUSAGE_CHILDREN's ru_maxrss is a max over all
    children waited for, so deltas of it say nothing about one)."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=stdout, stderr=subprocess.STDOUT)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)   # wait4 has no timeout of its own
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:                    # e.g. ^C: leave no pan running
        proc.kill()
        proc.wait()
        raise
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)   # reaped: Popen must not wait again
    if killed.is_set() and proc.returncode == -signal.SIGKILL:
        raise subprocess.TimeoutExpired(argv, timeout)
    return peak_mib(usage)


try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):
    _PAGE = 4096
