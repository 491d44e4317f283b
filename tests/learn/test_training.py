"""`annotator train` on a few handmade done gold documents: a tiny, bounded run (blank
tokenizer, two epochs), the folder it writes, loading and predicting, and its refusals."""

from __future__ import annotations

import itertools
import json

import orjson
import pytest

from annotator.learn.model import Prediction, TrainedModel

ORGS = ["Nvidia", "Intel", "Cerebras", "Graphcore", "Groq", "Tenstorrent"]
CHIPS = ["H100", "Gaudi 3", "WSE-3", "Bow IPU", "LPU", "Blackhole"]
AMOUNTS = ["80 GB", "3.35 TB/s", "44 GB", "900 MB", "230 MB", "32 GB"]
PROPERTIES = ["memory", "bandwidth", "on-chip memory", "SRAM", "cache", "memory capacity"]


def record(i: int) -> dict:
    """ORG makes PRODUCT, which has QUANTITY of PROPERTY: spans, a MAKES relation, a claim."""
    org, chip, amount, prop = ORGS[i % 6], CHIPS[(i + 1) % 6], AMOUNTS[(i + 2) % 6], PROPERTIES[i % 6]
    pieces = [(org, "ORG"), (" makes the ", None), (chip, "PRODUCT"), (", which has ", None)]
    pieces += [(amount, "QUANTITY"), (" of ", None), (prop, "PROPERTY"), (f". Batch {i} shipped late.", None)]
    text, spans = "", []
    for piece, label in pieces:
        if label:
            spans.append({"id": f"T{len(spans)}", "start": len(text), "end": len(text) + len(piece), "label": label})
        text += piece
    return {
        "text": text,
        "lang": "en",
        "spans": spans,
        "relations": [{"head": "T0", "child": "T1", "label": "MAKES"}],
        "claims": [{"quantity": "T2", "entity": "T1", "property": {"span": "T3"}}],
    }


@pytest.fixture
def gold(cli, tmp_path):
    """A project whose gold layer has 18 documents marked done; returns a train runner."""
    path = tmp_path / "gold.jsonl"
    path.write_bytes(b"".join(orjson.dumps(record(i)) + b"\n" for i in range(18)))
    result = cli("import", "--no-prehighlight", "--layer", "gold", "--done", path)
    assert result.exit_code == 0, result.output

    def train(out, *extra):
        return cli(
            "train", "--layer", "gold", "--out", out, "--base", "blank", "--epochs", 2, "--max-minutes", 1, *extra
        )

    return train


def numbers(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from numbers(value)
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield tree


@pytest.mark.slow
def test_train_writes_a_model_that_loads_and_predicts(gold, tmp_path):
    out = tmp_path / "model"
    result = gold(out, "--epochs", 12)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"pipeline", "labels.json", "linker.joblib", "metrics.json", "meta.json"}
    metrics = json.loads((out / "metrics.json").read_text())
    for kind in ("exact", "overlap"):
        assert {"ORG", "PRODUCT", "QUANTITY", "PROPERTY", "_micro"} <= set(metrics["spans"][kind])
        assert set(metrics["spans"][kind]["QUANTITY"]) >= {"precision", "recall", "f1"}
    assert {"entity", "property", "condition"} <= set(metrics["claims"]["given_gold_spans"])
    assert {"entity", "property"} <= set(metrics["claims"]["end_to_end"]["overlap"])
    assert metrics["components"]["ORG"]["component"] == "ner"
    assert metrics["components"]["PROPERTY"]["component"] == "spancat"
    curve = metrics["learning_curve"]
    assert [p["fraction"] for p in curve] == [0.25, 0.5, 0.75, 1.0]
    for point in curve:
        assert point["train_documents"] >= 1
        assert all(0.0 <= point[k] <= 1.0 for k in ("span_f1_exact", "span_f1_overlap", "claim_link_f1"))
    assert all(0.0 <= x <= 1.0 for x in numbers(metrics["spans"]) if isinstance(x, float))
    meta = json.loads((out / "meta.json").read_text())
    assert meta["layer"] == "gold" and meta["lang"] == "en" and meta["base"] == "blank"
    assert meta["documents"]["train"] + meta["documents"]["held_back"] == 18
    assert len(meta["labels_sha256"]) == 64 and meta["version"] and meta["trained_at"]
    assert json.loads((out / "labels.json").read_text())["claims"]["quantity"] == "QUANTITY"

    model = TrainedModel.load(out)
    assert (model.name, model.lang, model.path) == ("gold-en", "en", out)
    texts = [record(20)["text"], "", record(21)["text"]]
    predictions = model.predict(texts)
    assert len(predictions) == 3 and all(isinstance(p, Prediction) for p in predictions)
    assert predictions[1].spans == [] and predictions[1].claims == []
    assert predictions[0].spans and predictions[2].spans  # twelve epochs find the names it has seen
    for text, prediction in zip(texts, predictions):
        assert 0.0 <= prediction.uncertainty <= 1.0
        for span in prediction.spans:
            assert 0 <= span["start"] < span["end"] <= len(text) and text[span["start"] : span["end"]].strip()
            assert 0.0 <= span["score"] <= 1.0
        keys = {(s["start"], s["end"], s["label"]) for s in prediction.spans}
        for claim in prediction.claims:
            assert (*claim["quantity"], "QUANTITY") in keys and 0.0 <= claim["score"] <= 1.0
            assert all(claim[role] is None or claim[role] in keys for role in ("entity", "property", "condition"))
        for rel in prediction.relations:
            assert rel["head"] in keys and rel["child"] in keys and rel["label"] == "MAKES"

    again = gold(out)  # an earlier model is not replaced without --force
    assert again.exit_code != 0 and "--force" in again.output
    assert gold(out, "--force", "--seed", 3).exit_code == 0
    assert json.loads((out / "meta.json").read_text())["seed"] == 3
    assert not list(tmp_path.glob(".model.partial*"))


