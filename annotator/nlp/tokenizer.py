"""Blank spaCy pipelines and the tokens of a text.

Every document is tokenized by its language's blank pipeline (the trained English one gives
the same tokens), or by the multi-language tokenizer where spaCy lacks the language here.
spaCy is imported when a text is first tokenized, not with this module: a web process that
only reads stored tokens never loads it (~60 MB and a second of start-up).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from annotator.nlp.scripts import UNSPACED
from annotator.tokens import Token

if TYPE_CHECKING:
    from spacy.language import Language

# Marks that extend the letter before them in those scripts (Thai ที่ and ทำ, Lao, Myanmar,
# Khmer, kana voicing marks): a letter and its marks make one token.
UNSPACED_MARKS = (
    "\u0e31\u0e33-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb3-\u0ebc\u0ec8-\u0ecd\u102b-\u103e"
    "\u1056-\u1059\u105e-\u1060\u1062-\u1064\u1067-\u106d\u1071-\u1074\u1082-\u108d"
    "\u108f\u109a-\u109d\u17b4-\u17d3\u17dd\u3099\u309a\u0300-\u036f\ufe00-\ufe0f"
)


def blank_pipeline(lang: str) -> Language:
    """spacy.blank(lang), or the multi-language tokenizer when spaCy lacks that language
    (or it needs an optional segmenter that is not installed)."""
    import spacy

    if lang == "xx":
        return multilanguage_pipeline()
    try:
        nlp = spacy.blank(lang)
        nlp("1 a")  # some languages only fail on first use (missing segmenter)
        return nlp
    except Exception:
        return multilanguage_pipeline()


def multilanguage_pipeline() -> Language:
    """spaCy's multi-language tokenizer, which splits on spaces and punctuation, with each
    letter of a script written without spaces (Japanese, Thai, Lao, Khmer, Myanmar: their
    word segmenters are optional packages) a token of its own: a selection then snaps to
    the letters chosen, not to a whole run of text up to the next space."""
    import spacy
    from spacy.util import compile_infix_regex

    nlp = spacy.blank("xx")
    infixes = [*nlp.Defaults.infixes, rf"[{UNSPACED}][{UNSPACED_MARKS}]*"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


def _bounds(doc):
    """(starts, ends) of a spaCy Doc's tokens as two arrays, whitespace-only tokens left out.

    Read as one array (offset, length, is-space per token) rather than through a Token
    object per token (or doc.text, which rebuilds the text token by token): three times
    faster, and it runs in the process that also feeds the pipeline's workers.
    """
    from spacy.attrs import IDX, IS_SPACE, LENGTH

    rows = doc.to_array([IDX, LENGTH, IS_SPACE])
    kept = rows[rows[:, 2] == 0]
    return kept[:, 0], kept[:, 0] + kept[:, 1]


def from_doc(doc) -> list[Token]:
    """Boundaries of a spaCy Doc's tokens, whitespace-only tokens left out."""
    starts, ends = _bounds(doc)
    return list(zip(starts.tolist(), ends.tolist()))


@lru_cache(maxsize=32)
def tokenizer_for(lang: str):
    return blank_pipeline(lang).tokenizer


def packed_from_doc(doc) -> bytes:
    """from_doc() packed for storage (tokens.pack's layout), in whole-array steps: no Python
    object per token, about 40% of the time of packing from_doc()'s pairs."""
    import numpy as np  # loaded with spaCy already

    starts, ends = _bounds(doc)
    if len(ends) and ends[-1] > np.iinfo(np.uint32).max:  # pack() refuses these too, rather than wrap
        raise OverflowError("offsets past 2**32 do not fit the packed tokens")
    return np.column_stack((starts, ends)).astype(np.uint32).tobytes()


def tokenize(text: str, lang: str) -> list[Token]:
    return from_doc(tokenizer_for(lang)(text))


def tokenize_packed(text: str, lang: str) -> bytes:
    """tokens.pack(tokenize(text, lang)), without the pairs in between."""
    return packed_from_doc(tokenizer_for(lang)(text))
