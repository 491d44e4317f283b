"""Inter-annotator agreement between layers.

Units: every token of every compared document is a unit, so a span one annotator marked
and another missed counts as disagreement (label vs "O"), never silently dropped. Where one
annotator's spans overlap, a token takes the label of the longest span over it (then the
earliest, then by label name). A document counts once two compared annotators marked it done
(overlap k of n); an annotator who has not is a missing rating there, each pair is compared
on the documents both finished. Span F1 is symmetric (2·matched / (|A| + |B|)); overlap matching pairs spans of
the same label one to one, largest overlap first.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from sqlalchemy import func, select
from sqlmodel import Session

from annotator.contents import Contents, load_contents
from annotator.ingest.first_use import tokens_of
from annotator.models import CLAIM_LINKS, Document, Layer
from annotator.tokens import unpack

OUTSIDE = "O"
MISSING = -1  # the rating of an annotator who did not mark the document done
NOTE = (
    "Units are tokens: every token of each counted document is rated by each annotator who marked "
    "it done, so a span one annotator marked and another missed counts as disagreement. A document "
    "counts once at least two compared annotators marked it done; each pair uses the documents both "
    "marked done, Krippendorff's alpha every counted document (missing ratings allowed), Fleiss' kappa "
    "only when every counted document has the same number of raters."
)


@dataclass
class Corpus:
    annotators: list[str]
    docs: list  # rows: id, uid, title, tokens, text, lang
    layers: dict[tuple[int, str], Contents]  # (document, annotator) for the layers marked done
    excluded: int


def load(session: Session, annotators: list[str] | None = None, labels: list[str] | None = None) -> Corpus:
    names = (
        annotators
        or session.exec(select(Layer.name).where(Layer.kind == "annotator").distinct().order_by(Layer.name))
        .scalars()
        .all()
    )
    if len(names) < 2:
        raise ValueError(f"agreement needs at least two annotators; found {len(names)}: {', '.join(names) or 'none'}")
    # a document counts once two compared annotators have marked it done (overlap k of n)
    done = (
        select(Layer.document_id)
        .where(Layer.name.in_(names), Layer.status == "done")
        .group_by(Layer.document_id)
        .having(func.count(func.distinct(Layer.name)) >= 2)
    )
    touched = session.exec(
        select(func.count(func.distinct(Layer.document_id))).where(Layer.name.in_(names))
    ).scalar_one()
    # plain column rows, not ORM objects: building tens of thousands of objects is most of the cost
    docs = session.exec(
        select(Document.id, Document.uid, Document.title, Document.tokens, Document.text, Document.lang)
        .where(Document.id.in_(done))
        .order_by(Document.uid)
    ).all()
    layers = {
        (row.document_id, row.name): row.id
        for row in session.exec(
            select(Layer.id, Layer.document_id, Layer.name).where(
                Layer.document_id.in_(select(done.subquery())), Layer.name.in_(names), Layer.status == "done"
            )
        ).all()
    }
    by_layer = load_contents(session.connection(), list(layers.values()), meta=False)
    if labels:
        keep = set(labels)
        for contents in by_layer.values():
            contents.spans = [s for s in contents.spans if s.label in keep]
    return Corpus(list(names), docs, {key: by_layer[layer_id] for key, layer_id in layers.items()}, touched - len(docs))


# --- token labels and chance-corrected agreement --------------------------------------------


def token_labels(tokens: list[tuple[int, int]], spans: list) -> list[str]:
    codes = Codes()
    token_codes([t[0] for t in tokens], [t[1] for t in tokens], spans, codes)
    return codes.labels()


class Codes:
    """Label <-> small integer, OUTSIDE being 0; grows as labels are met."""

    def __init__(self):
        self.names = [OUTSIDE]
        self.index = {OUTSIDE: 0}
        self.last: np.ndarray | None = None

    def of(self, label: str) -> int:
        if label not in self.index:
            self.index[label] = len(self.names)
            self.names.append(label)
        return self.index[label]

    def labels(self) -> list[str]:
        return [self.names[c] for c in self.last]


def token_codes(starts: list[int], ends: list[int], spans: list, codes: Codes) -> np.ndarray:
    """Code of each token's label; overlapping spans: the longest wins, then the earliest."""
    out = np.zeros(len(starts), dtype=np.int32)
    for start, end, label, *_ in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0], s[2])):
        first, last = bisect_right(ends, start), bisect_left(starts, end)
        if first < last:
            window = out[first:last]
            window[window == 0] = codes.of(label)
    codes.last = out
    return out


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    categories = np.union1d(a, b)
    po = float(np.mean(a == b))
    pe = sum(float(np.mean(a == c)) * float(np.mean(b == c)) for c in categories)
    if pe >= 1.0:
        return 1.0 if po == 1.0 else None
    return (po - pe) / (1 - pe)


