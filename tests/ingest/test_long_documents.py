"""Documents longer than spaCy reads at once: imported in pieces, every offset exact."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

from sqlalchemy import select

from annotator.db import get_db
from annotator.ingest.pipeline import import_paths
from annotator.models import Document, Suggestion
from annotator.nlp.pieces import cuts
from annotator.project import labels_of
from annotator.tokens import unpack
from tests.conftest import SEEDS

SEED_TEXTS = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]


def english_seeds() -> str:
    """The English seeds as one text of paragraphs, with an emoji and CRLF line ends."""
    return "\r\n\r\n".join(t for t in SEED_TEXTS if "Huawei lançou" not in t and " da " not in t) + " 🚀 done."


def test_pieces_give_what_the_whole_text_gives(prehighlighter):
    text = english_seeds()
    whole = next(prehighlighter.run([(text, "en")]))
    small = replace(prehighlighter, max_piece=2500, _pipelines=prehighlighter._pipelines)
    assert len(cuts(text, 2500)) >= 4  # really cut
    cut = next(small.run([(text, "en")]))
    whole, cut = asdict(whole), asdict(cut)
    # the rules list relations per pass, not in text order: the same ones, in any order
    assert sorted(cut.pop("relations"), key=relation_key) == sorted(whole.pop("relations"), key=relation_key)
    assert cut == whole
    assert whole["claims"]  # positions were moved, not only offsets


def relation_key(relation: dict) -> tuple:
    return relation["head"], relation["child"], relation["label"]


def test_a_long_text_among_short_ones_keeps_its_place_and_offsets(prehighlighter):
    long_text = english_seeds()
    items = [("Nvidia makes the H100 chip.", "en"), (long_text, "en"), ("It uses 700 W.", "en")]
    small = replace(prehighlighter, max_piece=1000, _pipelines=prehighlighter._pipelines)
    results = list(small.run(items))
    assert len(results) == 3
    for (text, _lang), highlighted in zip(items, results):
        assert highlighted.suggestions
        for s in highlighted.suggestions:
            assert 0 <= s["start"] < s["end"] <= len(text) and text[s["start"] : s["end"]].strip()
        for start, end in highlighted.tokens:
            assert text[start:end].strip() == text[start:end]
        for claim in highlighted.claims:
            assert highlighted.suggestions[claim["quantity"]]["label"] == "QUANTITY"


def million_characters() -> str:
    """1,000,001 characters of the Portuguese seed repeated (rules only: a fast real import)."""
    seed = next(t for t in SEED_TEXTS if "Huawei lançou" in t or " da " in t).replace("\n", "\r\n")
    text = ("🚀 " + seed + "\r\n\r\n") * (1_000_001 // (len(seed) + 6) + 1)
    return text[:1_000_001]


def test_a_document_of_a_million_characters_imports_whole(app, prehighlighter, tmp_path):
    text = million_characters()
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"text": text, "lang": "pt"}, ensure_ascii=False) + "\n", encoding="utf-8")
    report = import_paths(get_db(app), [str(path)], labels_of(app), prehighlighter)
    assert report.ok and report.new == 1, report.summary()
    with get_db(app).reading() as s:
        doc = s.exec(select(Document)).scalar_one()
        spans = s.exec(select(Suggestion.start, Suggestion.end).where(Suggestion.document_id == doc.id)).all()
    assert doc.text == text and len(doc.text) == 1_000_001
    assert len(spans) > 1000 and report.suggestions == len(spans)
    assert all(text[start:end].strip() == text[start:end] != "" for start, end in spans)
    tokens = unpack(doc.tokens)
    assert tokens[-1][1] <= len(text) and all(a[1] <= b[0] for a, b in zip(tokens, tokens[1:]))
