"""Bad layer files found by fuzzing and by hand: each refused whole with file:line and the
reason, the rest of the file not stored, and nothing outside --text-dir ever read."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from annotator.db import get_db
from annotator.models import Claim, Document, Layer, Relation, Span
from tests.interchange import run_import

TABLES = (Document, Layer, Span, Relation, Claim)
TEXT = "Nvidia sold 50,000 chips in 2023."
HEADER = "docId\tannotSet\tannotType\tstartOffset\tendOffset\tannotId\ttext\tother"
PARAGRAPH = "The soils held about 12 mg per kg of nitrate."


def counts(app) -> dict:
    with get_db(app).reading() as s:
        return {m.__name__: s.exec(select(func.count()).select_from(m)).scalar_one() for m in TABLES}


def jsonl(path, *records) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def refused(app, paths, fmt="jsonl", **kw) -> list[str]:
    before = counts(app)
    report = run_import(app, paths, fmt=fmt, **kw)
    assert not report.ok and report.refused_files, report.problems
    assert counts(app) == before
    return [str(p) for p in report.problems]


def test_ids_of_the_wrong_type_are_refused_with_the_line(sqlite_xapp, tmp_path):
    good = {"text": TEXT, "spans": [{"id": 1, "start": 0, "end": 6, "label": "ORG"}]}
    path = jsonl(
        tmp_path / "layer.jsonl",
        good,
        {"text": TEXT + " A", "spans": [{"id": [1], "start": 0, "end": 6, "label": "ORG"}]},
        {"text": TEXT + " B", **good, "relations": [{"head": [0], "child": 1, "label": "MAKES"}]},
        {
            "text": TEXT + " C",
            "spans": [{"id": 1, "start": 12, "end": 18, "label": "QUANTITY"}],
            "claims": [{"quantity": {"id": 0}}],
        },
    )
    messages = refused(sqlite_xapp, [path])
    assert any(m.endswith("layer.jsonl:2: spans[0]: 'id' must be a string or a number") for m in messages)
    assert any("layer.jsonl:3: relations[0].head: no span has id [0]" in m for m in messages)
    assert any("layer.jsonl:4: claims[0]: 'quantity': no span has id {'id': 0}" in m for m in messages)
    assert counts(sqlite_xapp)["Document"] == 0  # the good first record is not stored either


def measeval_folder(tmp_path, rows: list[str]):
    (tmp_path / "text").mkdir(exist_ok=True)
    (tmp_path / "tsv").mkdir(exist_ok=True)
    (tmp_path / "text" / "D1.txt").write_text(PARAGRAPH, encoding="utf-8")
    (tmp_path / "tsv" / "D1.tsv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return tmp_path / "tsv"


def test_measeval_links_and_offsets_of_the_wrong_kind(sqlite_xapp, tmp_path):
    tsv = measeval_folder(
        tmp_path,
        [
            'D1\t1\tQuantity\t15\t33\tT1\tabout 12 mg per kg\t{"unit": "mg/kg"}',
            'D1\t1\tMeasuredEntity\t4\t9\tT2\tsoils\t{"HasQuantity": ["T1"]}',
            "D1\t2\tQuantity\t١٥\t33\tT1\tabout 12 mg per kg\t",
        ],
    )
    messages = refused(sqlite_xapp, [tsv], fmt="measeval")
    assert any("D1.tsv:3: HasQuantity must name one annotId as a string, not ['T1']" in m for m in messages)
    assert any("D1.tsv:4: startOffset and endOffset must be whole numbers" in m for m in messages)


def test_a_doc_id_never_reaches_outside_the_text_folder(sqlite_xapp, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("a private file next to the corpus", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    tsv = measeval_folder(corpus, ["../../secret\t1\tQuantity\t0\t1\tT1\ta\t"])
    messages = refused(sqlite_xapp, [tsv], fmt="measeval", text_dir=str(corpus / "text"))
    why = "is not a file name (no slash, backslash, leading dot or control character)"
    assert messages == [f"{tsv / 'D1.tsv'}:2: docId '../../secret' {why}"]
    # nothing of the secret file's length (33) or text leaks; the path itself may hold digits
    reason = messages[0].removeprefix(str(tsv / "D1.tsv"))
    assert "33" not in reason and "private" not in reason


def test_a_reader_that_fails_refuses_its_file_and_says_so(sqlite_xapp, tmp_path, monkeypatch):
    """The net under every reader: a failure nobody foresaw refuses that file with the reason
    (the fuzz tests hold the readers to never needing it); the other files still import."""
    import annotator.ingest.pipeline as pipeline

    real = pipeline._read_document_file

    def flaky(path, *args):
        if path.name == "bad.jsonl":
            raise TypeError("unhashable type: 'list'")
        return real(path, *args)

    monkeypatch.setattr(pipeline, "_read_document_file", flaky)
    jsonl(tmp_path / "bad.jsonl", {"text": TEXT})
    jsonl(tmp_path / "good.jsonl", {"text": TEXT + " Again."})
    report = run_import(sqlite_xapp, [tmp_path / "bad.jsonl", tmp_path / "good.jsonl"])
    assert report.refused_files == [str(tmp_path / "bad.jsonl")]
    [problem] = [str(p) for p in report.problems]
    assert "a reader failed on it; nothing was stored from it" in problem and "TypeError" in problem
    assert counts(sqlite_xapp)["Document"] == 1