def category_counts(ratings: np.ndarray) -> np.ndarray:
    """units x categories: how many raters gave each category to each unit (MISSING not counted)."""
    categories = [c for c in np.unique(ratings) if c != MISSING]
    if not categories:
        return np.zeros((ratings.shape[1], 0), dtype=np.int64)
    return np.stack([(ratings == c).sum(axis=0) for c in categories], axis=1)


def fleiss_kappa(ratings: np.ndarray) -> float | None:
    """ratings: raters x units (MISSING where a rater did not rate). Fleiss' kappa needs the
    same number of ratings on every unit: None otherwise."""
    counts = category_counts(ratings)
    per_unit = counts.sum(axis=1)
    if per_unit.size == 0 or per_unit.min() != per_unit.max() or per_unit[0] < 2:
        return None
    n = int(per_unit[0])
    p_unit = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    p_cat = counts.sum(axis=0) / counts.sum()
    pe = float((p_cat**2).sum())
    if pe >= 1.0:
        return 1.0 if float(p_unit.mean()) == 1.0 else None
    return (float(p_unit.mean()) - pe) / (1 - pe)


def krippendorff_alpha(ratings: np.ndarray) -> float | None:
    """Nominal alpha from the coincidence matrix; a unit may lack some raters' values
    (MISSING), and only units with two values or more are pairable."""
    counts = category_counts(ratings).astype(float)
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    total = float(m.sum())
    if total == 0:
        return None
    observed_same = float(((counts * (counts - 1)).sum(axis=1) / (m - 1)).sum())
    by_cat = counts.sum(axis=0)
    expected_diff = float(total**2 - (by_cat**2).sum())
    if expected_diff == 0:
        return 1.0 if observed_same == total else None
    return float(1 - (total - 1) * (total - observed_same) / expected_diff)


# --- span, relation and claim matching ------------------------------------------------------


def f1(matched: int, a: int, b: int) -> dict:
    return {
        "matched": matched,
        "a": a,
        "b": b,
        "precision": matched / b if b else None,
        "recall": matched / a if a else None,
        "f1": 2 * matched / (a + b) if a + b else None,
    }


def overlap_pairs(a: list, b: list) -> list[tuple]:
    """One-to-one pairs of same-label overlapping spans, largest overlap first."""
    by_label: dict[str, list] = defaultdict(list)
    for y in b:
        by_label[y[2]].append(y)
    for group in by_label.values():
        group.sort()
    candidates = []
    for x in a:
        group = by_label.get(x[2], ())
        for y in group[: bisect_left(group, (x[1],))]:  # spans of b starting before x ends
            if y[1] > x[0]:
                candidates.append((min(x[1], y[1]) - max(x[0], y[0]), x, y))
    candidates.sort(key=lambda c: (-c[0], c[1][0], c[2][0]))
    used_a, used_b, pairs = set(), set(), []
    for _, x, y in candidates:
        if x[3] not in used_a and y[3] not in used_b:
            used_a.add(x[3])
            used_b.add(y[3])
            pairs.append((x, y))
    return pairs


UNMATCHED = object()  # stands for a span of one annotator that the other has no match for


def span_tuples(contents: Contents) -> list[tuple]:
    """(start, end, label, id) of each span: tuples sort and bisect the way matching needs."""
    return [(s.start, s.end, s.label, s.id) for s in contents.spans]


