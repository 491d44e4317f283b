"""Relation suggestions between entity suggestions, by rules.

English reads the dependency parse: "X's Y" (possessive), "X uses Y chips", "V3 was trained
on Y", "Y, made by X", "Y from X", "X and Y partner". Every language also gets two token
rules: "X-made Y", and two entities a few words apart with a word between that names a
relation ("X usa Y"). The label is the scheme's: of the labels allowed for the two entity
labels, the one whose name or description shares a stem with the cue word, else the first
allowed. The links between a claim's parts (has_quantity, has_property, qualifies) are made
by the claim rules, never here.
"""

from __future__ import annotations

from annotator.nlp.claim_rules_en import phrase, subject_of
from annotator.nlp.cues import label_words, matches, relation_words

# How many tokens may stand between two entities for the token rule
WINDOW = 3
SUBJECT_DEPS = ("nsubj", "nsubjpass")
OBJECT_DEPS = ("dobj", "attr", "oprd")
POSSESSIVE = {"'s", "’s", "'", "’"}


def find_relations(doc, entities: list[tuple[int, int, str]], labels) -> list[tuple[int, int, str, float | None]]:
    """(head index, child index, relation label, score) into `entities`, only for label pairs
    labels.relation_allowed(label, head_label, child_label) allows; no duplicates."""
    owners = Owners(doc, entities, labels)
    cues = _parse_cues(doc, owners) if doc.has_annotation("DEP") else []
    cues += _token_cues(doc, owners)
    claim_links = {labels.claims.has_quantity, labels.claims.has_property, labels.claims.qualifies}
    out, seen = [], set()
    text = doc.text  # built anew from the tokens on every access: once here, not per pair
    for head, child, words, needs_cue in cues:
        if head == child or (head, child) in seen or _same_name(entities, head, child, text):
            continue
        label = choose_label(labels, entities[head][2], entities[child][2], words, claim_links, needs_cue)
        if label is not None:
            seen.add((head, child))
            out.append((head, child, label, None))
    return out


def _same_name(entities, a, b, text: str) -> bool:
    """ "Sophgo" and "Sophgo Technologies": one company named twice, not two related ones."""
    first, second = (text[e[0] : e[1]].lower() for e in (entities[a], entities[b]))
    return first in second or second in first


def choose_label(labels, head_label, child_label, words, excluded, needs_cue=False) -> str | None:
    allowed = [name for name in labels.relations_for(head_label, child_label) if name not in excluded]
    for name in allowed:
        if any(matches(word, relation_words(labels, name)) for word in words):
            return name
    if needs_cue or not allowed:
        return None
    return allowed[0]


class Owners:
    """Which entity suggestion each token belongs to, and which a noun phrase stands for."""

    def __init__(self, doc, entities, labels):
        self.of: list[int | None] = [None] * len(doc)
        for index, (start, end, _label) in enumerate(entities):
            span = doc.char_span(start, end, alignment_mode="expand")
            for i in range(span.start, span.end) if span is not None else ():
                self.of[i] = index if self.of[i] is None else self.of[i]
        self.entities = entities
        self.words = label_words(labels)

    def __getitem__(self, i: int) -> int | None:
        return self.of[i]

    def __len__(self) -> int:
        return len(self.of)

    def main(self, token, strict=True) -> int | None:
        """The entity of the phrase headed by `token`: the one it is part of, else the one
        nearest the head, skipping a possessor ("Huawei's Ascend chips" -> Ascend). `strict`:
        only where the head noun is a word of that entity's label ("Ascend 910B chips" under
        "Hardware: chips, ...", not "Gemini data")."""
        if self.of[token.i] is not None:
            return self.of[token.i]
        possessed = {t.i for c in token.lefts if c.dep_ == "poss" for t in c.subtree}
        start, end = phrase(token)
        for i in range(end - 1, start - 1, -1):
            if self.of[i] is not None and i not in possessed:
                found = self.of[i]
                if strict and not matches(token.lower_, self.words.get(self.entities[found][2], [])):
                    return None
                return found
        return None


def _parse_cues(doc, owners) -> list[tuple[int, int, list[str], bool]]:
    found = []
    for token in doc:
        if token.dep_ == "poss" and owners[token.i] is not None:  # "Huawei's Ascend 910B"
            child = owners.main(token.head, strict=False)
            if child is not None:
                found.append((owners[token.i], child, [], False))
        if token.pos_ in ("VERB", "AUX"):
            found += _verb_cues(token, owners)
        if token.dep_ == "prep" and token.head.pos_ in ("NOUN", "PROPN"):
            found += _noun_prep_cues(token, owners)
    return found


