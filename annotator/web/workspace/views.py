"""What the workspace shows: the text as blocks with marks (the side panel: workspace_panel).

The text is cut into blocks (paragraphs, long ones cut at a space) whose ids depend on
the text alone, so they are stable for the document's lifetime. A write re-renders only the
blocks its rows touch, and the browser swaps just those (hx-swap-oob): accepting one
suggestion in a 200 KB document moves a few hundred bytes of markup, not the whole text.

Inside a block the text is plain, with a <mark> only where spans or pending suggestions are
(never an element per token); punctuation right after a mark shares a nowrap span with it
(rendering.glue_text), so "FP300," never breaks before the comma. A mark names the items
covering it in `data-i` as "<kind><id>:<label>" words: `s` a confirmed span of the layer,
`g` a pending suggestion; where items begin, `data-sr` says them to screen readers (CSS
alternative text, so the text and its offsets stay exact). Offsets in data-start/data-end
are code points, as stored.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlmodel import Session

from annotator.models import Document, Span, Suggestion
from annotator.web.rendering import escape_text, glue_text
from annotator.web.workspace.reads import LayerRows

BLOCK_MAX = 2400
LINE_BREAKS = re.compile(r"[\r\n]+")


# --- blocks ---------------------------------------------------------------------------------


@lru_cache(maxsize=16)  # documents are read-only; a long one costs ~5 ms to cut
def text_blocks(text: str) -> list[tuple[int, int]]:
    """[start, end) of each block: a block ends after a run of line breaks, and one longer
    than BLOCK_MAX is cut after a space (or, with no space, not inside a combining sequence)."""
    bounds, start = [], 0
    for match in LINE_BREAKS.finditer(text):
        bounds += _cut(text, start, match.end())
        start = match.end()
    if start < len(text) or not bounds:
        bounds += _cut(text, start, len(text))
    return bounds


def _cut(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    while end - start > BLOCK_MAX:
        window = text[start + BLOCK_MAX // 2 : start + BLOCK_MAX]
        space = max(window.rfind(" "), window.rfind("\t"))
        cut = start + BLOCK_MAX // 2 + space + 1 if space >= 0 else start + BLOCK_MAX
        while cut < end and unicodedata.combining(text[cut]):
            cut += 1
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out


def blocks_touching(bounds: list[tuple[int, int]], ranges) -> list[int]:
    """Indexes of the blocks that overlap any [start, end) of `ranges`."""
    starts = [b[0] for b in bounds]
    hit: set[int] = set()
    for start, end in ranges:
        first = max(0, bisect_right(starts, start) - 1)
        last = max(first, bisect_left(starts, end) - 1)
        hit.update(range(first, last + 1))
    return sorted(hit)


# --- the window: what of a long document's blocks the page holds ------------------------------

# A page holding every block of a 1 MB document (~5,000 blocks, 17,500 marks) costs the
# browser ~1 s to open and ~100 ms of style and layout on every answer, whatever changed.
# A longer document than WINDOW_OVER characters comes a window at a time: the blocks of the
# first chunk, then CHUNK characters of blocks more as the annotator scrolls or a key moves on
# (ws-window.js), the blocks far from the screen dropped again. Offsets stay the stored ones:
# every block says where it starts, and find reads the whole text (the /text route).
WINDOW_OVER = 150_000
CHUNK = 20_000


class Window(NamedTuple):
    """Blocks [lo, hi) of a document cut into `n` blocks, fetched `chunk` characters at a time."""

    lo: int
    hi: int
    n: int
    chunk: int = CHUNK

    @property
    def attrs(self) -> str:
        return f"{self.lo} {self.hi} {self.n} {self.chunk}"


def window_settings() -> tuple[int, int]:
    """(WORKSPACE_WINDOW_OVER, WORKSPACE_WINDOW_CHUNK) from the app's configuration: a text
    longer than the first comes a window at a time, the second's worth of characters a fetch."""
    config = current_app.config

    def number(key: str, default: int, least: int) -> int:
        try:
            value = int(config.get(key, default))
        except (TypeError, ValueError):
            return default
        return value if value >= least else default

    return number("WORKSPACE_WINDOW_OVER", WINDOW_OVER, 0), number("WORKSPACE_WINDOW_CHUNK", CHUNK, 1)


def chunk_after(bounds: list[tuple[int, int]], first: int, chars: int = CHUNK) -> range:
    """Blocks from `first` on, until they hold at least `chars` characters (at least one block)."""
    first = max(0, min(first, len(bounds)))
    last = first
    while last < len(bounds) and (last == first or bounds[last - 1][1] - bounds[first][0] < chars):
        last += 1
    return range(first, last)


