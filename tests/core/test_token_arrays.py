"""Token arrays: made and validated once with the tokens, spliced into exports only while
their seal holds; a refused or missing array gives the same bytes the long way."""

from __future__ import annotations

import json

import orjson
import pytest
from sqlalchemy import delete, func, select, update

from annotator.db import get_db
from annotator.export.chunks import ExportError, check, dump
from annotator.export.publish import export
from annotator.export.records import get_record, iter_records
from annotator.ingest.pipeline import import_paths
from annotator.models import ClaimSuggestion, Document, RelationSuggestion, TokenArray
from annotator.project import labels_of
from annotator.schema import load_schema
from annotator.schema.token_arrays import (
    SealedArray,
    StoredTokensError,
    export_tokens,
    fill_token_arrays,
    make_array,
    seal,
    splits,
    token_dicts,
)
from annotator.tokens import pack


def do_export(app, tmp_path, name, **kw):
    return export(get_db(app), labels_of(app), "suggestions", name=name, out_dir=tmp_path / "exports", **kw)


def arrays(app) -> dict[int, TokenArray]:
    with get_db(app).reading() as session:
        return {row.document_id: row for row in session.exec(select(TokenArray)).scalars()}


def test_arrays_are_kept_with_the_tokens_and_match_the_records(seeded_app):
    kept = arrays(seeded_app)
    with get_db(seeded_app).reading() as session:
        docs = session.exec(select(Document)).scalars().all()
        assert sorted(kept) == sorted(d.id for d in docs)  # the import kept one per document
        for doc in docs:
            record = get_record(session, doc.uid, "suggestions", "QUANTITY")
            assert orjson.loads(kept[doc.id].data) == record["tokens"]
            assert kept[doc.id].seal == seal(doc.tokens, kept[doc.id].data, len(doc.text))


def test_documents_tokenized_on_first_use_get_arrays(app, tmp_path):
    src = tmp_path / "docs.jsonl"
    src.write_text(json.dumps({"text": "Huawei shipped 10,000 Ascend 910C chips."}) + "\n")
    import_paths(get_db(app), [str(src)], labels_of(app), None, settle=False)  # left for first use: no tokens yet
    assert arrays(app) == {}
    result = do_export(app, tmp_path, "first")  # tokens, then arrays, before the export reads
    ((doc_id, row),) = arrays(app).items()
    record = orjson.loads((result.path / "data.jsonl").read_bytes())
    assert orjson.loads(row.data) == record["tokens"] and len(record["tokens"]) == 7


def test_export_with_and_without_kept_arrays_is_the_same(seeded_app, tmp_path):
    kept = do_export(seeded_app, tmp_path / "a", "kept")
    with get_db(seeded_app).writing() as session:
        session.execute(delete(TokenArray))
    with get_db(seeded_app).reading() as session:  # the long way: token objects, validated whole
        records = list(iter_records(session, "suggestions", "QUANTITY", sealed=True))
    assert records and not any(isinstance(r["tokens"], SealedArray) for r in records)
    assert b"".join(map(dump, records)) == (kept.path / "data.jsonl").read_bytes()
    assert do_export(seeded_app, tmp_path / "b", "again").manifest["records_sha256"] == kept.manifest["records_sha256"]
    assert len(arrays(seeded_app)) == 5  # made again before that export


def test_an_array_that_does_not_match_its_document_is_refused(seeded_app, tmp_path):
    before = do_export(seeded_app, tmp_path / "a", "before")
    with get_db(seeded_app).reading() as session:
        first, second = session.exec(select(Document).order_by(Document.id).limit(2)).scalars().all()
    other = arrays(seeded_app)[second.id]
    with get_db(seeded_app).writing() as session:  # another document's array, sealed for it
        session.execute(
            update(TokenArray).where(TokenArray.document_id == first.id).values(data=other.data, seal=other.seal)
        )
    with get_db(seeded_app).reading() as session:
        row = (
            session.connection()
            .execute(
                select(Document.uid, Document.text, TokenArray.seal, TokenArray.data)
                .join(TokenArray, TokenArray.document_id == Document.id)
                .where(Document.id == first.id)
            )
            .one()
        )
    assert not isinstance(export_tokens(row, first.tokens), SealedArray)
    after = do_export(seeded_app, tmp_path / "b", "after")
    assert (after.path / "data.jsonl").read_bytes() == (before.path / "data.jsonl").read_bytes()


