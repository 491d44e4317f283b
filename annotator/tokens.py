"""Token boundaries: packed for storage, computed once (by the pipeline or on first use)."""
from __future__ import annotations

from array import array
from functools import lru_cache
from typing import Iterable, Sequence

Token = tuple[int, int]


def pack(tokens: Iterable[Token]) -> bytes:
    flat = array("I")
    for start, end in tokens:
        flat.append(start)
        flat.append(end)
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


def from_doc(doc) -> list[Token]:
    """Boundaries of a spaCy Doc's tokens, whitespace-only tokens left out.

    Read as one array (offset, length, is-space per token) rather than through a Token
    object per token: three times faster, and it runs in the process that also feeds the
    pipeline's workers.
    """
    from spacy.attrs import IDX, IS_SPACE, LENGTH

    return [(start, start + length) for start, length, space in doc.to_array([IDX, LENGTH, IS_SPACE]).tolist()
            if not space]


@lru_cache(maxsize=32)
def tokenizer_for(lang: str):
    from annotator.nlp.pipeline import blank_pipeline

    return blank_pipeline(lang).tokenizer


def tokenize(text: str, lang: str) -> list[Token]:
    return from_doc(tokenizer_for(lang)(text))


def snap(tokens: Sequence[Token], start: int, end: int) -> tuple[int, int] | None:
    """Widen [start, end) to whole tokens; None if it covers no token at all."""
    inside = [t for t in tokens if t[0] < end and t[1] > start]
    if not inside:
        return None
    return min(start, inside[0][0]), max(end, inside[-1][1])
