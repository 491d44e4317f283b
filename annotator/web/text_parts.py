"""The read-only view of a long text, a part at a time.

A page with every suggestion of a 1 MB text as a mark was 4 MB of HTML and half a second on
the server before the browser began. A text longer than the workspace's window limit
(WORKSPACE_WINDOW_OVER) is shown in parts of whole blocks, about twice the workspace's
chunk each (40,000 characters by default), linked part to part; the view needs no script.
Offsets on the marks stay those of the whole text.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from annotator.web.rendering import Piece, pieces
from annotator.web.workspace.views import chunk_after, text_blocks, window_settings


@dataclass(frozen=True)
class TextPart:
    """Part `number` (from 1) of `count`, [start, end) of the text; `starts` of every part."""

    number: int
    count: int
    starts: tuple[int, ...]
    size: int

    @property
    def range(self) -> tuple[int, int]:
        return self.starts[self.number - 1], self.end_of(self.number)

    def end_of(self, number: int) -> int:
        return self.starts[number] if number < self.count else self.size

    def holding(self, offset: int) -> int:
        """The number of the part that holds code point `offset`."""
        return max(1, bisect_right(self.starts, offset))


def text_part(text: str, asked: str | None) -> TextPart:
    """The part `asked` for (a number from 1; anything else is the first, a number past the
    end the last) of `text`: the whole text as one part when it is short enough."""
    over, chunk = window_settings()
    if len(text) <= over:
        return TextPart(1, 1, (0,), len(text))
    bounds, starts, at = text_blocks(text), [], 0
    while at < len(bounds):
        got = chunk_after(bounds, at, 2 * chunk)
        starts.append(bounds[got.start][0])
        at = got.stop
    number = int(asked) if asked and asked.isdigit() else 1
    return TextPart(min(max(number, 1), len(starts)), len(starts), tuple(starts), len(text))


def part_pieces(text: str, spans: list[dict], lo: int, hi: int) -> list[Piece]:
    """The pieces of text[lo:hi] with the spans over it (cut to it), at whole-text offsets."""
    if (lo, hi) == (0, len(text)):
        return pieces(text, spans)
    inside = [{**s, "start": max(s["start"], lo) - lo, "end": min(s["end"], hi) - lo} for s in spans]
    out = pieces(text[lo:hi], [s for s in inside if s["start"] < s["end"]])
    for piece in out:
        piece.start += lo
        piece.end += lo
    return out
