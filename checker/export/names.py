"""Identifiers for the exported models: each IR name made legal once and kept clear of the
target language's words and of every name given out before it."""
from __future__ import annotations

from typing import Callable, Iterable


class Names:
    def __init__(self, reserved: Iterable[str], legal: Callable[[str], str]):
        self.taken = set(reserved)
        self.legal = legal

    def fresh(self, wanted: str) -> str:
        """`wanted` made legal, numbered `_2`, `_3`, … when that is already taken."""
        name = base = self.legal(wanted)
        k = 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name
