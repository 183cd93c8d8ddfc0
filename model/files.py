"""What every reader of a user's file checks before reading it (specs, C sources)."""
from __future__ import annotations

import stat
from pathlib import Path


def refusal(path: Path, what: str, limit: int) -> str | None:
    """Why `path` must not be read as a `what` (None: it may be): a NUL in its name, not a
    regular file (a FIFO would block, /dev/zero never ends), or over `limit` bytes. OSError
    when it cannot be looked at."""
    if "\x00" in str(path):   # os.stat would raise ValueError
        return f"a NUL byte in the path: name a real {what} file"
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        return f"not a regular file (a FIFO, device or folder?): give a {what} file"
    if info.st_size > limit:
        return f"{info.st_size:,} bytes is too large for a {what} (at most {limit:,})"
    return None


def shown(path: Path) -> str:
    """The path as a message prints it: a NUL written out."""
    return str(path).replace("\x00", "\\0")
