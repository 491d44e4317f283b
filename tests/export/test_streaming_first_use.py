"""First use settled in bulk: worker processes give the export exactly what one process gives."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from annotator.db import get_db
from annotator.export.publish import export
from annotator.ingest import first_use
from annotator.ingest.first_use import settle_all
from annotator.ingest.pipeline import import_paths
from annotator.models import Document, Suggestion, TokenArray
from annotator.project import labels_of
from tests.conftest import SEEDS, make_test_app
from tests.older_data import as_an_older_version_left

ANNOTATOR = str(Path(sys.executable).with_name("annotator"))
SEED_TEXTS = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]


def records(path, n: int) -> str:
    """n distinct seed-built texts (one with an emoji and CRLF), each with a QUANTITY span."""
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            text = f"Nota {i}: 10.000 unidades 🚀.\r\n" + SEED_TEXTS[i % len(SEED_TEXTS)][: rng.randint(300, 900)]
            spans = [{"start": text.index("10.000"), "end": text.index("10.000") + 6, "label": "QUANTITY"}]
            handle.write(json.dumps({"text": text, "spans": spans}, ensure_ascii=False) + "\n")
    return str(path)


def project(tmp_path, name: str, source: str):
    app = make_test_app(tmp_path / name)
    report = import_paths(get_db(app), [source], labels_of(app), None, settle=False)  # left for first use
    assert report.ok and report.new > 0, report.summary()
    as_an_older_version_left(app)  # the language too: settling detects it and reads the quantities again
    return app


def stored(app) -> list[tuple]:
    with get_db(app).reading() as s:
        docs = s.exec(select(Document.uid, Document.lang, Document.lang_source, Document.tokens)).all()
        arrays = s.exec(select(TokenArray.document_id, TokenArray.seal)).all()
        values = s.exec(select(Suggestion.start, Suggestion.value).order_by(Suggestion.id)).all()
    return sorted(map(tuple, docs)), sorted(map(tuple, arrays)), [tuple(v) for v in values]


def test_workers_settle_what_one_process_settles(tmp_path, monkeypatch):
    # Earlier tests can leave idle threads in this process (live servers), and with threads
    # about workers are not forked. These workers touch none of those threads' locks.
    monkeypatch.setattr(first_use, "forkable", lambda: True)
    source = records(tmp_path / "records.jsonl", 60)
    alone, pooled = project(tmp_path, "alone", source), project(tmp_path, "pooled", source)
    # a few documents stay in this process; many, or asked for, go to workers
    assert first_use.settling_workers(None, 60, get_db(pooled)) == 0
    assert first_use.settling_workers(2, 60, get_db(pooled)) == 2
    assert first_use.settling_workers(None, first_use.PARALLEL_MIN, get_db(pooled)) == min(2, first_use.cores()) or (
        first_use.cores() == 1
    )
    assert settle_all(get_db(alone), "QUANTITY", batch=7, workers=0) == 60
    assert settle_all(get_db(pooled), "QUANTITY", batch=7, workers=2) == 60  # 9 batches, 4 in flight
    assert stored(alone) == stored(pooled)
    docs, arrays, values = stored(pooled)
    assert all(tokens for *_rest, tokens in docs) and len(arrays) == 60
    assert {lang for _uid, lang, _source, _tokens in docs} == {"en", "pt"}
    # "10.000" read again in each detected language: ten thousand in Portuguese, ten in English
    assert {value for _start, value in values} == {10, 10000}
    assert settle_all(get_db(pooled), "QUANTITY", workers=2) == 0  # nothing left waiting


def test_first_export_with_workers_is_byte_identical(tmp_path):
    source = records(tmp_path / "records.jsonl", 40)
    alone, pooled = project(tmp_path, "alone", source), project(tmp_path, "pooled", source)
    one = export(get_db(alone), labels_of(alone), "suggestions", out_dir=tmp_path / "out1", workers=0)
    two = export(get_db(pooled), labels_of(pooled), "suggestions", out_dir=tmp_path / "out2", workers=2)
    data = [(r.path / "data.jsonl").read_bytes() for r in (one, two)]
    assert data[0] == data[1] and data[0].count(b"\n") == 40
    for line in data[1].splitlines():
        record = json.loads(line)
        for span in record["spans"]:
            assert record["text"][span["start"] : span["end"]] == span["text"]


def test_the_import_settles_on_workers_what_a_first_export_would(tmp_path):
    """The real command: an import of 1,000 documents without the pipeline settles them on
    forked workers as it stores them; one told to leave them waiting (--tokenize-later) has
    them settled by its first export instead. Both store the same and export the same bytes."""
    source = records(tmp_path / "records.jsonl", first_use.PARALLEL_MIN)
    exported, waiting = {}, {}
    for name, extra in (("at_import", []), ("on_first_use", ["--tokenize-later"])):
        instance = tmp_path / name
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ANNOTATOR_DATABASE_URL")}
        env["ANNOTATOR_INSTANCE_PATH"] = str(instance)
        steps = (["import", "--no-prehighlight", "-q", *extra, source], ["export", "-q", "--out", str(instance / "ex")])
        for step, args in enumerate(steps):
            done = subprocess.run([ANNOTATOR, *args], env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
            if step == 0:
                with sqlite3.connect(f"file:{instance / 'annotator.sqlite3'}?mode=ro", uri=True) as conn:
                    waiting[name] = conn.execute("SELECT count(*) FROM document WHERE tokens IS NULL").fetchone()[0]
        exported[name] = (instance / "ex" / "suggestions" / "v1.0.0" / "data.jsonl").read_bytes()
    assert waiting == {"at_import": 0, "on_first_use": first_use.PARALLEL_MIN}
    assert exported["at_import"] == exported["on_first_use"]
    assert exported["at_import"].count(b"\n") == first_use.PARALLEL_MIN


def test_an_import_writes_each_document_once_settled(tmp_path, db_url, monkeypatch):
    """Each document waits for its settled batch and goes in whole, tokens, language and
    array with it, never updated after (which would index its text twice on SQLite); parts
    of the insert straddle the workers' batches. The project holds what settling on first
    use gives."""
    from annotator.ingest import store

    monkeypatch.setattr(first_use, "forkable", lambda: True)  # see the first test
    monkeypatch.setattr(first_use, "PARALLEL_MIN", 10)
    monkeypatch.setattr(first_use, "BATCH", 4)
    monkeypatch.setattr(store, "INSERT_CHUNK", 6)
    source = records(tmp_path / "records.jsonl", 60)
    later = project(tmp_path, "later", source)
    assert settle_all(get_db(later), "QUANTITY", workers=0) == 60
    updates = []
    monkeypatch.setattr(first_use, "apply_settled", lambda conn, rows, *a: updates.append(len(rows)))
    now = make_test_app(tmp_path / "now", db_url)
    try:
        assert import_paths(get_db(now), [source], labels_of(now), None).new == 60
        assert updates == []  # nothing stored first and settled after
        assert stored(now) == stored(later)
        assert settle_all(get_db(now), "QUANTITY", workers=0) == 0  # nothing left waiting
        # "10.000" read in each detected language, once: ten thousand in Portuguese, ten in English
        assert {value for _start, value in stored(now)[2]} == {10, 10000}
    finally:
        get_db(now).dispose()
