"""The `spacy train` config written beside a split DocBin export (docs/spacy.md).

Made by spaCy's own init_config, so it is the config `spacy init config` would give for the
same pipeline, then pointed at the export: ner learns doc.ents (the non-overlapping spans);
spancat is added only when some spans overlap, to learn doc.spans["sc"] whole.
"""

from __future__ import annotations

from collections import Counter

CONFIG_FILE = "config.cfg"
MULTI_LANGUAGE = "xx"  # spaCy's language class for text in several languages
MAX_SPAN_TOKENS = 12  # the longest n-gram spancat proposes, whatever the data holds


def config_language(languages: Counter) -> str:
    """The corpus's language, or spaCy's multi-language class for a mixed (or unknown) one."""
    from spacy.util import get_lang_class

    if len(languages) != 1:
        return MULTI_LANGUAGE
    [lang] = languages
    try:
        get_lang_class(lang)
    except ImportError:
        return MULTI_LANGUAGE
    return lang


def training_config(lang: str, span_labels: list[str], longest_span: int, spans_key: str):
    """A filled config for ner (and spancat with these labels, when given), reading
    train.spacy and dev.spacy (paths relative to where `spacy train` runs; override them)."""
    from spacy.cli.init_config import init_config

    pipeline = ["ner", "spancat"] if span_labels else ["ner"]
    config = init_config(lang=lang, pipeline=pipeline, optimize="efficiency", silent=True)
    config["paths"]["train"] = "train.spacy"
    config["paths"]["dev"] = "dev.spacy"
    if span_labels:
        size = max(1, min(MAX_SPAN_TOKENS, longest_span))
        config["components"]["spancat"]["spans_key"] = spans_key
        config["components"]["spancat"]["suggester"] = {
            "@misc": "spacy.ngram_range_suggester.v1",
            "min_size": 1,
            "max_size": size,
        }
        # spancat takes its labels from the config; ner reads its own from train.spacy
        config["initialize"]["components"]["spancat"] = {"labels": span_labels}
    return config
