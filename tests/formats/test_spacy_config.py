"""`--format spacy --split`: a config.cfg made by spaCy's own init_config that `spacy train`
runs as printed."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import spacy
from spacy.tokens import DocBin
from spacy.util import load_config

from annotator.db import get_db
from annotator.export.publish import export
from annotator.project import labels_of


def spacy_cli(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "spacy", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def test_the_config_names_the_parts_labels_and_language(seeded_app, tmp_path):
    result = export(
        get_db(seeded_app), labels_of(seeded_app), "suggestions", fmt="spacy", split="60/20/20", out_dir=tmp_path
    )
    report = result.manifest["spacy"]["config"]
    # the seeds are English and Portuguese, in one DocBin: spaCy's multi-language class
    assert report["languages"] == {"en": 4, "pt": 1} and report["lang"] == "xx"
    assert sum(report["documents"].values()) == 5
    assert report["pipeline"] == ["ner", "spancat"]  # the suggestions overlap: spancat is needed
    config = load_config(result.path / "config.cfg")
    assert config["nlp"]["lang"] == "xx" and config["nlp"]["pipeline"] == ["tok2vec", "ner", "spancat"]
    assert (config["paths"]["train"], config["paths"]["dev"]) == ("train.spacy", "dev.spacy")
    assert config["components"]["spancat"]["spans_key"] == "sc"
    labels = set(config["initialize"]["components"]["spancat"]["labels"])
    train = list(DocBin().from_disk(result.path / "train.spacy").get_docs(spacy.blank("xx").vocab))
    assert labels == set(report["spancat_labels"]) >= {s.label_ for d in train for s in d.spans["sc"]}
    assert "QUANTITY" in labels and set(report["ner_labels"]) <= labels
    overridden = load_config(
        result.path / "config.cfg", overrides={"paths.train": str(result.path / "train.spacy")}, interpolate=True
    )
    assert overridden["corpora"]["train"]["path"] == str(result.path / "train.spacy")
    checked = spacy_cli(
        "debug",
        "config",
        result.path / "config.cfg",
        "--paths.train",
        result.path / "train.spacy",
        "--paths.dev",
        result.path / "dev.spacy",
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def span(text: str, words: str, label: str) -> dict:
    start = text.index(words)
    return {"start": start, "end": start + len(words), "label": label}


def test_one_language_without_overlaps_is_ner_alone_and_trains_as_printed(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    texts = [f"Huawei shipped {i} chips to Berlin in week {i}." for i in range(10, 30)]
    rows = [
        {"text": t, "lang": "en", "spans": [{"start": 0, "end": 6, "label": "ORG"}, span(t, "Berlin", "GPE")]}
        for t in texts
    ]
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert cli("import", "--no-prehighlight", "--db", url, src).exit_code == 0
    out = tmp_path / "exports"
    result = cli("export", "--db", url, "--format", "spacy", "--split", "50/50/0", "--out", out)
    assert result.exit_code == 0, result.output
    version = out / "suggestions" / "v1.0.0"
    command = (
        f"python -m spacy train {version / 'config.cfg'} --paths.train {version / 'train.spacy'} "
        f"--paths.dev {version / 'dev.spacy'} --output models/suggestions-spacy"
    )
    assert "Train a spaCy model (ner, language 'en'):" in result.output and command in result.output
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["spacy"]["config"]["ner_labels"] == ["GPE", "ORG"]
    assert manifest["spacy"]["config"]["spancat_labels"] == [] and (version / "test.spacy").exists()
    config = load_config(version / "config.cfg")
    assert config["nlp"]["lang"] == "en" and config["nlp"]["pipeline"] == ["tok2vec", "ner"]
    started = time.monotonic()
    args = command.split()[4:]  # after "python -m spacy train"
    args[args.index("models/suggestions-spacy")] = tmp_path / "model"
    trained = spacy_cli("train", *args, "--training.max_steps", 2, "--training.eval_frequency", 1)
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert time.monotonic() - started < 60
    assert set(spacy.load(tmp_path / "model" / "model-last").get_pipe("ner").labels) == {"GPE", "ORG"}


def test_without_a_split_the_export_says_how_to_get_a_config(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    src = tmp_path / "a.txt"
    src.write_text("Some text.")
    cli("import", "--no-prehighlight", "--db", url, src)
    result = cli("export", "--db", url, "--format", "spacy", "--out", tmp_path / "exports")
    assert result.exit_code == 0 and "export with --split (e.g. 80/10/10)" in result.output
    assert not (tmp_path / "exports" / "suggestions" / "v1.0.0" / "config.cfg").exists()
