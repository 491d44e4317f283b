"""Which spans a quantity's claim parts are, and which relations hold between entity spans:
logistic regressions over features of span pairs in a parsed spaCy Doc.

For each quantity and each role (entity, property, condition) every span of a label seen in
that role is a candidate; the role's classifier scores each (quantity, candidate) pair and
the best one is taken if its probability reaches LINK_THRESHOLD.

Spans alone leave most parts unfound: a span categorizer trained on a few hundred documents
proposes few of them. So, with a parse, the phrases of the quantity's sentence are candidates
too, under the label the configuration gives the role: noun phrases for every role (the
parser's chunks, and each noun with its modifiers, before and after), and for a condition
the phrases a preposition or an adverbial clause opens. In training a phrase is
a right candidate when it overlaps the gold part (MeasEval scores parts by overlap), and a
feature tells phrases from spans, so the classifier learns how far to trust each.

Relations: every ordered pair of spans near each other that some non-claim relation of the
configuration allows gets one label of those, or none.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from annotator.learn.examples import LINK_ROLES, GoldDoc, SpanKey

LINK_THRESHOLD = 0.5
RELATION_THRESHOLD = 0.5
RELATION_WINDOW = 40  # tokens between the two spans, at most, for a relation candidate
BETWEEN_WORDS = 8  # the words between two spans are features when there are no more than this
PHRASE_TOKENS = 14  # longer phrases set the scene rather than name a part
PHRASE_DEPS = ("prep", "advcl", "npadvmod")  # what opens a condition phrase
NOUNS = ("NOUN", "PROPN")
# Dependencies of a phrase's head: a word in one heads a noun phrase whatever its tag
NOMINAL_DEPS = ("nsubj", "nsubjpass", "dobj", "pobj", "attr", "appos", "oprd")


def _overlaps(a: SpanKey, b: SpanKey) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _heads_noun_phrase(token) -> bool:
    """A noun that modifies no other word, or a word in a noun's place ("glacier" tagged JJR)."""
    if token.pos_ in ("VERB", "AUX", "ADP", "PRON", "PUNCT", "DET", "NUM", "SYM", "SPACE"):
        return False
    return token.dep_ in NOMINAL_DEPS or (token.pos_ in NOUNS and token.dep_ not in ("compound", "amod", "nmod"))


def _bucket(n: int) -> str:
    for edge in (0, 1, 2, 4, 8, 16, 32):
        if n <= edge:
            return str(edge)
    return "more"


