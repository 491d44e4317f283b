"""Claim parts from tokens alone, for languages without a parser (and blank pipelines).

Deliberately few, punctuation-bounded patterns: "256 GB de memória de alta velocidade"
(the of-phrase after the quantity is the property), "taxa de transferência de até 1,1 TB/s"
(the phrase before an of-word), "16 empresas" (a count names what it counts), the nearest
entity suggestion before the quantity in its clause as the entity, and "73% contra os 25%"
(a quantity joined to the previous by function words shares its parts). Phrase edges are
the language's own stop words (spacy.lang.<lang>.stop_words, through token.is_stop).
"""

from __future__ import annotations

from dataclasses import dataclass

# The word that joins a quantity to what it measures, per language (the only word list here)
OF_WORDS = {
    "en": {"of"},
    "pt": {"de", "da", "do", "das", "dos"},
    "es": {"de", "del"},
    "fr": {"de", "du", "des", "d'"},
    "it": {"di", "del", "della", "dei", "degli", "delle"},
    "ca": {"de", "del", "dels"},
    "ro": {"de"},
    "nl": {"van"},
}
SENTENCE_ENDS = {".", "!", "?", ";"}
CLAUSE_ENDS = SENTENCE_ENDS | {",", ":", "(", ")", "[", "]"}
COMPARISONS = {"<", ">", "≤", "≥", "<=", ">=", "=", "≈", "~", "∼"}
SYMBOL_LENGTH = 4
MAX_WORDS = 6
# Before the quantity, where verbs cannot be told from nouns without tags, a short phrase
MAX_WORDS_BEFORE = 2
# A stop word this long is taken for a content word inside a phrase ("nível", "número")
CONTENT_STOP_LENGTH = 5


@dataclass(frozen=True)
class Roles:
    """Token ranges (start, end) found for each part; conditions best first. With
    `entity_items_only`, the entity range is only where to look for an entity suggestion."""

    entity: tuple[int, int] | None = None
    property: tuple[int, int] | None = None
    conditions: tuple[tuple[int, int], ...] = ()
    entity_items_only: bool = False


def roles(doc, span, previous=None) -> Roles:
    shared = _shared_with_previous(doc, span, previous)
    if shared is not None:
        return shared
    of_words = OF_WORDS.get(doc.lang_, set())
    after = _phrase_after(doc, span, of_words)
    if _is_count(span) and after is None:
        counted = _run(doc, span.end, +1, set())
        if counted is not None:
            return Roles(entity=counted)
    prop = after or _phrase_before(doc, span, of_words) or symbol_before(doc, span)
    start, _ = clause_tokens(doc, span, CLAUSE_ENDS)
    entity = (start, span.start) if start < span.start else None
    return Roles(entity=entity, property=prop, entity_items_only=True)


def symbol_before(doc, span):
    """ "r = .64", "T0 = 1300 K", "p < 0.01": the symbol before "=" (or a comparison) names
    what the value measures."""
    i = span.start - 1
    if i >= 1 and doc[i].text == "=":
        i -= 1
    elif not (i >= 0 and span[0].text in COMPARISONS):
        return None
    token = doc[i]
    if len(token.text) <= SYMBOL_LENGTH and any(ch.isalpha() for ch in token.text) and not token.is_stop:
        return i, i + 1
    return None


def _shared_with_previous(doc, span, previous):
    """ "73% contra os 25%", "de 25% para 73%": only function words between two quantities."""
    if previous is None:
        return None
    before, roles_before = previous
    between = doc[before.end : span.start]
    if before.end > span.start or len([t for t in between if not t.is_space]) > 3:
        return None
    if any(not (t.is_stop or t.is_space) for t in between):
        return None
    return roles_before


def _is_count(span) -> bool:
    return span[-1].like_num


def _phrase_after(doc, span, of_words):
    i = span.end
    if i < len(doc) and doc[i].lower_ in of_words:
        return _run(doc, i + 1, +1, of_words)
    return None


def _phrase_before(doc, span, of_words):
    i = span.start - 1
    if i >= 0 and doc[i].lower_ in of_words:
        i -= 1
    elif span[0].lower_ not in of_words:  # "cerca de 5 kg" reads its of-word inside the quantity
        return None
    found = _run(doc, i, -1, of_words)
    if found is not None and all(t.is_stop for t in doc[found[0] : found[1]]) and found[0] >= 2:
        # "eficiência computacional no nível de 73%": a generic word; the phrase is before it
        further = _run(doc, found[0] - 2, -1, of_words) if doc[found[0] - 1].is_stop else None
        return further or found
    return found


def _run(doc, i, step, of_words):
    """Content words from token i in the direction `step`, an of-word allowed between two
    of them, up to punctuation, a number or a function word."""
    first = edge = None
    taken, most = 0, MAX_WORDS if step > 0 else MAX_WORDS_BEFORE
    while 0 <= i < len(doc) and taken < most:
        token = doc[i]
        if first is not None and token.lower_ in of_words and 0 <= i + step < len(doc) and _content(doc[i + step]):
            i += step
            continue
        if not _content(token) or _is_name(token):
            break
        first = i if first is None else first
        edge, taken, i = i, taken + 1, i + step
    if first is None:
        return None
    return min(first, edge), max(first, edge) + 1


def _content(token) -> bool:
    if token.is_space or token.is_punct or token.like_num or not any(ch.isalpha() for ch in token.text):
        return False
    return not is_function_word(token)


def _is_name(token) -> bool:
    """A capitalised word inside a sentence, or a word with digits ("H100"): a name, which
    an entity suggestion covers better than a property."""
    return any(ch.isdigit() for ch in token.text) or (token.text[:1].isupper() and not token.is_sent_start)


def is_function_word(token) -> bool:
    return token.is_stop and len(token.text) < CONTENT_STOP_LENGTH


def clause_tokens(doc, span, stops) -> tuple[int, int]:
    """Token range around the span up to (not including) the nearest stop marks or a line break."""
    start = span.start
    while start > 0 and not _stops(doc[start - 1], stops):
        start -= 1
    end = span.end
    while end < len(doc) and not _stops(doc[end], stops):
        end += 1
    return start, end


def _stops(token, stops) -> bool:
    return token.text in stops or "\n" in token.text