def chunk_before(bounds: list[tuple[int, int]], end: int, chars: int = CHUNK) -> range:
    """Blocks before `end`, going back until they hold at least `chars` characters."""
    end = max(0, min(end, len(bounds)))
    first = end
    while first > 0 and (first == end or bounds[end - 1][1] - bounds[first][0] < chars):
        first -= 1
    return range(first, end)


def chunk_at(bounds: list[tuple[int, int]], offset: int, chars: int = CHUNK) -> range:
    """The block holding code point `offset`, with half a chunk of blocks before it and a
    chunk from it on: where a jump (find, a key, a panel row) lands."""
    starts = [b[0] for b in bounds]
    at = max(0, bisect_right(starts, offset) - 1)
    return range(chunk_before(bounds, at, chars // 2).start, chunk_after(bounds, at, chars).stop)


def first_window(bounds: list, size: int, over: int = WINDOW_OVER, chars: int = CHUNK) -> Window | None:
    """The blocks a page opens with: None (all of them) for a text of at most `over` characters."""
    if size <= over:
        return None
    shown = chunk_after(bounds, 0, 2 * chars)
    return Window(shown.start, shown.stop, len(bounds), chars)


def window_from(header: str | None, bounds: list[tuple[int, int]], chars: int = CHUNK) -> Window | None:
    """The window a page says it holds ("lo hi", the X-WS-Window header of its writes), or
    None when it holds every block (or says nothing readable)."""
    parts = (header or "").split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    lo, hi = sorted(min(int(p), len(bounds)) for p in parts)
    return Window(lo, hi, len(bounds), chars) if (lo, hi) != (0, len(bounds)) else None


# --- items: confirmed spans and pending suggestions -------------------------------------------


class Item(NamedTuple):
    """A confirmed span of the layer or a pending suggestion, as a mark. The fields come in
    reading order (start, longer first, spans before suggestions, label), so a list of
    items sorts as plain tuples: a 200 KB document has thousands of them per request."""

    start: int
    neg_end: int  # -end
    rank: int  # 0 a confirmed span, 1 a pending suggestion
    label: str
    id: int
    end: int
    claim: bool = False

    @property
    def key(self) -> str:
        return f"{'sg'[self.rank]}{self.id}"  # "s12" (span) or "g34" (suggestion)

    @property
    def word(self) -> str:
        return f"{self.key}:{self.label}"

    @property
    def confirmed(self) -> bool:
        return self.rank == 0


def items_of(doc: Document, rows: LayerRows) -> list[Item]:
    """The layer's spans and the pending suggestions as marks, in reading order."""
    size = len(doc.text)
    items = [Item(r.start, -r.end, 0, r.label, r.id, r.end, bool(r.claim)) for r in rows.spans]
    items += [Item(s, -e, 1, lab, i, e) for i, s, e, lab in rows.pending if 0 <= s < e <= size]
    items.sort()
    return items


# --- marks ----------------------------------------------------------------------------------


def block_html(
    text: str,
    index: int,
    bounds: tuple[int, int],
    items: list[Item],
    classes: dict[str, str],
    oob: bool = False,
    base: int = 0,
) -> str:
    """One block: escaped text with a mark per stretch covered by the same items. `text`
    may be a slice of the document that starts at code point `base`."""
    start, end = bounds
    inside = [it for it in items if it.start < end and it.end > start]
    cuts = {start, end}
    for it in inside:
        cuts.add(max(it.start, start))
        cuts.add(min(it.end, end))
    points = sorted(cuts)
    out: list[str] = []
    mark = ""  # the text of the mark just appended: punctuation after it stays on its line
    for a, b in zip(points, points[1:]):
        covering = [it for it in inside if it.start < b and it.end > a]
        raw = text[a - base : b - base]
        if covering:
            out.append(_mark(a, b, escape_text(raw), covering, classes))
            mark = raw
        else:
            glue_text(out, raw, mark)
            mark = ""
    swap = ' hx-swap-oob="true"' if oob else ""
    return f'<div class="blk" id="b-{index}" data-start="{start}"{swap}>{"".join(out)}</div>'


def _mark(a: int, b: int, piece: str, covering: list[Item], classes: dict[str, str]) -> str:
    spans = [it for it in covering if it.confirmed]
    # the innermost item decides the colour; a confirmed span wins over a suggestion
    lead = min(spans or covering, key=lambda it: (it.end - it.start, it.label))
    css = ["m", classes.get(lead.label, "lbl-other"), "is-span" if spans else "is-sugg"]
    if len(covering) > 1:
        css.append("overlap")
    if any(it.claim for it in spans):
        css.append("has-claim")
    words = escape(" ".join(it.word for it in covering))
    ending = [it.label for it in spans if it.end == b]
    tag = f' data-tag="{escape(" ".join(dict.fromkeys(ending)))}"' if ending else ""
    sr = spoken([it for it in covering if it.start == a])
    return f'<mark class="{" ".join(css)}" data-start="{a}" data-end="{b}" data-i="{words}"{tag}{sr}>{piece}</mark>'


def spoken(beginning: list[Item]) -> str:
    """data-sr: what a screen reader hears where items begin, before their text ("QUANTITY
    suggestion:", "ORG span with a claim:"); the visible tag at a span's end is silent, so
    the label is read once, as words, and a suggestion is never told by colour alone."""
    if not beginning:
        return ""
    said = "; ".join(
        f"{it.label} {'span' if it.confirmed else 'suggestion'}{' with a claim' if it.claim else ''}"
        for it in beginning
    )
    return f' data-sr="{escape(said)}:"'


def render_blocks(
    text: str,
    bounds: list[tuple[int, int]],
    items: list[Item],
    classes: dict[str, str],
    which: list[int] | None = None,
    oob: bool = False,
) -> Markup:
    """The blocks (all, or those in `which`), items dealt to the blocks they overlap first."""
    indexes = range(len(bounds)) if which is None else which
    per_block = _deal(bounds, items)
    palette = tuple(sorted(classes.items()))
    return Markup(
        "".join(
            _cached_block(text[bounds[i][0] : bounds[i][1]], i, bounds[i][0], oob, palette, tuple(per_block.get(i, ())))
            for i in indexes
        )
    )


def _deal(bounds: list[tuple[int, int]], items: list[Item]) -> dict[int, list[Item]]:
    """{block index: the items overlapping it}, in one walk: items come sorted by start."""
    per_block: dict[int, list[Item]] = {}
    block, last = 0, len(bounds) - 1
    for it in items:
        while block < last and bounds[block + 1][0] <= it.start:
            block += 1
        per_block.setdefault(block, []).append(it)
        spill = block + 1
        while spill <= last and bounds[spill][0] < it.end:  # an item across a block boundary
            per_block.setdefault(spill, []).append(it)
            spill += 1
    return per_block


@lru_cache(maxsize=16384)
def _cached_block(piece: str, index: int, start: int, oob: bool, palette: tuple, items: tuple) -> str:
    """A block's HTML from everything it depends on: its text, place, label colours and
    the items over it. Annotators of one document share most blocks (the same pending
    suggestions), and a write changes a few, so a re-render mostly hits this cache
    (about 16,000 blocks: five 200 KB documents)."""
    return block_html(piece, index, (start, start + len(piece)), list(items), dict(palette), oob, base=start)


# --- what a write touched -----------------------------------------------------------------------


@dataclass
class Touched:
    ranges: list[tuple[int, int]] = field(default_factory=list)
    links: bool = False  # relations or claims (or what they show) changed
    suggestions: bool = False  # a suggestion was decided or undecided: pending counts changed
    spans: bool = False  # a span was added or removed: the span count changed
    suggested: bool = False  # the pending suggested claims and relations may have changed


def touched(session: Session, changes: list[dict]) -> Touched:
    """The text ranges whose marks may have changed, from an action's recorded row changes."""
    out = Touched()
    suggestion_ids, quantity_ids = set(), set()
    for change in changes:
        rows = [r for r in (change.get("before"), change.get("after")) if r]
        table = change["table"]
        if table == "span":
            out.ranges += [(r["start"], r["end"]) for r in rows]
            out.links = out.links or change["op"] != "insert"
            out.spans = out.spans or change["op"] != "update"
        elif table == "suggestiondecision":
            suggestion_ids.update(r["suggestion_id"] for r in rows)
            out.suggestions = True
            # a rejected part hides or thins a suggested claim; an accepted one changes nothing there
            out.suggested = out.suggested or any(r.get("decision") == "rejected" for r in rows)
        elif table in ("relation", "claim", "linkdecision"):
            out.links = out.suggested = True
            if table == "claim":
                quantity_ids.update(r["quantity_id"] for r in rows)
    if suggestion_ids:
        out.ranges += session.exec(
            select(Suggestion.start, Suggestion.end).where(Suggestion.id.in_(suggestion_ids))
        ).all()
    if quantity_ids:
        out.ranges += session.exec(select(Span.start, Span.end).where(Span.id.in_(quantity_ids))).all()
    return out
