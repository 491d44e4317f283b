"""The quantity rule layer as a spaCy component ("claim_quantities").

The grammar itself (quantities.py) needs no spaCy; this module only runs it over a Doc,
snaps each hit to token boundaries and leaves the results as plain dicts in
doc.user_data[QUANTITY_KEY], so they survive Doc.to_bytes and nlp.pipe(n_process=...).
"""

from __future__ import annotations

import logging

from spacy.language import Language
from spacy.tokens import Doc

from annotator.nlp.quantities import Grammar, Quantity

QUANTITY_KEY = "claim_quantities"
FACTORY = "claim_quantities"
log = logging.getLogger(__name__)


class QuantityComponent:
    """Writes the quantities of each doc to doc.user_data[QUANTITY_KEY] as plain dicts."""

    def __init__(self, lang: str, strict: bool = False):
        self.grammar = Grammar(lang)
        self.strict = strict

    def __call__(self, doc: Doc) -> Doc:
        try:
            found = self.grammar.find(doc.text)
        except Exception:
            if self.strict:
                raise
            log.exception("quantity rules failed on a document of %d characters", len(doc.text))
            found = []
        doc.user_data[QUANTITY_KEY] = aligned(doc, found)
        return doc


@Language.factory(FACTORY, default_config={"strict": False, "lang": None})
def make_quantity_component(nlp: Language, name: str, strict: bool, lang: str | None) -> QuantityComponent:
    return QuantityComponent(lang or nlp.lang, strict=strict)


def add_quantity_ruler(nlp: Language, strict: bool = False, lang: str | None = None) -> QuantityComponent:
    """Add the quantity component at the end of any pipeline (once). `lang`: the texts'
    language when the pipeline is another's (the multi-language fallback for a language
    spaCy cannot tokenize here still reads Vietnamese "10.000" as ten thousand)."""
    if FACTORY in nlp.pipe_names:
        return nlp.get_pipe(FACTORY)
    return nlp.add_pipe(FACTORY, name=FACTORY, last=True, config={"strict": strict, "lang": lang})


def aligned(doc: Doc, found: list[Quantity]) -> list[dict]:
    """Snap each quantity to token boundaries; drop one that would overlap the previous."""
    out, last_end = [], -1
    for q in found:
        span = doc.char_span(q.start, q.end, alignment_mode="expand")
        if span is None or not span.text.strip() or span.start_char < last_end:
            continue
        out.append(q.as_dict(span.start_char, span.end_char))
        last_end = span.end_char
    return out
