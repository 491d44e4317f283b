"""What a layer already holds: compared with an import's annotations, kept when replaced.

An import that meets annotations in its layer compares fingerprints (the same annotations
again are skipped); `--replace` keeps the old ones, in the record shape, in the audit event
before clearing the layer.
"""
from __future__ import annotations

from sqlalchemy import delete, select, update

from annotator.labels import LabelConfig
from annotator.models import AuditEvent, Claim, Relation, Span, SuggestionDecision
from annotator.export.records import claim_json, span_json
from annotator.contents import CLAIM_REFS, QUANTITY_FIELDS, fingerprint

CHUNK = 500  # layer ids per IN (...)


def occupied(conn, layer_ids: list[int], labels: LabelConfig) -> dict[int, dict]:
    """Layers that already hold annotations: their fingerprint and their record-shaped content."""
    if not layer_ids:
        return {}
    rows = {model: {} for model in (Span, Relation, Claim)}
    for model in rows:
        for i in range(0, len(layer_ids), CHUNK):
            for row in conn.execute(select(model.__table__).where(model.layer_id.in_(layer_ids[i:i + CHUNK]))):
                rows[model].setdefault(row.layer_id, []).append(row)
    out = {}
    for layer_id in set().union(*(r.keys() for r in rows.values())):
        spans = sorted(rows[Span].get(layer_id, []), key=lambda r: (r.start, r.end, r.label))
        key = {s.id: (s.start, s.end, s.label) for s in spans}
        dict_spans = [{"start": s.start, "end": s.end, "label": s.label, "meta": s.meta,
                       **{k: getattr(s, k) for k in QUANTITY_FIELDS}} for s in spans]
        rels = [{"head": key[r.head_id], "child": key[r.child_id], "label": r.label, "meta": r.meta}
                for r in rows[Relation].get(layer_id, [])]
        claims = [{**{ref: key.get(getattr(c, f"{ref}_id")) for ref in CLAIM_REFS},
                   "property_text": c.property_text, "modifiers": c.modifiers, "meta": c.meta}
                  for c in rows[Claim].get(layer_id, [])]
        out[layer_id] = {"fingerprint": fingerprint(dict_spans, rels, claims),
                         "record": record_shape(spans, rows[Relation].get(layer_id, []),
                                                 rows[Claim].get(layer_id, []), labels)}
    return out


def record_shape(spans, relations, claims, labels: LabelConfig) -> dict:
    """Replaced annotations as the export writes them (span texts left out: the document has them)."""
    ids = {s.id: f"s{i}" for i, s in enumerate(spans, 1)}
    out_spans = []
    for s in spans:
        item = {"id": ids[s.id], **span_json("", s, labels.quantity_label)}
        item.pop("text")
        out_spans.append(item)
    return {"spans": out_spans,
            "relations": [{"head": ids[r.head_id], "child": ids[r.child_id], "label": r.label, "meta": r.meta}
                          for r in relations],
            "claims": [claim_json(f"c{i}", c, ids) for i, c in enumerate(claims, 1)]}


def clear(conn, layer_ids: list[int]) -> None:
    """Empty the layers being replaced, and end their undo history: an undo reaching back
    across an import would re-apply steps to annotations that are gone."""
    if not layer_ids:
        return
    for model in (Claim, Relation, SuggestionDecision, Span):
        conn.execute(delete(model.__table__).where(model.layer_id.in_(layer_ids)))
    conn.execute(update(AuditEvent.__table__).where(AuditEvent.layer_id.in_(layer_ids),
                                                    AuditEvent.state.in_(["applied", "undone"]))
                 .values(state="discarded"))
