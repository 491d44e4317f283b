"""spaCy's attribute ruler, matching by lookup: the same matches, found without trying every
pattern at every token.

The trained English pipeline's ruler (it maps the tagger's tags to the POS the claim rules
read) holds 179 patterns, nearly all of one token asking for exact values: a tag, a
lower-cased form, a dependency, or one of a few. spaCy's Matcher tries each pattern at each
token, which came to ~9 ms of a 480-token document, a tenth of pre-highlighting it. Here
such patterns become dictionaries keyed by the values they ask for, one per set of
attributes asked, and every token is looked up in each. Patterns of any other shape
(several tokens, operators, regular expressions) stay with a Matcher of their own. The
ruler then sets the attributes itself, from the same sorted matches its own `match` gives.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import product

from spacy.matcher import Matcher

# pattern keys read from Doc.to_array, each the attribute id spaCy compares (TEXT is ORTH)
STRING_KEYS = {"ORTH": "ORTH", "TEXT": "ORTH", "LOWER": "LOWER", "NORM": "NORM", "TAG": "TAG", "DEP": "DEP"}
FLAG_KEYS = {"IS_SPACE": "IS_SPACE"}


def index_attribute_ruler(ruler) -> None:
    """Make `ruler` (spaCy's AttributeRuler, its patterns all added) find its matches by
    lookup. Patterns added to it later would be missed: this is for a loaded pipeline.
    Indexing it again changes nothing."""
    if not isinstance(getattr(ruler.match, "__self__", None), PatternIndex):
        ruler.match = PatternIndex(ruler).match


class PatternIndex:
    def __init__(self, ruler):
        self.strings = ruler.vocab.strings
        self.rest = Matcher(ruler.vocab, validate=False)
        # attributes asked (a tuple of to_array names) -> their values (hashes) -> matches
        self.tables: dict[tuple[str, ...], dict[tuple[int, ...], list[tuple]]] = defaultdict(dict)
        for number, entry in enumerate(ruler.patterns):  # in the order added: the ruler's own ids
            key = str(number)
            match_id = self.strings.add(key)
            for pattern in entry["patterns"]:
                wanted = self._lookup_keys(pattern)
                if wanted is None:
                    self.rest.add(key, [pattern])
                    continue
                names = tuple(name for name, _ in wanted)
                for values in product(*(choices for _, choices in wanted)):
                    self.tables[names].setdefault(values, []).append((number, match_id))
        self.columns = sorted({name for names in self.tables for name in names})

    def _lookup_keys(self, pattern) -> list[tuple[str, list[int]]] | None:
        """[(attribute, the values it may take)] for a one-token pattern of exact values;
        None for a pattern the Matcher has to try."""
        if len(pattern) != 1 or not isinstance(pattern[0], dict):
            return None
        wanted = {}
        for raw, value in pattern[0].items():
            name = str(raw).upper()
            if name in STRING_KEYS and isinstance(value, str):
                choices = [self.strings.add(value)]
            elif name in STRING_KEYS and _is_set(value):
                choices = [self.strings.add(v) for v in value["IN"]]
            elif name in FLAG_KEYS and isinstance(value, bool):
                choices = [int(value)]
            else:
                return None
            column = STRING_KEYS.get(name) or FLAG_KEYS[name]
            if column in wanted:  # TEXT beside ORTH: both must hold
                return None
            wanted[column] = choices
        return sorted(wanted.items()) or None  # {} matches every token: left to the Matcher

    def match(self, doc) -> list[tuple]:
        """What AttributeRuler.match returns: (attribute id, match id, start, end), sorted,
        so that later patterns win."""
        found = [
            (int(self.strings[m_id]), m_id, start, end)
            for m_id, start, end in self.rest(doc, allow_missing=True, as_spans=False)
        ]
        if self.columns and len(doc):
            values = dict(zip(self.columns, doc.to_array(self.columns).T.tolist()))  # a list per attribute
            for names, table in self.tables.items():
                keys = zip(*(values[name] for name in names))
                for i, hits in enumerate(map(table.get, keys)):
                    if hits:
                        found += [(number, match_id, i, i + 1) for number, match_id in hits]
        found.sort()
        return found


def _is_set(value) -> bool:
    return (
        isinstance(value, dict)
        and list(value) == ["IN"]
        and isinstance(value["IN"], list)
        and all(isinstance(v, str) for v in value["IN"])
    )
