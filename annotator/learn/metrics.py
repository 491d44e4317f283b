"""Scores of predicted spans, claim links and relations against the held-back gold.

Spans: exact (same start, end and label) and overlap (a predicted span is right when it
overlaps a gold span of its label; a gold span is found when a predicted span of its label
overlaps it). Links: (quantity, role, part) triples, given the gold quantities and spans
(the linker alone) and end to end (predicted spans, linked by the linker).
"""

from __future__ import annotations

from collections import defaultdict

from annotator.learn.examples import LINK_ROLES, GoldDoc, SpanKey


def prf(tp_p: int, n_pred: int, tp_g: int, n_gold: int) -> dict:
    """Precision from the predictions found right, recall from the gold found."""
    p = tp_p / n_pred if n_pred else 0.0
    r = tp_g / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "predicted": n_pred, "gold": n_gold}


def _overlap(a: SpanKey, b: SpanKey) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] == b[2]


class Tally:
    """Counts per name for exact and overlap matching, summed over documents."""

    def __init__(self):
        self.exact = defaultdict(lambda: [0, 0, 0, 0])
        self.overlap = defaultdict(lambda: [0, 0, 0, 0])

    def add(self, name: str, predicted: list, gold: list, overlaps=None) -> None:
        gold_set, pred_set = set(gold), set(predicted)
        exact = self.exact[name]
        hits = len(pred_set & gold_set)
        exact[0] += hits
        exact[1] += len(pred_set)
        exact[2] += hits
        exact[3] += len(gold_set)
        if overlaps is not None:
            lenient = self.overlap[name]
            lenient[0] += sum(any(overlaps(p, g) for g in gold_set) for p in pred_set)
            lenient[1] += len(pred_set)
            lenient[2] += sum(any(overlaps(p, g) for p in pred_set) for g in gold_set)
            lenient[3] += len(gold_set)

    def report(self, kind: str = "exact") -> dict:
        table = self.exact if kind == "exact" else self.overlap
        out = {name: prf(*counts) for name, counts in sorted(table.items())}
        if table:
            out["_micro"] = prf(*(sum(c[i] for c in table.values()) for i in range(4)))
        return out


def _triples(claims: list[dict], role: str) -> list[tuple]:
    return [(c["quantity"], c[role]) for c in claims if c.get(role) is not None]


def _triple_overlap(a, b) -> bool:
    return _overlap(a[0], b[0]) and _overlap(a[1], b[1])


def evaluate(golds: list[GoldDoc], spans: list[list[SpanKey]], linked_gold: list, linked_pred: list, rel_pred: list):
    """metrics.json's figures. Per document: the predicted spans, the claims the linker made
    from the gold spans, the claims it made from the predicted spans, the predicted relations."""
    span_tally, link_tally, e2e_tally, rel_tally = Tally(), Tally(), Tally(), Tally()
    for gold, predicted, from_gold, from_pred, rels in zip(golds, spans, linked_gold, linked_pred, rel_pred):
        for label in sorted({s[2] for s in gold.spans} | {s[2] for s in predicted}):
            span_tally.add(
                label, [s for s in predicted if s[2] == label], [s for s in gold.spans if s[2] == label], _overlap
            )
        for role in LINK_ROLES:
            truth = _triples(gold.claims, role)
            link_tally.add(role, _triples(from_gold, role), truth)
            e2e_tally.add(role, _triples(from_pred, role), truth, _triple_overlap)
        for label in sorted({r[2] for r in gold.relations} | {r["label"] for r in rels}):
            rel_tally.add(
                label,
                [(r["head"], r["child"]) for r in rels if r["label"] == label],
                [(h, c) for h, c, lab in gold.relations if lab == label],
            )
    return {
        "spans": {"exact": span_tally.report("exact"), "overlap": span_tally.report("overlap")},
        "claims": {
            "given_gold_spans": link_tally.report("exact"),
            "end_to_end": {"exact": e2e_tally.report("exact"), "overlap": e2e_tally.report("overlap")},
        },
        "relations": rel_tally.report("exact"),
    }
