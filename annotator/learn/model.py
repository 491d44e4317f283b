"""A trained model as the pre-highlighter uses it: load a folder `annotator train` wrote and
predict spans, claims and relations for texts.

Span scores: a span categorizer span carries its probability; an NER entity the share of
NER_BEAM_WIDTH beam parses that contain it (the greedy parse decides which entities there are;
the beam only says how sure it is). Spans of one label that overlap are reduced to the best
scored. A document's uncertainty is the mean binary entropy (bits, so in [0, 1]) of every
decision the model weighed: each span categorizer candidate scored at least CANDIDATE_FLOOR,
each entity the beam considered, each claim part linked.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import orjson
import spacy

from annotator.learn.examples import LINK_ROLES

NER_BEAM_WIDTH = 8
CANDIDATE_FLOOR = 0.2  # the span categorizer keeps candidates from this score; SPAN_THRESHOLD makes spans
SPAN_THRESHOLD = 0.5
SPANS_KEY = "sc"


@dataclass
class Prediction:
    spans: list[dict] = field(default_factory=list)  # {"start", "end", "label", "score"}
    claims: list[dict] = field(default_factory=list)  # {"quantity": (s, e), "entity": (s, e, label) | None, ...}
    relations: list[dict] = field(default_factory=list)  # {"head": (s, e, label), "child": ..., "label", "score"}
    uncertainty: float = 0.0


def _entropy(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def _best_of_overlapping(spans: list[dict]) -> list[dict]:
    """Per label, the best scored of spans that overlap (greedy, by score then length)."""
    kept: list[dict] = []
    for span in sorted(spans, key=lambda s: (-s["score"], s["start"] - s["end"], s["start"])):
        if not any(k["label"] == span["label"] and k["start"] < span["end"] and span["start"] < k["end"] for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: (s["start"], s["end"], s["label"]))


def _link_candidates(found: list[tuple], given, quantity_label: str | None) -> list[tuple]:
    """The model's spans and the given ones, for the linker. A given quantity stands in for a
    model quantity it overlaps (one claim per quantity; the given one carries a parsed value)."""
    given = [tuple(k) for k in given]
    quantities = [k for k in given if k[2] == quantity_label]
    keys = {k for k in found if k[2] != quantity_label or not any(q[0] < k[1] and k[0] < q[1] for q in quantities)}
    return sorted(keys | set(given))


class TrainedModel:
    def __init__(self, nlp, linker, meta: dict, path: Path | None = None):
        self.nlp, self.linker, self.meta = nlp, linker, meta
        self.name = meta.get("name", "model")
        self.version = meta.get("version", "0")
        self.lang = meta.get("lang", nlp.lang)
        self.path = Path(path) if path is not None else None
        self.span_threshold = float(meta.get("span_threshold", SPAN_THRESHOLD))
        self.quantity_label = meta.get("quantity_label")

    @classmethod
    def load(cls, path) -> TrainedModel:
        path = Path(path)
        meta = orjson.loads((path / "meta.json").read_bytes())
        nlp = spacy.load(path / "pipeline")
        linker = joblib.load(path / "linker.joblib")
        return cls(nlp, linker, meta, path)

    def predict(self, texts: list[str], batch_size: int = 32, given: list[list] | None = None) -> list[Prediction]:
        """One Prediction per text, in input order. `given`: per text, (start, end, label)
        spans found by other means (the rules) that the linker weighs as candidates too."""
        given = given if given is not None else [()] * len(texts)
        docs = self._docs(texts, batch_size)
        return [self.predict_doc(doc, beams, extra) for (doc, beams), extra in zip(docs, given)]

    def _docs(self, texts: list[str], batch_size: int):
        ner = self.nlp.get_pipe("ner") if "ner" in self.nlp.pipe_names else None
        texts = list(texts)
        for i in range(0, len(texts), batch_size):
            docs = list(self.nlp.pipe(texts[i : i + batch_size], batch_size=batch_size))
            marginals = [{} for _ in docs]
            if ner is not None and ner.moves.n_moves and docs:
                for j, beam in enumerate(ner.beam_parse(docs, beam_width=NER_BEAM_WIDTH)):
                    found = defaultdict(float)
                    for prob, ents in ner.moves.get_beam_parses(beam):
                        for start, end, label in ents:
                            found[(start, end, label)] += prob
                    marginals[j] = dict(found)
            yield from zip(docs, marginals)

    def predict_doc(self, doc, marginals: dict, given=()) -> Prediction:
        decisions: list[float] = list(marginals.values())
        spans = []
        for ent in doc.ents:
            score = min(1.0, marginals.get((ent.start, ent.end, ent.label_), 0.0)) if marginals else 1.0
            spans.append({"start": ent.start_char, "end": ent.end_char, "label": ent.label_, "score": score})
        group = doc.spans.get(SPANS_KEY) if SPANS_KEY in doc.spans else None
        if group is not None and len(group):
            scores = group.attrs.get("scores")
            for k, span in enumerate(group):
                p = float(scores[k]) if scores is not None else 1.0
                decisions.append(p)
                if p >= self.span_threshold:
                    spans.append({"start": span.start_char, "end": span.end_char, "label": span.label_, "score": p})
        spans = _best_of_overlapping(spans)
        keys = _link_candidates([(s["start"], s["end"], s["label"]) for s in spans], given, self.quantity_label)
        claims = []
        for claim in self.linker.claims(doc, keys):
            q = claim["quantity"]
            claims.append({"quantity": (q[0], q[1])} | {r: claim[r] for r in LINK_ROLES} | {"score": claim["score"]})
            decisions.append(claim["score"])
        relations = self.linker.relations(doc, keys)
        decisions += [r["score"] for r in relations]
        uncertainty = sum(map(_entropy, decisions)) / len(decisions) if decisions else 0.0
        return Prediction(spans=spans, claims=claims, relations=relations, uncertainty=round(uncertainty, 4))
