"""Packed states: one byte per IR slot in a `bytes` object, slots in a chosen order and
values shifted to start at 0 (hashing is cheap and cached; a state is ~200 bytes)."""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Callable, Sequence

from interpcheck.model.ir import System


@dataclass(frozen=True)
class Packing:
    """How IR slots sit in a packed state: slot i at byte `position[i]`, stored as value + offset[i]."""
    position: tuple[int, ...]
    offset: tuple[int, ...]

    @staticmethod
    def of(system: System, order: Sequence[int] | None = None,
           shift: Sequence[int] | None = None) -> "Packing | None":
        """One byte per slot, in `order` (IR slot order by default), each value stored plus
        `shift[slot]` (0 by default; negative domains are lifted to start at 0 first).
        None when some slot's values do not fit in a byte."""
        width = system.width
        order = list(range(width)) if order is None else list(order)
        if sorted(order) != list(range(width)):
            raise ValueError("a packing order must list every slot once")
        position = [0] * width
        for p, slot in enumerate(order):
            position[slot] = p
        offset = [0] * width
        for v in system.variables:
            lo, hi = v.domain.lo, v.domain.hi
            for k in range(v.length):
                off = (-lo if lo < 0 else 0) + (shift[v.base + k] if shift is not None else 0)
                if lo + off < 0 or hi + off > 255:
                    return None
                offset[v.base + k] = off
        return Packing(tuple(position), tuple(offset))


def codecs(packing: Packing | None) -> tuple[Callable, Callable]:
    if packing is None:
        return tuple, tuple
    position, offset = packing.position, packing.offset
    width = len(position)
    gather = itemgetter(*position) if width > 1 else (lambda b: (b[position[0]],))
    if any(offset):
        def encode(state: tuple) -> bytes:
            out = bytearray(width)
            for slot, value in enumerate(state):
                out[position[slot]] = value + offset[slot]
            return bytes(out)

        def decode(packed: bytes) -> tuple:
            return tuple(v - o for v, o in zip(gather(packed), offset))
        return encode, decode
    if list(position) == list(range(width)):
        return bytes, tuple

    def encode_moved(state: tuple) -> bytes:
        out = bytearray(width)
        for slot, value in enumerate(state):
            out[position[slot]] = value
        return bytes(out)

    def decode_moved(packed: bytes) -> tuple:
        return gather(packed) if width > 1 else (packed[position[0]],)
    return encode_moved, decode_moved