class PairContext:
    """One parsed document and its spans as token spans, for the features of its pairs."""

    def __init__(self, doc, spans: list[SpanKey], quantity_label: str | None, phrases=frozenset()):
        self.doc = doc
        self.phrases = phrases
        self.parsed = doc.has_annotation("DEP")
        self.sents = doc.has_annotation("SENT_START")
        self.tokens: dict[SpanKey, object] = {}
        for key in spans:
            span = doc.char_span(key[0], key[1], alignment_mode="expand")
            if span is not None and len(span):
                self.tokens[key] = span
        self.sentence = {}
        if self.sents:
            for i, sent in enumerate(doc.sents):
                self.sentence.update(dict.fromkeys(range(sent.start, sent.end), i))
        self.quantity_starts = sorted(t.start for k, t in self.tokens.items() if k[2] == quantity_label)
        # phrases by sentence: a quantity weighs only its own sentence's, of the many thousands a long document holds
        self.phrases_in: dict[int | None, list[SpanKey]] = {}
        for key in sorted(k for k in phrases if k in self.tokens):
            self.phrases_in.setdefault(self._sentence_of(key), []).append(key)

    def _sentence_of(self, key: SpanKey) -> int | None:
        return self.sentence.get(self.tokens[key].start) if self.sents else None

    def phrases_near(self, quantity: SpanKey, label_ok) -> list[SpanKey]:
        """The phrases of the quantity's own sentence that are clear of it."""
        q = self.tokens[quantity]
        return [
            k
            for k in self.phrases_in.get(self._sentence_of(quantity), ())
            if label_ok(k[2]) and not (self.tokens[k].start < q.end and q.start < self.tokens[k].end)
        ]

    def features(self, anchor: SpanKey, other: SpanKey, peers: list[SpanKey] = ()) -> dict:
        a, b = self.tokens[anchor], self.tokens[other]
        label = other[2]
        if b.start >= a.end:
            order, gap = "after", b.start - a.end
        elif b.end <= a.start:
            order, gap = "before", a.start - b.end
        else:
            order, gap = ("contains" if b.start <= a.start and b.end >= a.end else "overlaps"), 0
        f = {
            "label=" + label: 1,
            "anchor=" + anchor[2]: 1,
            "order=" + order: 1,
            f"{label}|order={order}": 1,
            "gap=" + _bucket(gap): 1,
            f"{label}|gap={_bucket(gap)}": 1,
            "log_gap": math.log1p(gap),
            "log_chars": math.log1p(max(0, other[0] - anchor[1], anchor[0] - other[1])),
            "length=" + _bucket(len(b)): 1,
            "head=" + b.root.lower_: 1,
        }
        if other in self.phrases:
            f["phrase"] = 1
            f[f"{label}|phrase"] = 1
            f["phrase_root=" + b.root.dep_] = 1
            f["phrase_first=" + b[0].lower_] = 1
        lo, hi = (a.end, b.start) if order == "after" else (b.end, a.start)
        f["quantities_between=" + _bucket(sum(lo <= s < hi for s in self.quantity_starts))] = 1
        if 0 < gap <= BETWEEN_WORDS:
            for token in self.doc[lo:hi]:
                f["between=" + token.lower_] = 1
        elif gap > BETWEEN_WORDS:
            f["between=far"] = 1
        for token in self.doc[lo:hi]:
            if token.is_punct and token.text in ";()[]":
                f["punct_between=" + token.text] = 1
        if a.start > 0:
            f["anchor_prev=" + self.doc[a.start - 1].lower_] = 1
        if self.sents:
            same = a.sent.start == b.sent.start
            f["same_sentence"] = int(same)
            f[f"{label}|same_sentence={int(same)}"] = 1
            if not same:
                f["sentences_apart"] = min(3, abs(self.sentence[a.start] - self.sentence[b.start])) / 3
        if peers:  # how many candidates of its label are nearer to the anchor
            mine = abs(b.start - a.start)
            nearer = sum(
                1 for p in peers if p != other and p in self.tokens and abs(self.tokens[p].start - a.start) < mine
            )
            f["rank=" + _bucket(nearer)] = 1
            f[f"{label}|rank={_bucket(nearer)}"] = 1
        if self.parsed and (not self.sents or a.sent.start == b.sent.start):
            f.update(_dependency_features(a.root, b.root, a, b))
        return f


def _dependency_features(x, y, a, b) -> dict:
    up_x = [x, *x.ancestors]
    up_y = [y, *y.ancestors]
    common = next((t for t in up_x if t in up_y), None)
    if common is None:
        return {"dep=none": 1}
    path_x = up_x[: up_x.index(common)]
    path_y = up_y[: up_y.index(common)]
    length = len(path_x) + len(path_y)
    out = {"dep_length": min(length, 10) / 10, "head_in_other": int(x.head in b or y.head in a)}
    if length <= 5:
        path = (
            "".join("<" + t.dep_ for t in path_x) + "^" + common.pos_ + "".join(">" + t.dep_ for t in reversed(path_y))
        )
        out["dep=" + path] = 1
    else:
        out["dep=long"] = 1
    return out


def _classifier(rows: list[dict], ys: list, seed: int):
    """A fitted (vectorizer, model), or the one class itself when the data has only one."""
    if len(set(ys)) < 2:
        return ys[0] if ys else None
    vectorizer = DictVectorizer()
    model = LogisticRegression(C=1.0, max_iter=3000, random_state=seed)
    model.fit(vectorizer.fit_transform(rows), ys)
    return vectorizer, model