def test_an_altered_array_or_changed_tokens_are_refused(seeded_app):
    with get_db(seeded_app).reading() as session:
        doc = session.exec(select(Document).order_by(Document.id)).scalars().first()
    data = make_array(doc.text, doc.tokens, doc.uid)

    class Row:  # what an export reads of a document
        uid, text = doc.uid, doc.text

    Row.data, Row.seal = data, seal(doc.tokens, data, len(doc.text))
    assert isinstance(export_tokens(Row, doc.tokens), SealedArray)
    Row.data = data.replace(b'"end":', b'"end": ', 1)  # the same tokens, other bytes
    assert export_tokens(Row, doc.tokens) == token_dicts(doc.tokens)
    Row.data = data
    shorter = doc.tokens[:-8]  # the document's tokens are no longer those the array was made from
    assert export_tokens(Row, shorter) == token_dicts(shorter)
    with pytest.raises(StoredTokensError, match="outside the text"):
        export_tokens(Row, doc.tokens + pack([(0, len(doc.text) + 1)]))  # no seal vouches for these: checked

    class Longer(Row):  # the same offsets and bytes, sealed for a text of another length
        text = doc.text + "!"

    assert export_tokens(Longer, doc.tokens) == token_dicts(doc.tokens)


def test_arrays_made_under_another_schema_are_made_again(seeded_app):
    with get_db(seeded_app).writing() as session:
        session.execute(update(TokenArray).values(schema_sha256="0" * 64, seal="0" * 64))
    assert fill_token_arrays(get_db(seeded_app)) == 5
    with get_db(seeded_app).reading() as session:
        docs = {d.id: d for d in session.exec(select(Document)).scalars()}
    assert all(row.seal == seal(docs[i].tokens, row.data, len(docs[i].text)) for i, row in arrays(seeded_app).items())
    assert fill_token_arrays(get_db(seeded_app)) == 0


def test_tokens_that_do_not_fit_get_no_array(seeded_app, tmp_path):
    with get_db(seeded_app).writing() as session:
        doc = session.exec(select(Document).order_by(Document.id)).scalars().first()
        doc.tokens = pack([(0, 3), (5, len(doc.text) + 1)])
        session.execute(delete(TokenArray).where(TokenArray.document_id == doc.id))
    with pytest.raises(StoredTokensError):
        make_array(doc.text, doc.tokens, doc.uid)
    with pytest.raises(ExportError, match="token offsets outside the text"):
        do_export(seeded_app, tmp_path, "bad")
    with get_db(seeded_app).reading() as session:
        assert session.exec(select(func.count()).select_from(TokenArray)).scalar_one() == 4


def test_the_rest_of_a_record_with_a_kept_array_is_still_validated(seeded_app):
    with get_db(seeded_app).reading() as session:
        record = next(iter_records(session, "suggestions", "QUANTITY", sealed=True))
    assert isinstance(record["tokens"], SealedArray)
    check(record, tokens_checked=True)
    with pytest.raises(ExportError, match=r"\$.spans\[0\].label"):
        check({**record, "spans": [{**record["spans"][0], "label": ""}]}, tokens_checked=True)
    with pytest.raises(ExportError, match="differs from the document text"):
        check({**record, "spans": [{**record["spans"][0], "text": "?"}]}, tokens_checked=True)


def test_the_schema_splits_into_tokens_and_the_rest_only_when_nothing_ties_them():
    schema = load_schema()
    assert splits(schema)
    assert not splits({**schema, "dependentRequired": {"tokens": ["spans"]}})
    assert not splits({**schema, "if": {"required": ["tokens"]}, "then": {"required": ["spans"]}})
    assert not splits({**schema, "properties": {k: v for k, v in schema["properties"].items() if k != "tokens"}})
    assert not splits({**schema, "properties": {**schema["properties"], "tokens": {"type": "array", "minItems": 1}}})


def test_arrays_sealed_by_an_older_release_are_dropped_by_the_upgrade_and_made_again(seeded_app, tmp_path):
    from alembic import command

    from annotator.db import alembic_config, upgrade

    db = get_db(seeded_app)
    with db.writing() as session:  # suggested claims and relations (0009) do not live through a downgrade to 0005
        session.execute(delete(ClaimSuggestion))
        session.execute(delete(RelationSuggestion))
    before = do_export(seeded_app, tmp_path / "a", "before")
    url = db.engine.url.render_as_string(hide_password=False)
    command.downgrade(alembic_config(url), "0005")
    fill_token_arrays(db)
    with db.writing() as session:  # as the release before 0006 sealed them: without the text length
        session.execute(update(TokenArray).values(seal="0" * 64))
    upgrade(url)
    assert arrays(seeded_app) == {}
    after = do_export(seeded_app, tmp_path / "b", "after")
    with db.reading() as session:
        docs = {d.id: d for d in session.exec(select(Document)).scalars()}
    kept = arrays(seeded_app)
    assert sorted(kept) == sorted(docs)
    assert all(row.seal == seal(docs[i].tokens, row.data, len(docs[i].text)) for i, row in kept.items())
    assert (after.path / "data.jsonl").read_bytes() == (before.path / "data.jsonl").read_bytes()
