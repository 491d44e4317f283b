"""What the workspace's side panel shows: the layer's spans per text block, the counts,
relations and claims, from rows already read (workspace/reads.py) or, for a write's answer,
only the counts that write could have changed."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markupsafe import Markup
from sqlmodel import Session

from annotator.annotate.history import history
from annotator.models import Document, Layer
from annotator.web.workspace.reads import LayerRows, pending_counts, span_counts
from annotator.web.workspace.views import Item

if TYPE_CHECKING:
    from annotator.web.workspace.views import Touched


@dataclass
class PanelSpan:
    id: int
    key: str
    start: int
    end: int
    label: str
    text: str
    claim: bool


def excerpt(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The panel lists spans in groups of this many text blocks, each a list a write can swap: a
# list per block made a 1 MB text's panel ~5,000 empty lists, which the browser restyled on
# every answer.
BLOCKS_PER_GROUP = 16


def group_of(block: int) -> int:
    return block // BLOCKS_PER_GROUP


def group_blocks(group: int, n_blocks: int) -> range:
    """The text blocks whose spans group `group` lists."""
    return range(group * BLOCKS_PER_GROUP, min(n_blocks, (group + 1) * BLOCKS_PER_GROUP))


def span_groups(
    doc: Document, bounds: list[tuple[int, int]], items: list[Item], which: list[int] | None = None
) -> dict[int, list[PanelSpan]]:
    """{group index: the layer's spans starting in its blocks}, for every group holding a
    block asked for (all blocks when `which` is None), even empty ones."""
    starts = [b[0] for b in bounds]
    asked = range(len(bounds)) if which is None else which
    groups: dict[int, list[PanelSpan]] = {g: [] for g in sorted({group_of(i) for i in asked})}
    for it in items:
        if not it.confirmed:
            continue
        group = group_of(max(0, bisect_right(starts, it.start) - 1))
        if group in groups:
            groups[group].append(
                PanelSpan(it.id, it.key, it.start, it.end, it.label, excerpt(doc.text[it.start : it.end]), it.claim)
            )
    return groups


def group_runs(groups: dict[int, list[PanelSpan]]) -> list[tuple[Markup, int | None, list[PanelSpan]]]:
    """(the empty lists before it, index, spans) for each block with spans, then the empty
    lists after the last: most groups of a long text have no span yet, and a template loop
    per group cost more than the rest of the panel."""
    runs, empty = [], []
    for index, spans in groups.items():
        if spans:
            runs.append((Markup("".join(empty)), index, spans))
            empty = []
        else:
            empty.append(f'<ol class="span-group" id="ps-g-{int(index)}"></ol>')
    runs.append((Markup("".join(empty)), None, []))
    return runs


@dataclass
class Counters:
    """The numbers the page shows. `pending` and `confirmed` are None when a write's answer
    leaves them out (they did not change), and their fragments are not swapped."""

    version: int
    pending: dict[str, int] | None = field(default_factory=dict)
    confirmed: dict[str, int] | None = field(default_factory=dict)
    undo: int = 0
    redo: int = 0

    @property
    def pending_total(self) -> int:
        return sum((self.pending or {}).values())

    @property
    def confirmed_total(self) -> int:
        return sum((self.confirmed or {}).values())


def counters(
    session: Session, doc: Document, layer: Layer | None, rows: LayerRows | None = None, changed: Touched | None = None
) -> Counters:
    """The page's counts: from `rows` when they hold the whole layer, else read; for a
    write's answer (`changed`), only the counts the write could have changed."""
    if rows is not None and rows.complete:
        pending, confirmed = dict(Counter(r.label for r in rows.pending)), dict(Counter(r.label for r in rows.spans))
    else:
        pending = pending_counts(session, doc, layer) if changed is None or changed.suggestions else None
        confirmed = span_counts(session, layer) if changed is None or changed.spans else None
    steps = history(session, layer)
    return Counters(layer.version if layer else 0, pending, confirmed, steps["undo"], steps["redo"])


def relations(doc: Document, rows: LayerRows) -> list[dict]:
    spans = {s.id: s for s in rows.spans}
    out = []
    for rel in rows.relations or ():
        head, child = spans.get(rel.head_id), spans.get(rel.child_id)
        if head and child:
            out.append({"id": rel.id, "label": rel.label, "head": _side(doc, head), "child": _side(doc, child)})
    return sorted(out, key=lambda r: (r["head"]["start"], r["child"]["start"], r["label"]))


def _side(doc: Document, span) -> dict:
    return {
        "id": span.id,
        "key": f"s{span.id}",
        "label": span.label,
        "start": span.start,
        "text": excerpt(doc.text[span.start : span.end], 40),
    }


def claims(doc: Document, rows: LayerRows) -> list[dict]:
    spans = {s.id: s for s in rows.spans}
    out = []
    for claim in rows.claims or ():
        quantity = spans.get(claim.quantity_id)
        if quantity is None:
            continue

        def link(key, claim=claim):
            return _side(doc, spans[getattr(claim, key)]) if getattr(claim, key) in spans else None

        out.append(
            {
                "id": claim.id,
                "quantity": _side(doc, quantity),
                "value": quantity.value,
                "unit": quantity.unit,
                "qualifier": quantity.qualifier,
                "noncanonical": bool((quantity.meta or {}).get("unit_noncanonical")),
                "entity": link("entity_id"),
                "property": link("property_id"),
                "property_text": claim.property_text,
                "condition": link("condition_id"),
                "time": link("time_id"),
                "source": link("source_id"),
                "modifiers": claim.modifiers or [],
            }
        )
    return sorted(out, key=lambda c: c["quantity"]["start"])