def _probabilities(fitted, rows: list[dict]) -> list[dict]:
    if not isinstance(fitted, tuple):
        return [{fitted: 1.0} for _ in rows]
    vectorizer, model = fitted
    probs = model.predict_proba(vectorizer.transform(rows))
    return [dict(zip(model.classes_.tolist(), row.tolist())) for row in probs]


@dataclass
class Linker:
    quantity_label: str | None
    seed: int = 0
    role_labels: dict[str, list[str]] = field(default_factory=dict)
    models: dict[str, object] = field(default_factory=dict)
    relation_pairs: dict[str, list[list[str]]] = field(default_factory=dict)  # label -> [[head, child]]
    relation_model: object = None
    counts: dict = field(default_factory=dict)
    # role -> the label its phrase candidates take (the configuration's); empty: spans only
    phrase_labels: dict[str, str] = field(default_factory=dict)

    # --- claims ---

    def _phrases(self, doc, spans: list[SpanKey]) -> list[SpanKey]:
        """The document's phrase candidates that are not already spans (none without a parse,
        or for a model trained before phrases were)."""
        labels = getattr(self, "phrase_labels", {})
        if not labels or not doc.has_annotation("DEP"):
            return []
        nominal = [*doc.noun_chunks]
        for token in doc:  # the parser's chunks miss some heads: each noun's phrase, and with what follows it
            if _heads_noun_phrase(token):
                nominal += [doc[token.left_edge.i : token.i + 1], doc[token.left_edge.i : token.right_edge.i + 1]]
        opened = [doc[t.left_edge.i : t.right_edge.i + 1] for t in doc if t.dep_ in PHRASE_DEPS]
        found = set()
        for role, label in labels.items():
            for phrase in nominal + (opened if role == "condition" else []):
                if 0 < len(phrase) <= PHRASE_TOKENS:
                    found.add((phrase.start_char, phrase.end_char, label))
        return sorted(found - set(spans))

    def _allowed(self, role: str) -> set[str]:
        """The labels of the role's candidates: those seen in it, and its phrases' label."""
        phrase_label = getattr(self, "phrase_labels", {}).get(role)
        return set(self.role_labels.get(role, ())) | ({phrase_label} if phrase_label else set())

    def fit(
        self,
        parsed: list[tuple[object, GoldDoc]],
        relation_pairs: dict[str, list[list[str]]],
        phrase_labels: dict[str, str | None] | None = None,
    ) -> Linker:
        """Fit every role seen in the gold claims; `phrase_labels`: role -> the label of its
        phrase candidates (None or absent: that role weighs spans only)."""
        seen = {role: Counter() for role in LINK_ROLES}
        for _doc, gold in parsed:
            for claim in gold.claims:
                for role in LINK_ROLES:
                    if claim[role] is not None:
                        seen[role][claim[role][2]] += 1
        self.role_labels = {role: sorted(c) for role, c in seen.items() if c}
        self.phrase_labels = {
            role: label
            for role, label in (phrase_labels or {}).items()
            if label and role in self.role_labels and label != self.quantity_label
        }
        phrases = [self._phrases(doc, gold.spans) for doc, gold in parsed]
        for role in self.role_labels:
            rows, ys = [], []
            for (doc, gold), extra in zip(parsed, phrases):
                spans = gold.spans + extra
                ctx = PairContext(doc, spans, self.quantity_label, frozenset(extra))
                truth = {(c["quantity"], c[role]) for c in gold.claims if c[role] is not None}
                for q, cands in self._pairs(ctx, spans, role):
                    for c in cands:
                        rows.append(ctx.features(q, c, cands))
                        right = (q, c) in truth or (
                            c in ctx.phrases and any(g == q and _overlaps(p, c) for g, p in truth)
                        )
                        ys.append(int(right))
            self.models[role] = _classifier(rows, ys, self.seed)
            self.counts[role] = {"pairs": len(ys), "links": sum(ys)}
        self.relation_pairs = relation_pairs
        if relation_pairs:
            rows, ys = [], []
            for doc, gold in parsed:
                ctx = PairContext(doc, gold.spans, self.quantity_label)
                truth = {(h, c): label for h, c, label in gold.relations if label in relation_pairs}
                for h, c in self._relation_candidates(ctx, gold.spans):
                    rows.append(ctx.features(h, c))
                    ys.append(truth.get((h, c), "none"))
            if any(y != "none" for y in ys):
                self.relation_model = _classifier(rows, ys, self.seed)
            self.counts["relations"] = {"pairs": len(ys), "relations": sum(y != "none" for y in ys)}
        return self

    def _pairs(self, ctx: PairContext, spans: list[SpanKey], role: str):
        """Each quantity with its candidates for `role`: the spans of the role's labels, and
        the phrases of its own sentence that do not overlap it."""
        allowed = self._allowed(role)
        cands = [c for c in spans if c[2] in allowed and c in ctx.tokens and c not in ctx.phrases]
        for q in spans:
            if q[2] == self.quantity_label and q in ctx.tokens:
                yield q, [c for c in cands if c != q] + ctx.phrases_near(q, allowed.__contains__)

    def claims(
        self, doc, spans: list[SpanKey], quantities: list[SpanKey] | None = None, phrases: bool = True
    ) -> list[dict]:
        """Claims of the quantities (default: the spans of the quantity label) with the best
        candidate of each role, phrases among them unless `phrases` is False. The score is
        the chance that every role's decision is right, taking the decisions as independent."""
        extra = self._phrases(doc, spans) if phrases else []
        spans = spans + extra
        ctx = PairContext(doc, spans, self.quantity_label, frozenset(extra))
        chosen: dict[SpanKey, dict] = {}
        for role, fitted in self.models.items():
            for q, cands in self._pairs(ctx, spans, role):
                entry = chosen.setdefault(q, {"quantity": q, "score": 1.0})
                if not cands or fitted is None:
                    continue
                probs = [p.get(1, 0.0) for p in _probabilities(fitted, [ctx.features(q, c, cands) for c in cands])]
                best = max(range(len(cands)), key=probs.__getitem__)
                if probs[best] >= LINK_THRESHOLD:
                    entry[role] = cands[best]
                    entry["score"] *= probs[best]
                else:
                    entry["score"] *= 1 - probs[best]
        wanted = set(quantities) if quantities is not None else None
        out = []
        for q, entry in chosen.items():
            if wanted is not None and q not in wanted:
                continue
            if any(entry.get(role) for role in LINK_ROLES):
                out.append({role: entry.get(role) for role in LINK_ROLES} | {"quantity": q, "score": entry["score"]})
        return sorted(out, key=lambda c: c["quantity"])

    # --- relations ---

    def _relation_candidates(self, ctx: PairContext, spans: list[SpanKey]):
        allowed = {(h, c) for pairs in self.relation_pairs.values() for h, c in pairs}
        keys = [s for s in spans if s in ctx.tokens]
        for h in keys:
            for c in keys:
                if h != c and (h[2], c[2]) in allowed:
                    a, b = ctx.tokens[h], ctx.tokens[c]
                    if max(a.start, b.start) - min(a.end, b.end) <= RELATION_WINDOW:
                        yield h, c

    def relations(self, doc, spans: list[SpanKey]) -> list[dict]:
        if self.relation_model is None:
            return []
        ctx = PairContext(doc, spans, self.quantity_label)
        pairs = list(self._relation_candidates(ctx, spans))
        out = []
        for (h, c), probs in zip(pairs, _probabilities(self.relation_model, [ctx.features(h, c) for h, c in pairs])):
            fits = {k: v for k, v in probs.items() if k != "none" and [h[2], c[2]] in self.relation_pairs.get(k, [])}
            if fits:
                label = max(fits, key=fits.get)
                if fits[label] >= RELATION_THRESHOLD:
                    out.append({"head": h, "child": c, "label": label, "score": fits[label]})
        return out
