"""Long texts cut into pieces the pipeline can read, and the pieces' results put back together.

spaCy refuses a text over its max_length (E088), and its parser's memory grows with the
length of what it reads, so a long document goes through the pipeline as pieces of at most
`limit` code points. A piece ends where the text allows it best, searched backwards from the
limit over its second half: after a paragraph break, then after a sentence end, then after
any whitespace, and only if the text has none, at the limit itself, moved back so that
"\\r\\n", a letter and its combining marks and a joined emoji stay together. Every cut lies
where a token cannot continue, so the pieces' tokens are the whole text's.

Pieces never overlap and leave no gap: a piece that starts at `offset` has its results moved
by `offset`, and the document's are its pieces' in order.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator

# ...the limit a pipeline run is given when none is set: small enough that one piece's parse
# stays in tens of MiB, large enough that cuts are rare (a news article is 3,000-10,000)
DEFAULT_LIMIT = 20_000
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n\s*")
_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*\s+|[。！？]+\s*")
_SPACE = re.compile(r"\s+")
_JOINERS = {"\u200d", "\u2060"}  # zero-width joiner, word joiner: the next character belongs to this one


def cuts(text: str, limit: int) -> list[int]:
    """The start of every piece of `text` (0 first); one piece if it fits in `limit`."""
    if limit < 2:
        raise ValueError(f"a piece holds at least 2 characters, not {limit}")
    starts, start = [0], 0
    while len(text) - start > limit:
        start = _cut(text, start, start + limit)
        starts.append(start)
    return starts


def pieces(text: str, limit: int) -> list[tuple[int, str]]:
    """(offset, piece) pairs that together are `text`, each at most `limit` long."""
    starts = cuts(text, limit)
    return [(start, text[start:end]) for start, end in zip(starts, [*starts[1:], len(text)])]


def _cut(text: str, start: int, end: int) -> int:
    """Where the piece beginning at `start` ends, at most at `end` and past its middle."""
    low = start + (end - start) // 2
    for pattern in (_PARAGRAPH, _SENTENCE, _SPACE):
        last = deque(pattern.finditer(text, low, end), maxlen=1)  # the last match, if any
        if last and last[0].end() > start + 1:  # (a match cut short by `end` may part "\r\n")
            return _kept_together(text, start, last[0].end())
    return _kept_together(text, start, end)


def _kept_together(text: str, start: int, end: int) -> int:
    """`end`, moved back past what must not be parted from the character before it."""
    cut = end
    while cut > start + 1 and _joined(text[cut - 1], text[cut]):
        cut -= 1
    return cut if cut > start + 1 else end


def _joined(before: str, after: str) -> bool:
    return (
        (before == "\r" and after == "\n")
        or unicodedata.combining(after) != 0
        or after in _JOINERS
        or before in _JOINERS
        or unicodedata.category(after) == "Mn"
        or "\ufe00" <= after <= "\ufe0f"  # variation selectors (emoji presentation)
        or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin tone modifiers
    )


def split_stream(items: Iterable[tuple[str, str]], limit: int, counts: deque) -> Iterator[tuple[str, str]]:
    """(piece, lang) for every piece of every (text, lang), in order; `counts` gets
    (offsets of the pieces) per document as its pieces are handed out, for join_stream."""
    for text, lang in items:
        parts = pieces(text, limit)
        counts.append([offset for offset, _piece in parts])
        for _offset, piece in parts:
            yield piece, lang


def join_stream(results: Iterator, counts: deque, join: Callable[[list[tuple[int, object]]], object]) -> Iterator:
    """One result per document from the results of its pieces (in order), put together by
    `join` from (offset, result) pairs. A document of one piece at offset 0 is its result."""
    for first in results:
        offsets = counts.popleft()
        if len(offsets) == 1:
            yield first
            continue
        parts = [(offsets[0], first)]
        for offset in offsets[1:]:
            parts.append((offset, next(results)))
        yield join(parts)
