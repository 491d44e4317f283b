"""A layer's done documents as plain training material, and which component learns each label.

A GoldDoc keeps spans as (start, end, label) code-point offsets, claims as the spans of their
parts, and relations by their ends' spans: nothing of the database is left once read, so
the training code never needs a session.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from spacy.util import filter_spans
from sqlalchemy import select

from annotator.contents import load_contents
from annotator.labels import LabelConfig
from annotator.models import Document, Layer

SpanKey = tuple[int, int, str]
LINK_ROLES = ("entity", "property", "condition")
# A label whose spans overlap another span of the NER labels more often than this goes to
# the span categorizer: NER gives each token one label at most.
OVERLAP_LIMIT = 0.02


@dataclass
class GoldDoc:
    uid: str
    text: str
    lang: str
    spans: list[SpanKey] = field(default_factory=list)
    # {"quantity": key, "entity": key | None, "property": ..., "condition": ...}
    claims: list[dict] = field(default_factory=list)
    relations: list[tuple[SpanKey, SpanKey, str]] = field(default_factory=list)


def load_gold(session, layer: str) -> list[GoldDoc]:
    """The documents whose `layer` is marked done, in document order."""
    rows = session.execute(
        select(Layer.id, Document.uid, Document.text, Document.lang)
        .join(Document, Document.id == Layer.document_id)
        .where(Layer.name == layer, Layer.status == "done")
        .order_by(Document.id)
    ).all()
    contents = load_contents(session.connection(), [row.id for row in rows], meta=False)
    docs = []
    for row in rows:
        held = contents[row.id]
        keys = held.span_keys()
        doc = GoldDoc(uid=row.uid, text=row.text, lang=row.lang, spans=sorted(set(keys.values())))
        for claim in held.claims:
            if claim.quantity_id in keys:
                parts = {"quantity": keys[claim.quantity_id]}
                for role in LINK_ROLES:
                    parts[role] = keys.get(getattr(claim, f"{role}_id"))
                doc.claims.append(parts)
        for rel in held.relations:
            if rel.head_id in keys and rel.child_id in keys:
                doc.relations.append((keys[rel.head_id], keys[rel.child_id], rel.label))
        docs.append(doc)
    return docs


def split_documents(docs: list[GoldDoc], fraction: float, seed: int) -> tuple[list[GoldDoc], list[GoldDoc]]:
    """(train, held back): a seeded shuffle by document, at least one document on each side."""
    order = sorted(docs, key=lambda d: d.uid)
    random.Random(seed).shuffle(order)
    n_eval = min(len(order) - 1, max(1, round(len(order) * fraction)))
    return order[n_eval:], order[:n_eval]


def _overlaps(a: SpanKey, b: SpanKey) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def assign_components(docs: list[GoldDoc], labels: LabelConfig) -> dict[str, dict]:
    """Which component learns each label seen in the data, and why.

    The claim parts' labels (entity, property, condition) go to the span categorizer: they
    nest in and cross other spans. Every other label starts as an NER label; while some NER
    label's spans overlap another NER-label span (its own label included) more often than
    OVERLAP_LIMIT, the worst of them moves to the span categorizer too.
    """
    counts = Counter(label for doc in docs for _s, _e, label in doc.spans)
    parts = {labels.claims.role_label(role) for role in LINK_ROLES} - {None}
    out = {}
    ner = set()
    for label in sorted(counts):
        if label in parts:
            out[label] = {"component": "spancat", "reason": "claim part", "spans": counts[label]}
        else:
            ner.add(label)
    while ner:
        rates = {}
        for label in ner:
            hit = 0
            for doc in docs:
                mine = [s for s in doc.spans if s[2] == label]
                others = [s for s in doc.spans if s[2] in ner]
                hit += sum(any(o != s and _overlaps(s, o) for o in others) for s in mine)
            rates[label] = hit / counts[label]
        worst = max(sorted(rates), key=rates.get)
        if rates[worst] <= OVERLAP_LIMIT:
            for label in ner:
                out[label] = {"component": "ner", "overlap_rate": round(rates[label], 4), "spans": counts[label]}
            break
        ner.discard(worst)
        out[worst] = {"component": "spancat", "reason": "overlaps", "overlap_rate": round(rates[worst], 4)}
        out[worst]["spans"] = counts[worst]
    return dict(sorted(out.items()))


def training_doc(nlp, gold: GoldDoc, components: dict[str, dict], spans_key: str):
    """The reference Doc of one document: NER labels as doc.ents (overlaps dropped, longer
    first), span categorizer labels in doc.spans[spans_key]. Offsets that fall inside a
    token are widened to whole tokens. Returns (doc, spans that could not be placed)."""
    doc = nlp.make_doc(gold.text)
    ents, cats, lost = [], [], 0
    for start, end, label in gold.spans:
        where = components.get(label, {}).get("component")
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is None or not len(span):
            lost += 1
            continue
        (ents if where == "ner" else cats).append(span)
    kept = filter_spans(ents)
    doc.ents = kept
    doc.spans[spans_key] = cats
    return doc, lost + len(ents) - len(kept)