@dataclass
class PairTally:
    exact: Counter = field(default_factory=Counter)
    overlap: Counter = field(default_factory=Counter)
    count_a: Counter = field(default_factory=Counter)
    count_b: Counter = field(default_factory=Counter)
    relations: Counter = field(default_factory=Counter)
    claims: Counter = field(default_factory=Counter)
    documents: int = 0

    def add_doc(self, a: Contents, b: Contents, spans_a: list | None = None, spans_b: list | None = None) -> None:
        """One document both marked done: their spans matched exactly and by overlap, then
        the relations and claims between matched spans. `spans_a`, `spans_b`: their
        span_tuples, when the caller has them already."""
        self.documents += 1
        spans_a = span_tuples(a) if spans_a is None else spans_a
        spans_b = span_tuples(b) if spans_b is None else spans_b
        self.count_a.update(s[2] for s in spans_a)
        self.count_b.update(s[2] for s in spans_b)
        keys_b = {(s[0], s[1], s[2]) for s in spans_b}
        self.exact.update(s[2] for s in spans_a if (s[0], s[1], s[2]) in keys_b)
        pairs = overlap_pairs(spans_a, spans_b)
        self.overlap.update(x[2] for x, _ in pairs)
        to_b = {x[3]: y[3] for x, y in pairs}
        self._relations(a, b, to_b)
        self._claims(a, b, to_b, {s.id: s for s in a.spans}, {s.id: s for s in b.spans})

    def _relations(self, a: Contents, b: Contents, to_b: dict) -> None:
        matched_b = set(to_b.values())
        ra = [r for r in a.relations if r.head_id in to_b and r.child_id in to_b]
        rb = {
            (r.head_id, r.child_id, r.label) for r in b.relations if r.head_id in matched_b and r.child_id in matched_b
        }
        self.relations["a"] += len(ra)
        self.relations["b"] += len(rb)
        self.relations["matched"] += sum((to_b[r.head_id], to_b[r.child_id], r.label) in rb for r in ra)

    def _claims(self, a: Contents, b: Contents, to_b: dict, spans_a: dict, spans_b: dict) -> None:
        """A claim of one annotator meets the other's claim on the matched quantity: same
        value and unit, same entity, and (full) every other part the same as well."""
        self.claims["a"] += len(a.claims)
        self.claims["b"] += len(b.claims)
        by_quantity = {c.quantity_id: c for c in b.claims}
        # a role span the other annotator never marked must not equal their empty role
        link = lambda x: to_b.get(x, UNMATCHED) if x is not None else None  # noqa: E731
        for ca in a.claims:
            cb = by_quantity.get(to_b.get(ca.quantity_id))
            if cb is None:
                continue
            qa, qb = spans_a[ca.quantity_id], spans_b[cb.quantity_id]
            same_value = (qa.value, qa.unit) == (qb.value, qb.unit)
            same_entity = link(ca.entity_id) == cb.entity_id
            same_rest = (
                all(link(getattr(ca, k)) == getattr(cb, k) for k in CLAIM_LINKS if k != "entity_id")
                and ca.property_text == cb.property_text
                and sorted(ca.modifiers) == sorted(cb.modifiers)
            )
            self.claims["same_quantity"] += 1
            self.claims["same_value_unit"] += same_value
            self.claims["same_entity"] += same_entity
            self.claims["full"] += same_value and same_entity and same_rest

    def report(self, labels: list[str]) -> dict:
        def block(counter):
            per = {label: f1(counter[label], self.count_a[label], self.count_b[label]) for label in labels}
            return {
                "micro": f1(sum(counter.values()), sum(self.count_a.values()), sum(self.count_b.values())),
                "per_label": per,
            }

        claims = dict(self.claims)
        claims["f1_full"] = f1(self.claims["full"], self.claims["a"], self.claims["b"])["f1"]
        return {
            "span_f1": {"exact": block(self.exact), "overlap": block(self.overlap)},
            "relation_f1": f1(self.relations["matched"], self.relations["a"], self.relations["b"]),
            "claims": claims,
        }


# --- the report -----------------------------------------------------------------------------


