"""How much memory this process uses, for --max-memory (SPIN's -DMEMLIM, for the whole process)."""
from __future__ import annotations

import os
import sys


def resident_mib() -> int:
    """This process's resident memory in MiB: /proc where there is one, else the peak."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE >> 20
    except OSError:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak >> 20 if sys.platform == "darwin" else peak >> 10


try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):
    _PAGE = 4096
