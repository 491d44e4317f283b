"""CoNLL IOB2 export: one token a line, sentences, non-overlapping entities, counted losses."""

from __future__ import annotations

import pytest

from annotator.db import get_db
from annotator.export.publish import export
from annotator.project import labels_of
from tests.interchange import at, records, run_export, run_import, write_jsonl


def parse(path) -> list[list[list[tuple[str, str]]]]:
    """Documents -> sentences -> (token, tag)."""
    docs: list = []
    sentence: list = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line == "-DOCSTART- -X- O O":
            docs.append([])
        elif line:
            token, tag = line.split("\t")
            sentence.append((token, tag))
        elif sentence:
            docs[-1].append(sentence)
            sentence = []
    assert not sentence, "the file ends with a blank line"
    return docs


def assert_iob2(sentence: list[tuple[str, str]]) -> None:
    previous = "O"
    for _, tag in sentence:
        if tag.startswith("I-"):
            assert previous != "O" and previous[2:] == tag[2:], sentence
        previous = tag


def test_iob2_sentences_and_overlaps(xapp, tmp_path):
    app = xapp
    text = (
        "Huawei makes the Ascend 910C chips.\r\nIt has up to 1.1 TB/s of bandwidth 😀\nNvidia makes the H100. It sells."
    )
    spans = [
        (*at(text, "Huawei"), "ORG"),
        (*at(text, "Ascend 910C"), "PRODUCT"),
        (*at(text, "Ascend"), "ORG"),
        (*at(text, "up to 1.1 TB/s"), "QUANTITY"),
        (*at(text, "Nvidia"), "ORG"),
        (*at(text, "H100"), "PRODUCT"),
        (1, 4, "ORG"),
    ]  # an overlap (Ascend) and a span inside a token (uaw)
    record = {"text": text, "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]}
    assert run_import(app, [write_jsonl(tmp_path / "a.jsonl", [record])]).ok
    result = run_export(app, tmp_path, fmt="conll")
    [doc] = parse(result.path / "data.conll")
    for sentence in doc:
        assert_iob2(sentence)
    assert [[t for t, _ in s] for s in doc] == [
        ["Huawei", "makes", "the", "Ascend", "910C", "chips", "."],
        ["It", "has", "up", "to", "1.1", "TB", "/", "s", "of", "bandwidth", "😀"],  # a line break ends a sentence
        ["Nvidia", "makes", "the", "H100", "."],
        ["It", "sells", "."],
    ]
    assert doc[0][3:5] == [("Ascend", "B-PRODUCT"), ("910C", "I-PRODUCT")]  # the longer span wins
    assert [tag for _, tag in doc[1][2:8]] == ["B-QUANTITY"] + ["I-QUANTITY"] * 5
    report = result.manifest["conll"]
    assert (report["entities"], report["overlapping_spans_left_out"], report["misaligned_spans"]) == (5, 1, 1)
    assert (report["sentences"], report["tokens"], report["documents"]) == (4, 26, 1)
    [rec] = records(run_export(app, tmp_path, fmt="jsonl"))
    assert report["tokens"] == len(rec["tokens"])  # exactly the stored tokens


def test_a_sentence_never_splits_an_entity(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    text = "Made by Huawei\nTechnologies. Done."
    assert run_import(
        app,
        [
            write_jsonl(
                tmp_path / "a.jsonl",
                [{"text": text, "spans": [{"start": 8, "end": at(text, "Technologies")[1], "label": "ORG"}]}],
            )
        ],
    ).ok
    [doc] = parse(run_export(app, tmp_path, fmt="conll").path / "data.conll")
    assert doc[0] == [("Made", "O"), ("by", "O"), ("Huawei", "B-ORG"), ("Technologies", "I-ORG"), (".", "O")]


def test_seed_suggestions_give_valid_conll(seeded_app, tmp_path):
    result = export(
        get_db(seeded_app), labels_of(seeded_app), "suggestions", fmt="conll", out_dir=tmp_path, split="60/20/20"
    )
    files = sorted(p.name for p in result.path.glob("*.conll"))
    assert set(files) <= {"train.conll", "dev.conll", "test.conll"} and files
    docs = [d for name in files for d in parse(result.path / name)]
    assert len(docs) == 5
    for doc in docs:
        for sentence in doc:
            assert_iob2(sentence)
    report = result.manifest["conll"]
    assert report["tokens"] == result.manifest["counts"]["tokens"]
    assert report["entities"] + report["overlapping_spans_left_out"] + report["misaligned_spans"] == sum(
        result.manifest["counts"]["spans"].values()
    )
    assert report["entities"] == sum(tag.startswith("B-") for d in docs for s in d for _, tag in s)


def test_spacy_reads_one_document_per_exported_document(seeded_app, tmp_path):
    """spaCy's CoNLL converter (what `spacy convert` runs) takes the separator line for a
    document boundary, not for a document of its own."""
    from spacy.training.converters import conll_ner_to_docs

    result = export(get_db(seeded_app), labels_of(seeded_app), "suggestions", fmt="conll", out_dir=tmp_path)
    text = (result.path / "data.conll").read_text(encoding="utf-8")
    assert text.startswith("-DOCSTART- -X- O O\n\n")
    for n_sents in (1, 10):
        docs = list(conll_ner_to_docs(text, n_sents=n_sents, no_print=True))
        assert len(docs) == 5 and all(len(doc) > 100 for doc in docs)


@pytest.mark.parametrize("fmt", ["conll", "brat", "measeval"])
def test_empty_layer_still_publishes(sqlite_xapp, tmp_path, fmt):
    # gold with nothing curated: a layer of the project with no document to export (a layer
    # the project does not have is refused instead, tests/cli/test_export_import_checks.py)
    result = export(get_db(sqlite_xapp), labels_of(sqlite_xapp), "gold", fmt=fmt, out_dir=tmp_path)
    assert result.manifest["documents"] == 0 and result.path.is_dir()