def agreement_report(
    session: Session, annotators: list[str] | None = None, labels: list[str] | None = None, top: int = 10
) -> dict:
    corpus = load(session, annotators, labels)
    names = corpus.annotators
    codes = Codes()
    rows: list[list[np.ndarray]] = [[] for _ in names]
    tallies = {pair: PairTally() for pair in combinations(names, 2)}
    per_doc = []
    for doc in corpus.docs:
        tokens = unpack(tokens_of(doc))
        starts, ends = [t[0] for t in tokens], [t[1] for t in tokens]
        layers = [corpus.layers.get((doc.id, n)) for n in names]  # None: not marked done by n
        # once per layer: reading a row's columns by name costs, and each layer is in several pairs
        tuples = [span_tuples(layer) if layer is not None else None for layer in layers]
        rated = [token_codes(starts, ends, t, codes) for t in tuples if t is not None]
        for i, layer in enumerate(layers):
            rows[i].append(rated.pop(0) if layer is not None else np.full(len(tokens), MISSING, dtype=np.int32))
        doc_codes = np.stack([rows[i][-1] for i, layer in enumerate(layers) if layer is not None])
        disagreeing = int((doc_codes != doc_codes[0]).any(axis=0).sum()) if len(tokens) else 0
        per_doc.append(
            {
                "id": doc.uid,
                "title": doc.title,
                "tokens": len(tokens),
                "tokens_disagreeing": disagreeing,
                "annotators": [n for n, layer in zip(names, layers) if layer is not None],
            }
        )
        for (x, y), tally in tallies.items():
            i, j = names.index(x), names.index(y)
            if layers[i] is not None and layers[j] is not None:
                tally.add_doc(layers[i], layers[j], tuples[i], tuples[j])
    all_labels = sorted(set(codes.names[1:]) | set(labels or []))
    order = [OUTSIDE] + all_labels
    remap = np.array([order.index(name) for name in codes.names] + [MISSING], dtype=np.int32)  # MISSING stays -1
    matrix = np.stack([remap[np.concatenate(r)] if r else np.zeros(0, dtype=np.int32) for r in rows])
    pairs = []
    for (x, y), tally in tallies.items():
        a, b = matrix[names.index(x)], matrix[names.index(y)]
        both = (a != MISSING) & (b != MISSING)
        pairs.append(
            {
                "a": x,
                "b": y,
                "documents": tally.documents,
                "cohen_kappa": cohen_kappa(a[both], b[both]) if both.any() else None,
                **tally.report(all_labels),
            }
        )
    report = {
        "annotators": names,
        "documents": len(corpus.docs),
        "documents_done_by_fewer_than_two": corpus.excluded,
        "tokens": int(matrix.shape[1]),
        "labels": all_labels,
        "note": NOTE,
        "pairs": pairs,
        "overall": {
            "fleiss_kappa": fleiss_kappa(matrix) if matrix.size else None,
            "krippendorff_alpha": krippendorff_alpha(matrix) if matrix.size else None,
            "span_f1_exact_micro_mean": _mean(p["span_f1"]["exact"]["micro"]["f1"] for p in pairs),
            "span_f1_overlap_micro_mean": _mean(p["span_f1"]["overlap"]["micro"]["f1"] for p in pairs),
            "cohen_kappa_mean": _mean(p["cohen_kappa"] for p in pairs),
        },
        "confusion": confusion(matrix, order),
        "most_disagreement": sorted(per_doc, key=lambda d: (-d["tokens_disagreeing"], d["id"]))[:top],
    }
    return report


def _mean(values) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found else None


def confusion(matrix: np.ndarray, labels: list[str]) -> dict:
    """Token counts: rows are the first annotator of each pair (in name order), columns the
    second, summed over every pair."""
    table = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for i, j in combinations(range(matrix.shape[0]), 2):
        both = (matrix[i] != MISSING) & (matrix[j] != MISSING)
        np.add.at(table, (matrix[i][both], matrix[j][both]), 1)
    return {"labels": labels, "rows": "first annotator of each pair", "matrix": table.tolist()}
