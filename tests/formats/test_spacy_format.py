"""`--format spacy`: a DocBin that spaCy reads back and `spacy train` trains on."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest
import spacy
from spacy.tokens import DocBin

from annotator.db import get_db
from annotator.export.publish import export
from annotator.ingest.pipeline import import_paths
from annotator.project import labels_of


def test_docbin_round_trip(seeded_app, tmp_path):
    jsonl = export(get_db(seeded_app), labels_of(seeded_app), "suggestions", out_dir=tmp_path)
    records = {r["id"]: r for r in map(orjson.loads, (jsonl.path / "data.jsonl").read_bytes().splitlines())}
    result = export(
        get_db(seeded_app), labels_of(seeded_app), "suggestions", name="spacy", fmt="spacy", out_dir=tmp_path
    )
    assert (result.path / "data.spacy").exists() and result.manifest["format"] == "spacy"
    docs = list(DocBin().from_disk(result.path / "data.spacy").get_docs(spacy.blank("xx").vocab))
    assert len(docs) == 5
    for doc in docs:
        record = records[doc.user_data["id"]]
        assert doc.text == record["text"]
        spans = {(s.start_char, s.end_char, s.label_) for s in doc.spans["sc"]}
        assert spans == {(s["start"], s["end"], s["label"]) for s in record["spans"]}
        ents = list(doc.ents)
        assert all(a.end <= b.start for a, b in zip(ents, ents[1:]))  # no overlaps in doc.ents
    report = result.manifest["spacy"]
    assert report["misaligned_spans"] == 0
    assert report["entities"] + report["overlapping_spans_left_out_of_ents"] == sum(
        len(r["spans"]) for r in records.values()
    )


def test_misaligned_spans_are_counted_not_shifted(app, tmp_path):
    src = tmp_path / "d.jsonl"
    # "vid" is inside the token "Nvidia": a Doc cannot hold it, the manifest says so
    src.write_text(
        '{"text": "Nvidia makes chips \\r\\n😀 in 2025.", "spans": [{"start": 1, "end": 4, "label": "ORG"}, '
        '{"start": 0, "end": 6, "label": "ORG"}]}\n'
    )
    import_paths(get_db(app), [str(src)], labels_of(app), None)
    result = export(get_db(app), labels_of(app), "suggestions", fmt="spacy", out_dir=tmp_path)
    [doc] = DocBin().from_disk(result.path / "data.spacy").get_docs(spacy.blank("xx").vocab)
    assert doc.text == "Nvidia makes chips \r\n😀 in 2025."
    assert [(e.text, e.label_) for e in doc.ents] == [("Nvidia", "ORG")]
    assert result.manifest["spacy"]["misaligned_spans"] == 1


@pytest.mark.slow
def test_spacy_train_runs_on_the_export(seeded_app, tmp_path):
    result = export(get_db(seeded_app), labels_of(seeded_app), "suggestions", fmt="spacy", out_dir=tmp_path)
    data = result.path / "data.spacy"
    config = tmp_path / "config.cfg"

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "spacy", *map(str, args)], capture_output=True, text=True, timeout=300
        )

    made = run("init", "config", config, "--lang", "en", "--pipeline", "ner", "--optimize", "efficiency", "--force")
    assert made.returncode == 0, made.stderr
    trained = run(
        "train",
        config,
        "--output",
        tmp_path / "model",
        "--paths.train",
        data,
        "--paths.dev",
        data,
        "--training.max_steps",
        6,
        "--training.eval_frequency",
        3,
        "--nlp.batch_size",
        8,
    )
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    nlp = spacy.load(tmp_path / "model" / "model-last")
    assert set(nlp.get_pipe("ner").labels) <= set(labels_of(seeded_app).entity_labels)
    assert "QUANTITY" in nlp.get_pipe("ner").labels