def test_a_layer_without_done_documents_is_refused(cli, tmp_path):
    path = tmp_path / "work.jsonl"
    path.write_bytes(orjson.dumps(record(0)) + b"\n")
    assert cli("import", "--no-prehighlight", "--layer", "gold", path).exit_code == 0  # in progress, not done
    out = tmp_path / "model"
    result = cli("train", "--layer", "gold", "--out", out)
    assert result.exit_code == 1 and "no documents marked done" in result.output
    assert not out.exists()
    result = cli("train", "--layer", "nobody", "--out", out)
    assert result.exit_code == 1 and "'nobody' has no documents marked done" in result.output


def test_bad_options_and_an_occupied_folder_are_refused(gold, tmp_path):
    out = tmp_path / "model"
    for split in ("0", "1", "1.5", "-0.2"):
        result = gold(out, "--eval-split", split)
        assert result.exit_code == 2 and "--eval-split" in result.output, split
    assert gold(out, "--max-minutes", "0").exit_code == 2
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    for extra in ((), ("--force",)):  # --force replaces only an earlier model folder
        result = gold(busy, *extra)
        assert result.exit_code == 1 and "busy" in result.output
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    result = gold(tmp_path / "m", "--base", "no_such_pipeline_here")
    assert result.exit_code == 1 and "no_such_pipeline_here" in result.output
    assert not (tmp_path / "m").exists()
    assert list(itertools.islice(tmp_path.iterdir(), 10))  # nothing else was touched


@pytest.mark.slow
def test_the_train_suggest_cycle_through_the_command_line(gold, cli, tmp_path):
    """train keeps the model in the project (active); import --model pre-highlights new
    documents with it and the rules; suggest re-suggests and never touches a decided one."""
    from sqlalchemy import select

    from annotator.annotate.suggestions import decide
    from annotator.cli.common import open_project
    from annotator.layers import find_layer
    from annotator.models import ClaimSuggestion, Document, Suggestion, SuggestionDecision

    out = tmp_path / "model"
    assert gold(out, "--epochs", 12).exit_code == 0
    listed = json.loads(cli("models", "--json").output)
    assert [(m["layer"], m["active"]) for m in listed] == [("gold", True)]
    assert listed[0]["metrics"]["learning_curve"][-1]["fraction"] == 1.0
    fresh = tmp_path / "new.txt"
    fresh.write_text(record(30)["text"] + "\n\n" + record(31)["text"], encoding="utf-8")
    result = cli("import", "--model", out, fresh)
    assert result.exit_code == 0, result.output
    project = open_project(None)
    with project.db.reading() as s:
        doc = s.exec(select(Document).where(Document.text == fresh.read_text(encoding="utf-8"))).scalars().one()
        rows = s.exec(select(Suggestion).where(Suggestion.document_id == doc.id)).scalars().all()
        claims = s.exec(select(ClaimSuggestion).where(ClaimSuggestion.document_id == doc.id)).scalars().all()
    # spaCy's own entities are model suggestions too; the trained model's carry its name
    by_model = [r for r in rows if (r.pipeline or "").startswith("model:")]
    assert by_model and all(r.pipeline == f"model:{listed[0]['name']}" and 0 <= r.score <= 1 for r in by_model)
    assert all(doc.text[r.start : r.end].strip() for r in rows)
    assert doc.uncertainty is not None and 0 <= doc.uncertainty <= 1
    assert claims and any(c.origin == "model" for c in claims)
    # someone decides one suggestion; suggest (with the active model) keeps it, replaces the rest
    decided = by_model[0]
    with project.db.writing() as s:
        d = s.get(Document, doc.id)
        layer = find_layer(s, d, "alice")
        decide(s, project.labels, d, "alice", "alice", layer.version if layer else 0, "rejected", ids=[decided.id])
    result = cli("suggest", "--documents", "all", "--json")
    assert result.exit_code == 0, result.output
    with project.db.reading() as s:
        again = s.exec(select(Suggestion).where(Suggestion.document_id == doc.id)).scalars().all()
        answers = s.exec(select(SuggestionDecision)).scalars().all()
    assert decided.id in {r.id for r in again} and [a.suggestion_id for a in answers] == [decided.id]
    assert sorted((r.start, r.end, r.label) for r in again) == sorted((r.start, r.end, r.label) for r in rows)
