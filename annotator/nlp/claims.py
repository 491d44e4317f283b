"""Whole suggested claims: each quantity suggestion with the parts a rule can find for it.

MeasEval decomposes a measurement into its Quantity, the MeasuredEntity it is about, the
MeasuredProperty measured and a Qualifier (the condition under which it holds). The rules
that find the phrases live apart (claim_rules_en.py reads the English dependency parse,
claim_rules_tokens.py reads tokens in any language); this module turns their token ranges
into clean Parts under the project's own labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotator.nlp import claim_rules_en, claim_rules_tokens
from annotator.nlp.cues import label_words, matches

BOUNDS = ("up_to", "more_than", "less_than", "at_least", "at_most")
# How far back "this card" may look for the product it stands for
ANAPHOR_WINDOW = 2000


@dataclass(frozen=True)
class Part:
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class FoundClaim:
    quantity: tuple[int, int]
    entity: Part | None
    property: Part | None
    condition: Part | None
    modifiers: tuple[str, ...]
    score: float | None = None


def modifiers_of(quantity: dict, labels) -> tuple[str, ...]:
    """MeasEval modifiers the normaliser's reading implies, in the scheme's order."""
    found = set()
    if quantity.get("qualifier") == "approx":
        found.add("IsApproximate")
    if quantity.get("value_max") is not None or quantity.get("qualifier") in BOUNDS:
        found.add("IsRange")
    if quantity.get("tolerance") is not None:
        found.add("HasTolerance")
    value = quantity.get("value")
    if not quantity.get("unit") and isinstance(value, int | float) and float(value).is_integer():
        found.add("IsCount")
    return tuple(name for name in labels.modifiers if name in found)


def find_claims(doc, quantities: list[dict], entities: list[tuple[int, int, str]], labels) -> list[FoundClaim]:
    """One FoundClaim per quantity dict, in the same order (every quantity gets a claim, even with no parts)."""
    context = _Context(doc, entities, labels, quantities)
    rules = claim_rules_en if doc.has_annotation("DEP") else claim_rules_tokens
    claims, previous = [], None
    for q in quantities:
        span = doc.char_span(q["start"], q["end"], alignment_mode="expand")
        ranges = rules.roles(doc, span, previous) if span is not None else claim_rules_tokens.Roles()
        claims.append(context.claim(q, span, ranges))
        previous = (span, ranges) if span is not None else None
    return claims


class _Context:
    """What every claim of one document needs: its entities and the scheme's labels."""

    def __init__(self, doc, entities, labels, quantities):
        self.doc, self.labels = doc, labels
        self.quantities = [(q["start"], q["end"]) for q in quantities]
        self.entities = sorted(entities)
        self.words = label_words(labels)
        self.parsed = doc.has_annotation("DEP")

    def claim(self, q: dict, span, ranges) -> FoundClaim:
        entity = prop = condition = None
        if span is not None:
            bounds = sentence_bounds(self.doc, span)
            entity = self.entity_part(ranges.entity, span, bounds, ranges.entity_items_only)
            if entity is None and not self.parsed:
                entity = self.topic(span, bounds)
            prop = self.part(ranges.property, span, bounds, self.labels.claims.property)
            condition = self.condition_part(ranges.conditions, span, bounds)
        return FoundClaim((q["start"], q["end"]), entity, prop, condition, modifiers_of(q, self.labels))

    def part(self, rng, span, bounds, label, condition=False) -> Part | None:
        if rng is None or label is None:
            return None
        tidy = tidy_range(self.doc, rng, span, bounds, condition=condition, parsed=self.parsed)
        if tidy is None or (not condition and self.holds_quantity(self.chars(tidy))):
            return None
        return Part(*self.chars(tidy), label)

    def holds_quantity(self, chars) -> bool:
        """An entity or property is never another quantity ("a value of 111 MPa")."""
        return any(q[0] < chars[1] and chars[0] < q[1] for q in self.quantities)

    def condition_part(self, ranges, span, bounds) -> Part | None:
        """The first condition that is not only a time ("at the end of last year"): the
        scheme keeps times as a part of their own."""
        for rng in ranges:
            part = self.part(rng, span, bounds, self.labels.claims.condition, condition=True)
            if part is not None and not self.is_time(part):
                return part
        return None

    def is_time(self, part: Part) -> bool:
        time = self.labels.claims.time
        tokens = self.doc.char_span(part.start, part.end)
        rest = [t for t in tokens[1:] if not (t.is_punct or t.is_space)] if tokens is not None else []
        if time is None or not rest:
            return False
        start, end = rest[0].idx, rest[-1].idx + len(rest[-1].text)
        return any(e[2] == time and e[0] <= start and end <= e[1] for e in self.entities)

    def entity_part(self, rng, span, bounds, items_only=False) -> Part | None:
        if rng is None or self.labels.claims.entity is None:
            return None
        tidy = tidy_range(self.doc, rng, span, bounds, parsed=self.parsed)
        if tidy is None or self.holds_quantity(self.chars(tidy)):
            return None
        start, end = self.chars(tidy)
        item = self.entity_item(start, end, span, bounds) or self.antecedent(rng, tidy, span)
        if item is not None:
            return Part(*item)
        return None if items_only else Part(start, end, self.labels.claims.entity)

    def topic(self, span, bounds) -> Part | None:
        """Without a parse, a quantity whose sentence names no entity before it ("Ele é
        equipado com 256 GB") is about the first entity of the sentence before, in the same
        paragraph: the topic, where the subject comes first."""
        if any(bounds[0] <= e[0] and e[1] <= span.start_char for e in self.entities):
            return None
        start, _ = claim_rules_tokens.clause_tokens(self.doc, span, claim_rules_tokens.SENTENCE_ENDS)
        if start < 2 or self.doc[start - 1].text not in claim_rules_tokens.SENTENCE_ENDS:
            return None
        before = self.doc[start - 2 : start - 1]
        first, _ = claim_rules_tokens.clause_tokens(self.doc, before, claim_rules_tokens.SENTENCE_ENDS)
        lo, hi = self.doc[first].idx, self.doc[start - 1].idx
        found = [e for e in self.entities if lo <= e[0] and e[1] <= hi and self.can_be_entity(e)]
        return Part(*found[0]) if found else None

    def chars(self, rng: tuple[int, int]) -> tuple[int, int]:
        first, last = self.doc[rng[0]], self.doc[rng[1] - 1]
        return first.idx, last.idx + len(last.text)

    def entity_item(self, start, end, span, bounds):
        """The entity suggestion that is the phrase, lies in it (the last: nearest the head
        of an English noun phrase) or holds it."""
        usable = [
            e
            for e in self.entities
            if bounds[0] <= e[0] and e[1] <= bounds[1] and not overlaps(e, span) and self.can_be_entity(e)
        ]
        same = [e for e in usable if (e[0], e[1]) == (start, end)]
        inside = [e for e in usable if start <= e[0] and e[1] <= end]
        holding = [e for e in usable if e[0] <= start and end <= e[1]]
        for found in (same, inside[-1:], holding):
            if found:
                return found[0]
        return None

    def can_be_entity(self, item) -> bool:
        """A time ("last year") is the claim's time, not what it measures; no quantity either."""
        return item[0] < item[1] and item[2] != self.labels.claims.time and not self.holds_quantity(item)

    def antecedent(self, raw, tidy, span):
        """ "this card", "the company": the nearest entity before it whose label the scheme
        describes with the noun ("Hardware: chips, cards, ...")."""
        if not self.parsed or not _is_definite(self.doc, raw, tidy):
            return None
        head = self.doc[tidy[1] - 1]
        if head.tag_ not in ("NN", "NNS"):
            return None
        wanted = {label for label, ws in self.words.items() if matches(head.lower_, ws)}
        start = self.doc[tidy[0]].idx
        before = [
            e
            for e in self.entities
            if e[2] in wanted and e[1] <= start and start - e[1] <= ANAPHOR_WINDOW and self.can_be_entity(e)
        ]
        return before[-1] if before else None


