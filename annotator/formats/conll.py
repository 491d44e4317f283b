"""CoNLL IOB2 out: `annotator export --format conll`, for token classifiers.

    data.conll   (train.conll, dev.conll, test.conll with --split)

One token a line, `token<TAB>tag`, tags IOB2 (B-ORG, I-ORG, O); a blank line ends a
sentence; each document starts with the standard `-DOCSTART- -X- O O` line and a blank line. Tokens are
the record's stored tokens (whitespace is not a token). Sentences come from spaCy's
rule-based sentencizer over those tokens, plus a boundary after every line break (titles
and paragraphs without final punctuation), and never inside an entity. Entities cannot
overlap in IOB2: they are chosen by the rule of the spaCy export (spacy_docbin.pick_entities:
longest first, then earliest, then by label); the overlapping spans left out and the spans
that do not fall on token boundaries are counted in the manifest.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from annotator.formats.spacy_docbin import doc_from_record, pick_entities

DOC_START = "-DOCSTART- -X- O O\n\n"  # the CoNLL-2003 separator line, as spaCy's converters read it


class ConllWriter:
    def __init__(self, labels, folder: Path):
        import spacy

        nlp = spacy.blank("xx")
        self.sentencizer = nlp.add_pipe("sentencizer")
        self.vocab = nlp.vocab
        self.folder = folder
        self.handles: dict[str, object] = {}
        self.stats: Counter = Counter()

    def add(self, record: dict, part: str | None) -> None:
        name = f"{part or 'data'}.conll"
        if name not in self.handles:
            # one handle per split part, open across add() calls and closed by write()
            self.handles[name] = open(self.folder / name, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.handles[name].write(self.conll(record))
        self.stats["documents"] += 1

    def conll(self, record: dict) -> str:
        doc = self.sentencizer(doc_from_record(self.vocab, record))
        spans = []
        for s in record["spans"]:
            span = doc.char_span(s["start"], s["end"], label=s["label"], alignment_mode="strict")
            if span is None:
                self.stats["misaligned"] += 1
            else:
                spans.append(span)
        ents, dropped = pick_entities(spans)
        self.stats["dropped"] += dropped
        self.stats["entities"] += len(ents)
        tags = ["O"] * len(doc)
        for ent in ents:
            words = [t.i for t in ent if not t.is_space]
            for k, i in enumerate(words):
                tags[i] = ("B-" if k == 0 else "I-") + ent.label_
        _line_breaks_start_sentences(doc)
        for ent in ents:
            for token in ent[1:]:
                token.is_sent_start = False  # IOB2 cannot continue an entity across a blank line
        out = [DOC_START]
        for sent in doc.sents:
            lines = [f"{t.text}\t{tags[t.i]}\n" for t in sent if not t.is_space]
            if lines:
                out += lines
                out.append("\n")
                self.stats["sentences"] += 1
                self.stats["tokens"] += len(lines)
        return "".join(out)

    def write(self, folder: Path) -> None:
        if not self.handles:  # an empty layer still gets its (empty) file
            (folder / "data.conll").write_text("")
        for handle in self.handles.values():
            handle.close()

    def report(self) -> dict:
        return {
            "scheme": "IOB2",
            "columns": ["token", "tag"],
            "documents": self.stats["documents"],
            "sentences": self.stats["sentences"],
            "tokens": self.stats["tokens"],
            "sentence_rule": "spaCy sentencizer on the stored tokens, plus a boundary after each line break; "
            "never inside an entity",
            "ents_rule": "longest first, then earliest, then label; a span overlapping one already taken is left out",
            "entities": self.stats["entities"],
            "overlapping_spans_left_out": self.stats["dropped"],
            "misaligned_spans": self.stats["misaligned"],
        }


def _line_breaks_start_sentences(doc) -> None:
    for token in doc[:-1]:
        if token.is_space and "\n" in token.text:
            doc[token.i + 1].is_sent_start = True
