"""Records -> spaCy DocBin (`.spacy`), the format `spacy train` reads.

All spans go to doc.spans["sc"]; doc.ents takes a non-overlapping subset chosen by one
documented rule: longer spans first, then earlier, then by label name; a span that overlaps
one already taken is left out of doc.ents (it stays in doc.spans) and counted. Spans that
do not fall on token boundaries cannot be represented in a Doc and are counted too.

With a split, train/dev/test.spacy are all written (an empty part too: the command printed
names them) and so is a `spacy train` config for the data (formats/spacy_config.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

SPANS_KEY = "sc"
PARTS = ("train", "dev", "test")


def doc_from_record(vocab, record: dict):
    """A Doc whose text is exactly the record's text, with the record's tokens."""
    from spacy.tokens import Doc

    text = record["text"]
    words, spaces = [], []
    cursor = 0
    for tok in record["tokens"]:
        start, end = tok["start"], tok["end"]
        if start > cursor:  # whitespace between tokens, other than one plain space
            _gap(text[cursor:start], words, spaces)
        words.append(text[start:end])
        spaces.append(False)
        cursor = end
    if cursor < len(text):
        _gap(text[cursor:], words, spaces)
    doc = Doc(vocab, words=words, spaces=spaces)
    if doc.text != text:  # pragma: no cover - guards the offsets promise
        raise ValueError(f"record {record['id']}: rebuilt text differs from the original")
    return doc


def _gap(gap: str, words: list[str], spaces: list[bool]) -> None:
    if gap == " " and words and not spaces[-1]:
        spaces[-1] = True
    elif gap.startswith(" ") and words and not spaces[-1] and len(gap) > 1:
        spaces[-1] = True
        words.append(gap[1:])
        spaces.append(False)
    else:
        words.append(gap)
        spaces.append(False)


def pick_entities(spans: list) -> tuple[list, int]:
    ordered = sorted(spans, key=lambda s: (-(s.end_char - s.start_char), s.start_char, s.label_))
    taken, used = [], set()
    for span in ordered:
        tokens = set(range(span.start, span.end))
        if tokens & used:
            continue
        used |= tokens
        taken.append(span)
    return sorted(taken, key=lambda s: s.start), len(spans) - len(taken)


class SpacyWriter:
    def __init__(self, labels):
        import spacy

        self.vocab = spacy.blank("xx").vocab
        self.bins: dict[str | None, object] = {}
        self.stats = Counter()
        self.languages = Counter()
        self.ent_labels: set[str] = set()
        self.span_labels: set[str] = set()
        self.longest_span = 1  # in tokens
        self.config: dict | None = None

    def add(self, record: dict, part: str | None) -> None:
        from spacy.tokens import DocBin

        doc = doc_from_record(self.vocab, record)
        spans = []
        for s in record["spans"]:
            span = doc.char_span(s["start"], s["end"], label=s["label"], alignment_mode="strict")
            if span is None:
                self.stats["misaligned_spans"] += 1
                continue
            spans.append(span)
        doc.spans[SPANS_KEY] = spans
        doc.ents, dropped = pick_entities(spans)
        self._note(record["lang"], spans, doc.ents)
        self.stats["overlapping_spans_left_out_of_ents"] += dropped
        self.stats["entities"] += len(doc.ents)
        doc.user_data["id"] = record["id"]
        doc.user_data["lang"] = record["lang"]
        doc.user_data["relations"] = record["relations"]
        doc.user_data["claims"] = record["claims"]
        if part not in self.bins:
            self.bins[part] = DocBin(store_user_data=True)
        self.bins[part].add(doc)

    def _note(self, lang: str, spans: list, ents) -> None:
        """What the training config needs to know of the data."""
        self.languages[lang] += 1
        self.ent_labels.update(e.label_ for e in ents)
        self.span_labels.update(s.label_ for s in spans)
        self.longest_span = max([self.longest_span, *(len(s) for s in spans)])

    def write(self, folder: Path) -> None:
        from spacy.tokens import DocBin

        split = any(part is not None for part in self.bins)
        for part in PARTS if split else ():
            self.bins.setdefault(part, DocBin(store_user_data=True))
        if not self.bins:
            self.bins[None] = DocBin(store_user_data=True)
        for part, docbin in self.bins.items():
            docbin.to_disk(folder / f"{part or 'data'}.spacy")
        if split:
            self._write_config(folder)

    def _write_config(self, folder: Path) -> None:
        from annotator.formats.spacy_config import CONFIG_FILE, config_language, training_config

        lang = config_language(self.languages)
        # spancat only where ner cannot hold the data: some spans overlap
        span_labels = sorted(self.span_labels) if self.stats["overlapping_spans_left_out_of_ents"] else []
        training_config(lang, span_labels, self.longest_span, SPANS_KEY).to_disk(folder / CONFIG_FILE)
        self.config = {
            "file": CONFIG_FILE,
            "lang": lang,
            "languages": dict(sorted(self.languages.items())),
            "pipeline": ["ner", "spancat"] if span_labels else ["ner"],
            "ner_labels": sorted(self.ent_labels),
            "spancat_labels": span_labels,
            "documents": {part: len(self.bins[part]) for part in PARTS},
        }

    def report(self) -> dict:
        return {
            "ents_rule": "longest first, then earliest, then label; overlaps stay only in doc.spans['sc']",
            "entities": self.stats["entities"],
            "overlapping_spans_left_out_of_ents": self.stats["overlapping_spans_left_out_of_ents"],
            "misaligned_spans": self.stats["misaligned_spans"],
            **({"config": self.config} if self.config else {}),
        }
