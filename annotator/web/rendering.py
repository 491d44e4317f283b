"""Text with marks only where spans are (never an element per token).

The text is cut at every span boundary; each piece is plain text or one <mark> naming the
spans that cover it. Offsets on the marks are code points, as stored. Jinja escapes every
piece, so document text can never become markup.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Piece:
    start: int
    end: int
    text: str
    spans: list[dict]

    @property
    def label(self) -> str | None:
        # the innermost (shortest) span decides the colour where spans overlap
        if not self.spans:
            return None
        return min(self.spans, key=lambda s: (s["end"] - s["start"], s["label"]))["label"]

    @property
    def overlapping(self) -> bool:
        return len(self.spans) > 1


def pieces(text: str, spans: list[dict]) -> list[Piece]:
    cuts = {0, len(text)}
    for span in spans:
        cuts.update((span["start"], span["end"]))
    bounds = sorted(c for c in cuts if 0 <= c <= len(text))
    starts: dict[int, list[dict]] = {}
    for span in spans:
        starts.setdefault(span["start"], []).append(span)
    out: list[Piece] = []
    open_spans: list[dict] = []
    for a, b in zip(bounds, bounds[1:]):
        open_spans = [s for s in open_spans if s["end"] > a] + starts.get(a, [])
        out.append(Piece(a, b, text[a:b], sorted(open_spans, key=lambda s: (s["start"], -s["end"]))))
    return out
