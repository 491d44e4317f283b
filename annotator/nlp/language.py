"""Per-document language identification (py3langid), overridable by the import's `lang`."""

from __future__ import annotations

import re

# langid reads character n-grams: a few thousand characters decide as well as the whole
# document and keep detection cheap on long texts.
SAMPLE_CHARS = 4000
UNDETERMINED = "xx"
_LANG_CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or 'xx' when there is nothing to go on."""
    sample = text[:SAMPLE_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return UNDETERMINED
    import py3langid  # loads its model on first use, not at import of this package

    lang, _score = py3langid.classify(sample)
    return lang


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