def _is_definite(doc, raw, tidy) -> bool:
    """The phrase opens with a definite or demonstrative determiner and is one noun
    ("this card", "the chip"), not a longer description."""
    first = doc[raw[0]] if raw[0] < tidy[0] else None
    return (
        first is not None
        and first.tag_ == "DT"
        and first.lower_ in ("the", "this", "that", "these", "those")
        and tidy[1] - tidy[0] == 1
    )


def overlaps(item, span) -> bool:
    return item[0] < span.end_char and span.start_char < item[1]


def sentence_bounds(doc, span) -> tuple[int, int]:
    """Character bounds of the quantity's sentence: the parser's, or else punctuation's."""
    if doc.has_annotation("SENT_START"):
        sent = span.sent
        return sent.start_char, sent.end_char
    start, end = claim_rules_tokens.clause_tokens(doc, span, stops=claim_rules_tokens.SENTENCE_ENDS)
    return doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)


def tidy_range(doc, rng, span, bounds, condition=False, parsed=True) -> tuple[int, int] | None:
    """The token range inside the sentence, off the quantity, without edge punctuation,
    determiners or possessive pronouns (a condition keeps its "when"/"at")."""
    i, j = rng
    while i < j and doc[i].idx < bounds[0]:
        i += 1
    while i < j and doc[j - 1].idx + len(doc[j - 1].text) > bounds[1]:
        j -= 1
    if i < span.end and span.start < j:
        if i < span.start:
            j = span.start
        else:
            i = span.end
    while i < j and _drops_at_start(doc, i, j, condition, parsed):
        i += 1
    while i < j and _drops_at_end(doc, i, j, condition, parsed):
        j -= 1
    if i >= j or not any(ch.isalnum() for t in doc[i:j] for ch in t.text):
        return None
    return i, j


def _drops_at_start(doc, i, j, condition, parsed) -> bool:
    token = doc[i]
    if token.is_space or (token.is_punct and not _opens_pair(doc, i, j)):
        return True
    if condition:
        return False
    if parsed:
        return token.tag_ in ("DT", "PDT", "PRP$", "WDT", "WP$", "CC", "IN", "TO", "POS", "HYPH")
    return claim_rules_tokens.is_function_word(token)


def _drops_at_end(doc, i, j, condition, parsed) -> bool:
    token = doc[j - 1]
    if token.is_space or (token.is_punct and not _closes_pair(doc, i, j)):
        return True
    if parsed:
        return token.tag_ in ("DT", "CC", "IN", "TO", "POS", "HYPH", "WDT", "PRP$")
    return not condition and claim_rules_tokens.is_function_word(token)


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _opens_pair(doc, i, j) -> bool:
    closer = _PAIRS.get(doc[i].text)
    return closer is not None and any(t.text == closer for t in doc[i + 1 : j])


def _closes_pair(doc, i, j) -> bool:
    openers = [o for o, c in _PAIRS.items() if c == doc[j - 1].text]
    return bool(openers) and any(t.text == openers[0] for t in doc[i : j - 1])
