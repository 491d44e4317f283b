"""Matching a word of the text against the words of a label's name and description.

A project names its labels as it likes, so the rules never compare against label names
written in code: "the company" finds an ORG because the scheme describes ORG as
"Companies, ...", and "uses" picks USES because the two words share a stem.
"""

from __future__ import annotations

import re

import spacy

_WORD = re.compile(r"[^\W\d_]+")
_SUFFIXES = ("ing", "ies", "ed", "es", "s", "e", "y")
# English forms that share no prefix with the word a label is likely named by: irregular
# pasts ("made" ~ MAKES) and the commonest synonyms of the verbs relations are named after
_ALIASES = {
    "made": "make", "built": "build", "ran": "run", "sold": "sell", "bought": "buy", "led": "lead",
    "utilize": "use", "utilise": "use", "employ": "use", "leverage": "use", "adopt": "use",
    "manufacture": "make", "produce": "make", "fabricate": "make", "power": "run",
}  # fmt: skip


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text.replace("_", " "))]


def stem(word: str) -> str:
    """A crude stem: enough to pair "uses"/"using"/"USES" and "companies"/"company"."""
    word = _base(word.lower())
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)]
    return word


def _base(word: str) -> str:
    """The word an alias stands for, also when inflected ("utilizes" -> "use")."""
    if word in _ALIASES:
        return _ALIASES[word]
    for suffix in _SUFFIXES:
        root = word[: -len(suffix)]
        if word.endswith(suffix) and (root in _ALIASES or root + "e" in _ALIASES):
            return _ALIASES.get(root) or _ALIASES[root + "e"]
    return word


def same_stem(a: str, b: str) -> bool:
    """Whether two words look like forms of one word (a short word must match whole)."""
    sa, sb = stem(a), stem(b)
    if min(len(sa), len(sb)) < 3:
        return a.lower() == b.lower() or sa == sb
    shared = len(_common_prefix(sa, sb))
    return shared >= min(len(sa), len(sb)) and shared >= 3


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def label_words(labels) -> dict[str, list[str]]:
    """Each entity label's own words: its name, its description, and the explanation of
    every model label mapped onto it (spaCy says ORG is "Companies, agencies, ...")."""
    out: dict[str, list[str]] = {}
    for name, item in labels.entities.items():
        out[name] = words(name) + words(item.get("description") or "")
    for model_label, ours in labels.model_labels.items():
        if ours in out:
            out[ours] += words(spacy.explain(model_label) or "")
    return out


def relation_words(labels, name: str) -> list[str]:
    return words(name) + words(labels.relations.get(name, {}).get("description") or "")


def matches(word: str, candidates: list[str]) -> bool:
    return any(same_stem(word, c) for c in candidates)
