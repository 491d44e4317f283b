"""Text with marks only where spans are (never an element per token).

The text is cut at every span boundary; each piece is plain text or one <mark> naming the
spans that cover it. Offsets on the marks are code points, as stored. Every piece of text
and every attribute value goes through markupsafe's escape() before it is joined, so
document text can never become markup.

A mark says its label without adding to the text: where a span begins, data-tag is drawn as
a small tag and data-sr is what screen readers read in its place ("ORG suggestion:"), both
CSS generated content, so selections and code-point offsets stay exact. Punctuation right
after a mark is kept on the mark's line (a nowrap span around both).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from annotator.models import QUANTITY_FIELDS
from annotator.nlp.units import qualifier_words


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

    @property
    def labels(self) -> str:
        return " ".join(dict.fromkeys(s["label"] for s in self.spans))

    @property
    def tip(self) -> str:
        return "\n".join(s["tip"] for s in self.spans)


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


def escape_text(text: str) -> str:
    """Escaped text whose carriage returns survive HTML parsing (see filters.doc_text)."""
    return str(escape(text)).replace("\r", "&#13;")


def text_html(pieces: list[Piece], classes: dict[str, str], anchors: set[int]) -> Markup:
    """The marked-up text, built in Python: a long document has thousands of pieces, and a
    Jinja loop over them costs several times more than this join. `classes` maps a label to
    its colour class (filters.label_classes); `anchors` are offsets that get an id."""
    out: list[str] = []
    mark = ""  # the text of the mark just appended
    for p in pieces:
        if not p.spans:
            glue_text(out, p.text, mark)
            mark = ""
            continue
        anchor = f' id="q-{p.start}"' if p.start in anchors else ""
        css = classes.get(p.label, "lbl-other") + (" overlap" if p.overlapping else "")
        out.append(
            f'<mark{anchor} class="sugg {css}" data-start="{p.start}" '
            f'data-end="{p.end}" data-labels="{escape(p.labels)}" data-tip="{escape(p.tip)}"'
            f"{said(p, lambda s: s['label'] + ' suggestion')}>{escape_text(p.text)}</mark>"
        )
        mark = p.text
    return Markup("".join(out))


def said(piece: Piece, name) -> str:
    """data-tag (the visible label tag) and data-sr (what a screen reader hears instead, from
    `name(span)`) where spans begin; "" on a piece that begins none."""
    begin = [s for s in piece.spans if s["start"] == piece.start]
    if not begin:
        return ""
    tag = " ".join(dict.fromkeys(s["label"] for s in begin))
    return f' data-tag="{escape(tag)}" data-sr="{escape("; ".join(name(s) for s in begin))}:"'


# closing brackets and quotes, and other punctuation such as . , ; : ! ? % (not opening ones)
CLINGING = {"Pe", "Pf", "Po"}


def clinging(text: str, most: int = 4) -> int:
    """How many of text's first characters are punctuation that must stay with what precedes."""
    n = 0
    while n < min(most, len(text)) and unicodedata.category(text[n]) in CLINGING:
        n += 1
    return n


# a longer mark is left free to wrap: kept whole on one line it could be wider than a
# narrow window (at 200 % zoom), and its own words break anyway
GLUE_LIMIT = 24


def glue_text(out: list[str], text: str, mark: str) -> None:
    """Append plain `text` to `out`; when it follows a mark (`mark` its text), its leading
    punctuation joins the mark in a nowrap span, so "FP300," never breaks before the comma."""
    n = clinging(text) if mark and out and len(mark) <= GLUE_LIMIT else 0
    if n:
        out[-1] = f'<span class="nw">{out[-1]}{escape_text(text[:n])}</span>'
    if text[n:]:
        out.append(escape_text(text[n:]))


# --- what a mark says about its suggestions ---------------------------------------------------


def format_number(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.6g}"


def quantity_summary(span: dict) -> str:
    """ "up to 1.1 TB/s", "10–20 m", "4.2 ± 0.3 g", or "" when nothing was parsed."""
    if span.get("value") is None:
        return ""
    number = format_number(span["value"])
    if span.get("value_max") is not None:
        number += "–" + format_number(span["value_max"])
    if span.get("tolerance") is not None:
        number += " ± " + format_number(span["tolerance"])
    qualifier = span.get("qualifier")
    words = qualifier_words().get(qualifier, (qualifier or "").replace("_", " "))
    return " ".join(part for part in (words, number, span.get("unit") or "") if part)


def span_tip(span: dict, quantity_label: str) -> str:
    head = f"{span['label']} · {span['origin']}"
    if span.get("pipeline") and span["pipeline"] != span["origin"]:
        head += f" ({span['pipeline']})"
    if span.get("score") is not None:
        head += f" · score {span['score']:.2f}"
    if span["label"] != quantity_label:
        return head
    return f"{head}\n  {quantity_summary(span) or 'no value parsed'}"


# What the read-only view shows of a suggestion, in the order its rows are read.
SUGGESTION_FIELDS = ("start", "end", "label", "origin", "pipeline", "score", *QUANTITY_FIELDS)


def suggestion_spans(text: str, rows: Iterable[Sequence], quantity_label: str) -> list[dict]:
    """Suggestion rows (tuples in SUGGESTION_FIELDS order) as dicts in text order, each with its
    text and hover tip.

    A row whose offsets do not fit the text is left out rather than breaking the page (the
    importer and validators refuse such rows; this only guards the read-only view).
    """
    size = len(text)
    spans = [
        span for span in (dict(zip(SUGGESTION_FIELDS, row)) for row in rows) if 0 <= span["start"] < span["end"] <= size
    ]
    spans.sort(key=lambda s: (s["start"], -s["end"], s["label"], s["origin"]))
    for span in spans:
        span["text"] = text[span["start"] : span["end"]]
        span["summary"] = quantity_summary(span) if span["label"] == quantity_label else ""
        span["tip"] = span_tip(span, quantity_label)
    return spans
