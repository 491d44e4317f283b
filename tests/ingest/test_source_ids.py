"""Source ids: the id a record brings (a JSONL "id", MeasEval's docId) names its document in
`show`, the layer JSON route and the pages, is carried by exports as a field of its own, and
names one text only: a clash is refused with file:line and nothing is stored."""

from __future__ import annotations

import json

from sqlalchemy import select

from annotator.db import Database, get_db
from annotator.models import Document, document_uid
from annotator.schema import record_schema
from tests.helpers import curator, give, log_in
from tests.ingest.test_importing import count, run, write_jsonl

EMOJI = "Sales rose 12 % 😀 in May.\r\nThen they fell."
PLAIN = "Nvidia shipped 50,000 chips to Shenzhen."


def _documents(app) -> dict[str, str | None]:
    with get_db(app).reading() as s:
        return dict(s.exec(select(Document.uid, Document.source_id)).all())


def test_show_and_export_by_source_id(cli, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "h-emoji", "text": EMOJI}, {"text": PLAIN}])
    assert cli("import", path).exit_code == 0
    shown = cli("show", "h-emoji", "--json")
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.output)
    assert record["id"] == document_uid(EMOJI) and record["source_id"] == "h-emoji"
    assert record["text"] == EMOJI and "source_id" not in record["meta"]
    assert record_schema().errors(record) == []
    # the uid still works, and a document without a source id has none in its record
    assert json.loads(cli("show", document_uid(EMOJI), "--json").output)["source_id"] == "h-emoji"
    assert "source_id" not in json.loads(cli("show", document_uid(PLAIN), "--json").output)
    missing = cli("show", "h-missing")
    assert missing.exit_code != 0 and "no document with id 'h-missing'" in missing.output
    out = tmp_path / "out"
    exported = cli("export", "--out", out, "--json")
    assert exported.exit_code == 0, exported.output
    files = list(out.rglob("*.jsonl"))
    rows = [json.loads(line) for f in files for line in f.read_text("utf-8").splitlines()]
    assert {r["id"]: r.get("source_id") for r in rows} == {document_uid(EMOJI): "h-emoji", document_uid(PLAIN): None}


def test_pages_and_the_layer_route_answer_to_the_source_id(app, labels, tmp_path):
    run(app, labels, write_jsonl(tmp_path / "d.jsonl", [{"id": "h-emoji", "text": EMOJI}, {"id": "p1", "text": PLAIN}]))
    uid = document_uid(EMOJI)
    lead = curator(app)
    record = lead.get("/documents/h-emoji/layers/suggestions.json")
    assert record.status_code == 200 and record.get_json()["id"] == uid
    # every page has one address: the source id redirects to the uid's
    for path, target in (
        ("/documents/h-emoji", f"/documents/{uid}"),
        ("/annotate/h-emoji", f"/annotate/{uid}"),
        ("/curate/h-emoji", f"/curate/{uid}"),
    ):
        response = lead.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(target), path
    assert lead.get("/documents/h-nothing").status_code == 404
    page = lead.get(f"/documents/{uid}").get_data(as_text=True)
    assert "Source id" in page and "h-emoji" in page
    assert "h-emoji" in lead.get(f"/annotate/{uid}").get_data(as_text=True)
    listing = lead.get("/").get_data(as_text=True)
    assert 'class="source-id"' in listing and ">h-emoji<" in listing and ">p1<" in listing
    # an annotator asking by source id for a document not assigned to them is refused all the same
    give(app, "alice", [document_uid(PLAIN)])
    alice = log_in(app, app.test_client(), "alice")
    assert alice.get("/documents/h-emoji/layers/alice.json").status_code == 403
    assert alice.get("/documents/p1/layers/alice.json").get_json()["id"] == document_uid(PLAIN)
    assert alice.get(alice.get("/annotate/h-emoji").headers["Location"]).status_code == 403


def test_one_id_for_two_texts_in_one_import_is_refused_with_both_lines(app, labels, tmp_path):
    path = write_jsonl(
        tmp_path / "d.jsonl", [{"id": "a1", "text": EMOJI}, {"text": "Other."}, {"id": "a1", "text": PLAIN}]
    )
    report = run(app, labels, path)
    assert not report.ok and report.refused_files == [path]
    messages = [str(p) for p in report.problems]
    assert any("d.jsonl:1" in m and "'a1' is given to 2 different texts" in m and "d.jsonl:3" in m for m in messages)
    assert count(app, Document) == 0  # the whole file, its good record too


def test_an_id_the_project_holds_for_another_text_is_refused(app, labels, tmp_path):
    assert run(app, labels, write_jsonl(tmp_path / "first.jsonl", [{"id": "a1", "text": EMOJI}])).ok
    before = _documents(app)
    clash = write_jsonl(tmp_path / "second.jsonl", [{"text": "Fine."}, {"id": "a1", "text": PLAIN}])
    report = run(app, labels, clash)
    assert not report.ok and report.refused_files == [clash]
    assert any("second.jsonl:2" in str(p) and "different text" in str(p) for p in report.problems)
    # a record whose id is another document's uid is refused too
    uid_clash = write_jsonl(tmp_path / "third.jsonl", [{"id": document_uid(EMOJI), "text": PLAIN}])
    assert not run(app, labels, uid_clash).ok
    assert _documents(app) == before
    # the same id with the same text again is a no-op, not a clash
    again = run(app, labels, write_jsonl(tmp_path / "again.jsonl", [{"id": "a1", "text": EMOJI}]))
    assert again.ok and (again.new, again.present) == (0, 1)


def test_show_settles_only_the_document_it_shows(cli, tmp_path):
    """Tokens and language come on first use; `show` pays that for its own document only
    (on a fresh 10,000-document import it used to tokenize them all)."""
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": EMOJI}, {"id": "b", "text": PLAIN}])
    assert cli("import", "--no-prehighlight", "--tokenize-later", path).exit_code == 0
    record = json.loads(cli("show", "a", "--json").output)
    assert record["tokens"] and record["lang"] != "xx"
    url = f"sqlite:///{tmp_path / 'instance' / 'annotator.sqlite3'}"
    with Database(url=url).reading() as s:
        waiting = dict(s.exec(select(Document.source_id, Document.tokens.is_(None))).all())
    assert waiting == {"a": False, "b": True}
