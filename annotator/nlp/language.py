"""Per-document language identification (py3langid), overridable by the import's `lang`."""

from __future__ import annotations

import re

# langid reads character n-grams, a byte at a time in Python, so its cost is the sample's
# length. Three windows of 400 characters (start, middle, end) decide as well as 4,000 from
# the start did (the same language for all 3,313 benchmark and MeasEval texts tried), at
# half the cost, and a header in another language (a site's menu) cannot outvote the body.
WINDOW = 400
UNDETERMINED = "xx"
_LANG_CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or 'xx' when there is nothing to go on."""
    sample = _sample(text)
    if not any(ch.isalpha() for ch in sample):
        return UNDETERMINED
    import py3langid  # loads its model on first use, not at import of this package

    lang, _score = py3langid.classify(sample)
    return lang


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