def _noun_prep_cues(prep, owners):
    """ "Y from X" (X made Y); "R1 on H800 chips", "Y with X": the noun's entity first."""
    noun = owners.main(prep.head)
    objects = _objects_of(prep, owners)
    if prep.lower_ == "from":
        return _pairs(objects, [noun], ["from"], flip=True)
    verb = prep.head.head
    words = [prep.text, verb.text] if verb.pos_ == "VERB" else [prep.text]
    return _pairs([noun], objects, words, flip=False)


def _verb_cues(verb, owners):
    subject = subject_of(verb)
    if subject is not None and subject.tag_ in ("WDT", "WP") and verb.dep_ == "relcl":
        subject = verb.head  # "iFlyTek, which uses the Ascend 910B"
    agent = next((c for c in verb.children if c.dep_ == "agent"), None)
    subjects = _conjoined(subject, owners) if subject is not None else []
    if agent is not None:  # "Y, made by X", "Y is used by X"
        return _pairs(_objects_of(agent, owners), subjects, [verb.text], flip=False)
    objects = []
    for child in verb.children:
        if any(c.dep_ == "case" for c in child.children):
            continue  # a possessor parsed as the object ("uses Huawei's chips")
        if child.dep_ in OBJECT_DEPS or (child.dep_ == "xcomp" and child.pos_ in ("NOUN", "PROPN")):
            objects += [(e, [verb.text]) for e in _conjoined(child, owners)]
        elif child.dep_ == "prep":
            objects += [(e, [verb.text, child.text]) for e in _objects_of(child, owners)]
    found = [(s, o, words, False) for s in subjects for o, words in objects if "from" not in words[1:]]
    things = [o for o, words in objects if len(words) == 1]
    for maker in (o for o, words in objects if words[1:] == ["from"]):  # "using Y from X"
        found += [(maker, thing, ["from"], False) for thing in things]
    if len(subjects) > 1 and not objects:  # "X and Y partner": only when the verb names the relation
        found += [(a, b, [verb.text], True) for a, b in zip(subjects, subjects[1:])]
    return found


def _pairs(heads, children, words, flip):
    """Every head with every child; `flip`: the lists came as (children, heads)."""
    if flip:
        heads, children = children, heads
    return [(h, c, words, False) for h in heads for c in children if h is not None and c is not None]


def _objects_of(prep, owners) -> list[int]:
    out = []
    for pobj in (c for c in prep.children if c.dep_ == "pobj"):
        out += _conjoined(pobj, owners)
    return out


def _conjoined(token, owners) -> list[int]:
    """The entity of a noun phrase and of the phrases coordinated with it ("X and Y")."""
    chain = [token]
    for t in chain:
        chain += [c for c in t.children if c.dep_ == "conj"]
    out = []
    for t in chain:
        entity = owners.main(t)
        if entity is not None and entity not in out:
            out.append(entity)
    return out


def _token_cues(doc, owners) -> list[tuple[int, int, list[str], bool]]:
    """ "X-made Y", and "X <cue> Y" with at most WINDOW words between and no punctuation;
    a rule without the parse suggests only where a word between names the relation."""
    found = []
    starts = [i for i, owner in enumerate(owners) if owner is not None and (i == 0 or owners[i - 1] != owner)]
    for i in starts:
        end = i
        while end < len(doc) and owners[end] == owners[i]:
            end += 1
        j, between = end, []
        while j < len(doc) and len(between) <= WINDOW and owners[j] is None and not _breaks(doc[j]):
            between.append(doc[j])
            j += 1
        if j < len(doc) and owners[j] is not None and between:
            if all(t.text in POSSESSIVE for t in between):  # "Huawei's Ascend 910B"
                found.append((owners[i], owners[j], [], False))
                continue
            words = [t.text for t in between if not t.is_punct] + _word_after(doc, owners, j)
            found.append((owners[i], owners[j], words, True))
    return found


def _word_after(doc, owners, i) -> list[str]:
    """The word right after the second entity: "X and Y partner"."""
    owner = owners[i]
    while i < len(doc) and owners[i] == owner:
        i += 1
    return [doc[i].text] if i < len(doc) and doc[i].is_alpha else []


def _breaks(token) -> bool:
    return (token.is_punct and token.text not in "-–") or "\n" in token.text
