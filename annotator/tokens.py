"""Token boundaries: packed for storage (little-endian uint32 pairs) and snapped to.

The tokens themselves come from spaCy (nlp/tokenizer.py), once per document.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from itertools import chain

Token = tuple[int, int]


def pack(tokens: Iterable[Token]) -> bytes:
    flat = array("I", chain.from_iterable(tokens))  # filled in C: a sixth of appending pairs
    if len(flat) % 2:
        raise ValueError("tokens are (start, end) pairs")
    if flat.itemsize != 4:  # pragma: no cover - every platform we run on has 32-bit "I"
        raise RuntimeError("array('I') is not 32 bits here")
    return flat.tobytes()


def unpack(blob: bytes | None) -> list[Token]:
    if not blob:
        return []
    flat = array("I")
    flat.frombytes(blob)
    return list(zip(flat[0::2], flat[1::2]))


def bounds(blob: bytes | None) -> tuple[Sequence[int], Sequence[int]]:
    """(token starts, token ends) as two arrays, for bisecting: a 200 KB document's 36,000
    tokens split in microseconds, where unpack() and two list comprehensions take ~25 ms."""
    flat = array("I")
    flat.frombytes(blob or b"")
    return flat[0::2], flat[1::2]


def token_dicts(blob: bytes | None) -> list[dict]:
    """Tokens as exported ({"start", "end"} objects), straight from the packed bytes.

    An export makes ~500 of these per document: pairing the flat array with one
    iterator skips the intermediate list of tuples that unpack() builds.
    """
    if not blob:
        return []
    flat = array("I")
    flat.frombytes(blob)
    pairs = iter(flat)
    return [{"start": start, "end": end} for start, end in zip(pairs, pairs)]


def snap(tokens: Sequence[Token], start: int, end: int) -> tuple[int, int] | None:
    """Widen [start, end) to whole tokens; None if it covers no token at all."""
    inside = [t for t in tokens if t[0] < end and t[1] > start]
    if not inside:
        return None
    return min(start, inside[0][0]), max(end, inside[-1][1])
