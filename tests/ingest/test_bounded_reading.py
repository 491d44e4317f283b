"""An import's memory: a JSONL file is read a line at a time, never held whole, with the
same refusals as a whole-file read; a large import forks its settling workers before it
reads, so they do not inherit the documents read; and past a budget it lets go of each text
once read, reading it again, checked, as its document is stored."""

from __future__ import annotations

import errno
import gc
import json
import multiprocessing
import os
import pickle
import sys
import tempfile
import tracemalloc

import pytest
from sqlalchemy import select

from annotator.db import get_db
from annotator.formats import jsonl
from annotator.formats.files import decode
from annotator.formats.labelmap import LabelMap, Unknowns
from annotator.ingest import first_use, pipeline
from annotator.ingest.first_use import settling_workers
from annotator.models import Document, Suggestion, document_uid
from annotator.project import labels_of

TEXT = "Huawei shipped 10,000 Ascend 910C chips, a 25 percent rise from the year before; " * 100


def test_a_jsonl_file_is_never_held_whole(labels, tmp_path):
    """Read whole, a file was held as bytes, as text and as a list of lines at once (three
    times its size) on top of the records it made; read a line at a time, the peak stays
    near what the records hold."""
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(1200):
            handle.write(json.dumps({"text": f"{i} {TEXT}"}) + "\n")
    size = path.stat().st_size
    assert size > 8_000_000
    tracemalloc.start()
    try:
        read = jsonl.read_jsonl_file(path, labels, Unknowns(labels, LabelMap()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(read.docs) == 1200 and not read.problems
    held = sum(len(d.text) for d in read.docs)
    assert held > 0.95 * size
    assert peak < held + size // 2, (peak, held, size)


def test_a_problem_anywhere_refuses_the_file_before_any_record_is_read(app, labels, tmp_path):
    """A byte that is not UTF-8 on the last line refuses the file as a whole-file read did,
    with the same message, and no record before it counts: its unknown label is not
    reported, so the other file still imports."""
    bad = tmp_path / "bad.jsonl"
    record = {"text": "Caf\u00e9 noir.", "spans": [{"start": 0, "end": 4, "label": "NO_SUCH_LABEL"}]}
    payload = b"\xef\xbb\xbf" + json.dumps(record).encode() + b"\r\n\r\n" + b'{"text": "caf\xe9"}\n'
    bad.write_bytes(payload)
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "Fine text."}) + "\n", encoding="utf-8")
    report = pipeline.import_paths(get_db(app), [str(bad), str(good)], labels, None)
    expected = decode(payload, str(bad))[1]
    assert [str(p) for p in report.problems] == [str(expected)]
    assert (expected.line, "byte 0xe9 at offset" in expected.message) == (3, True)
    assert report.refused_files == [str(bad)] and report.new == 1


SETTLED_BY: list = []  # set per test: where _settle_rows_recorded writes the pid settling a batch
_real_settle_rows = first_use._settle_rows


def _settle_rows_recorded(rows):
    """first_use._settle_rows, writing down which process ran it (module level: the pool
    pickles the function by name, and a forked worker finds it here)."""
    with open(SETTLED_BY[0], "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    return _real_settle_rows(rows)


def test_a_large_import_forks_its_workers_before_reading_and_settles_in_them(app, labels, tmp_path, monkeypatch):
    db = get_db(app)
    expected = settling_workers(None, 10**6, db)
    seen = []
    real = pipeline.read_files

    def reading(*args, **kwargs):
        seen.append(len(multiprocessing.active_children()))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_files", reading)
    monkeypatch.setattr(pipeline, "EARLY_POOL_BYTES", 1)
    monkeypatch.setattr(first_use, "PARALLEL_MIN", 2)
    monkeypatch.setattr(first_use, "BATCH", 2)
    monkeypatch.setattr(first_use, "_settle_rows", _settle_rows_recorded)
    monkeypatch.setattr(sys.modules[__name__], "SETTLED_BY", [str(tmp_path / "pids")])
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"text": f"{i} {TEXT[:400]}"}) + "\n" for i in range(5)), encoding="utf-8")
    report = pipeline.import_paths(db, [str(path)], labels, None)
    assert report.ok and report.new == 5
    assert seen == [expected]  # forked before the first file was read (none where none can be)
    settled_by = set((tmp_path / "pids").read_text().split())
    assert (os.getpid() not in map(int, settled_by)) == (expected > 0), settled_by  # ... and those settled
    assert multiprocessing.active_children() == []  # none outlives the import
    with db.reading() as s:
        assert all(tokens for tokens in s.exec(select(Document.tokens)).scalars())


def test_the_input_size_counts_what_it_can_see(tmp_path):
    (tmp_path / "a.jsonl").write_text("x" * 10, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("yy", encoding="utf-8")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere")  # a dangling link: the reader's to report
    assert pipeline.input_bytes([str(tmp_path), str(tmp_path / "missing"), str(tmp_path / "a.jsonl")]) == 22


# Texts of several shapes: a byte-order mark, CRLF, a line separator inside a JSON string,
# emoji and a script beyond Latin-1, each as a .txt file and as a JSONL record.
SHAPES = (
    "\ufeffHuawei shipped 10,000 Ascend 910C chips.\r\nUp 25 percent.",
    "Nvidia's H100 🚀 draws 700 W\u2028and weighs 1.2 kg.",
    "В 2024 году продано 5000 чипов; 東京 shipped 3 GB.",
)


def _shapes_corpus(folder):
    folder.mkdir()
    for i, text in enumerate(SHAPES):
        (folder / f"{i}.txt").write_bytes(text.encode("utf-8"))
    records = [
        {"text": f"{i} {text.lstrip(chr(0xFEFF))}", "spans": [{"start": 0, "end": 1, "label": "QUANTITY"}]}
        for i, text in enumerate(SHAPES * 3)
    ]
    (folder / "records.jsonl").write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in records).encode())
    return len(SHAPES) + len(records)


def _stored(db) -> list[tuple]:
    with db.reading() as s:
        docs = s.exec(select(Document.uid, Document.text, Document.n_chars, Document.title, Document.lang)).all()
        rows = s.exec(select(Suggestion.document_id, Suggestion.start, Suggestion.end, Suggestion.label)).all()
    return sorted(map(tuple, docs)), sorted(map(tuple, rows))


def test_texts_let_go_of_as_read_come_back_exactly_as_stored(tmp_path, monkeypatch):
    """Past HELD_CHARS an import keeps no text it has read; each is read again from its file
    as its document is stored, the same text to the code point (its id checked again)."""
    from tests.conftest import make_test_app

    n = _shapes_corpus(tmp_path / "docs")
    results = []
    for held in (10**9, 0):  # every text held; none held
        monkeypatch.setattr(pipeline, "HELD_CHARS", held)
        app = make_test_app(tmp_path / f"held{held}")
        db = get_db(app)
        report = pipeline.import_paths(db, [str(tmp_path / "docs")], labels_of(app), None)
        assert report.ok and report.new == n, report.problems
        results.append(_stored(db))
        db.dispose()
    assert results[0] == results[1]
    docs = results[1][0]
    assert {text for _, text, *_ in docs} >= {t.lstrip("\ufeff") for t in SHAPES}
    assert all(uid == document_uid(text) and n_chars == len(text) for uid, text, n_chars, *_ in docs)


def test_a_document_import_past_its_budget_holds_no_text_it_has_read(labels, tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(600):
            handle.write(json.dumps({"text": f"{i} {TEXT}"}) + "\n")
    options = pipeline.Options(held=pipeline.Held(len(TEXT) * 100))  # about 100 texts' worth
    tracemalloc.start()
    try:
        [read], problems = pipeline.read_files([str(path)], labels, Unknowns(labels, LabelMap()), options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not problems and len(read.docs) == 600
    kept = [d for d in read.docs if d.text is not None]
    assert 95 <= len(kept) <= 105 and kept == read.docs[: len(kept)]  # the first ones, then none
    assert all(d.uid and d.text_at.path == str(path) for d in read.docs)
    held = sum(len(f"{i} {TEXT}") for i in range(600))
    assert peak < held * 0.4, (peak, held)  # read whole it was more than the texts


def test_a_file_changed_before_its_texts_are_read_again_stops_the_import_with_nothing_half_stored(
    app, labels, tmp_path, monkeypatch
):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(6):
        (folder / f"{i}.txt").write_text(f"Document {i}: {TEXT[:300]}", encoding="utf-8")
    real = pipeline.read_files

    def reading(*args, **kwargs):
        read = real(*args, **kwargs)
        (folder / "3.txt").write_text("Rewritten meanwhile.", encoding="utf-8")
        return read

    monkeypatch.setattr(pipeline, "read_files", reading)
    monkeypatch.setattr(pipeline, "HELD_CHARS", 0)
    from annotator.ingest import store

    monkeypatch.setattr(store, "GROUP", 2)  # files 0-1, 2-3, 4-5: the second group fails
    monkeypatch.setattr(first_use, "BATCH", 2)  # ...and its texts are read again with it
    db = get_db(app)
    report = pipeline.import_paths(db, [str(folder)], labels, None)
    [problem] = report.problems
    assert problem.path == str(folder / "3.txt") and "changed or went away during this import" in problem.message
    assert report.failed and report.new == 2
    with db.reading() as s:
        stored = s.exec(select(Document.source, Document.text)).all()
    assert sorted(source for source, _ in stored) == [str(folder / "0.txt"), str(folder / "1.txt")]
    assert all(text.startswith("Document ") for _, text in stored)


@pytest.mark.parametrize("settle", [True, False], ids=["settled", "tokens-later"])
def test_storing_a_file_of_records_reads_its_texts_back_a_batch_at_a_time(tmp_path, monkeypatch, settle):
    """A document import stores a file in one transaction; a text read again is let go of
    once its batch is inserted, not when the whole file is, so the texts never all come back.
    Counted at every insert: how many of the documents read hold their text."""
    from annotator.ingest import store
    from tests.conftest import make_test_app

    path = tmp_path / "records.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(300):
            handle.write(json.dumps({"text": f"{i} {TEXT}", "lang": "en"}) + "\n")
    monkeypatch.setattr(first_use, "BATCH", 10)
    read, real_read, real_insert = [], pipeline.read_files, store._insert_rows

    def reading(*args, **kwargs):
        files, problems = real_read(*args, **kwargs)
        read.extend(d for f in files for d in f.docs)
        return files, problems

    def inserting(conn, rows, *args):
        held_at_inserts.append(sum(d.text is not None for d in read))
        return real_insert(conn, rows, *args)

    monkeypatch.setattr(pipeline, "read_files", reading)
    monkeypatch.setattr(store, "_insert_rows", inserting)
    most_held = {}
    for held in (10**9, 0):
        monkeypatch.setattr(pipeline, "HELD_CHARS", held)
        read.clear()
        held_at_inserts: list[int] = []
        app = make_test_app(tmp_path / f"held{held}")
        db = get_db(app)
        report = pipeline.import_paths(db, [str(path)], labels_of(app), None, settle=settle)
        assert report.ok and report.new == 300 and len(held_at_inserts) == 30
        most_held[held] = max(held_at_inserts)
        with db.reading() as s:
            assert sorted(s.exec(select(Document.text)).scalars()) == sorted(f"{i} {TEXT}" for i in range(300))
        db.dispose()
    # every text held, where they are kept; where not, the batch being inserted and those the
    # settling workers have in flight (the import is large enough to fork them ahead)
    in_flight = (first_use.IMPORT_AHEAD + 1) * first_use.BATCH if settle else first_use.BATCH
    assert most_held == {10**9: 300, 0: most_held[0]} and 10 <= most_held[0] <= in_flight, most_held


# --- a pre-highlighted file of many records: its rows spooled to disk until its transaction ---

SPOOLED_TABLES = ("document", "suggestion", "claimsuggestion", "relationsuggestion", "tokenarray")


def _claims_file(path, n: int):
    """Records the pipeline finds entities, quantities and claims in, each text its own."""
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            text = f"In 2024 Nvidia shipped {1000 + i} chips to Berlin, each drawing {i + 2}.5 W. 🚀\r\nDone."
            handle.write(json.dumps({"text": text, "spans": [{"start": 3, "end": 7, "label": "DATE"}]}) + "\n")


def _every_row(db) -> dict[str, list[tuple]]:
    """Every stored row of the tables a document import writes, times left out."""
    tables = {}
    with db.reading() as s:
        for table in SPOOLED_TABLES:
            result = s.connection().exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1")
            keep = [i for i, name in enumerate(result.keys()) if name != "created_at"]
            tables[table] = [tuple(row[i] for i in keep) for row in result]
    return tables


def _rows_alive() -> int:
    """Document rows built and not yet freed (store._new_documents' dicts), in this process."""
    gc.collect()
    keys = {"uid", "n_suggestions", "suggestions", "claims", "relations"}  # none but such a row holds all five
    return sum(1 for o in gc.get_objects() if type(o) is dict and keys.issubset(o))


def test_a_pre_highlighted_file_of_many_records_is_stored_whole_from_a_spool(tmp_path, monkeypatch, prehighlighter):
    """A file is stored in one transaction and pre-highlighted before it; past SPOOL_AFTER new
    documents its rows wait on disk, not in memory, and come back exactly: the same rows in
    every table as when all are held, while at most a batch of rows is alive at any insert."""
    from annotator.ingest import store
    from tests.conftest import make_test_app

    path = tmp_path / "records.jsonl"
    _claims_file(path, 23)
    alive_at_inserts, real_insert = [], store._insert_rows

    def inserting(conn, rows, *args):
        alive_at_inserts.append(_rows_alive())
        return real_insert(conn, rows, *args)

    monkeypatch.setattr(store, "_insert_rows", inserting)
    monkeypatch.setattr(store, "SPOOL_BATCH", 4)  # batches of 4: 23 is not a multiple
    stored, most_alive = {}, {}
    for spool_after in (10**9, 5):  # every row held; spooled
        monkeypatch.setattr(store, "SPOOL_AFTER", spool_after)
        alive_at_inserts.clear()
        app = make_test_app(tmp_path / f"after{spool_after}")
        db = get_db(app)
        report = pipeline.import_paths(db, [str(path)], labels_of(app), prehighlighter)
        assert report.ok and report.new == 23, report.problems
        stored[spool_after], most_alive[spool_after] = _every_row(db), max(alive_at_inserts)
        with db.reading() as s:
            texts = s.exec(select(Document.text).order_by(Document.id)).scalars().all()
        db.dispose()
    assert stored[5] == stored[10**9]
    assert len(stored[5]["claimsuggestion"]) >= 23 and len(stored[5]["suggestion"]) >= 23 * 4
    written = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert texts == written  # emoji and CRLF as they were
    assert most_alive == {10**9: 23, 5: 4}, most_alive


@pytest.mark.parametrize("failure", ["ctrl-c", "disk-full-writing", "disk-full-reading", "no-temporary-folder"])
def test_a_stop_while_spooling_stores_nothing_of_that_file_and_removes_its_spool(
    tmp_path, monkeypatch, prehighlighter, failure
):
    """Ctrl+C while a large file's rows are built, or no room for them in the temporary
    folder: the files stored before stay, nothing of this one is, the spool is closed (and,
    unnamed, gone); a full disk is a problem naming the file, not a traceback."""
    from annotator.ingest import spool, store
    from tests.conftest import make_test_app

    folder = tmp_path / "docs"
    folder.mkdir()
    for name in "abc":
        (folder / f"{name}.txt").write_text(f"Nvidia shipped 3,000 chips to {name} in 2024.", encoding="utf-8")
    _claims_file(folder / "d.jsonl", 12)
    # a.txt and b.txt, then c.txt with d.jsonl (a file is never split): the second group,
    # begun by a small file, is spooled, and a problem names the large one
    monkeypatch.setattr(store, "GROUP_PREHIGHLIGHTED", 2)
    monkeypatch.setattr(store, "SPOOL_AFTER", 5)
    monkeypatch.setattr(store, "SPOOL_BATCH", 4)
    spools, built, real_build = [], [], store._new_documents

    class Recorded(spool.Spool):
        def __init__(self, where):
            super().__init__(where)
            spools.append(self)

    class Pickling:  # the spool's pickling, with the disk filling up below it
        HIGHEST_PROTOCOL = pickle.HIGHEST_PROTOCOL
        loaded = 0

        @staticmethod
        def dump(rows, file, protocol):
            if failure == "disk-full-writing" and len(built) == 3:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            pickle.dump(rows, file, protocol=protocol)

        @classmethod
        def load(cls, file):
            cls.loaded += 1
            if failure == "disk-full-reading" and cls.loaded == 2:  # inside the file's transaction
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return pickle.load(file)

    def building(docs, *args, **kwargs):
        built.append(len(docs))
        if failure == "ctrl-c" and len(built) == 3:  # the second batch of the second group's rows
            raise KeyboardInterrupt
        return real_build(docs, *args, **kwargs)

    monkeypatch.setattr(store, "Spool", Recorded)
    monkeypatch.setattr(spool, "pickle", Pickling)
    monkeypatch.setattr(store, "_new_documents", building)
    app = make_test_app(tmp_path)
    db = get_db(app)
    if failure == "no-temporary-folder":  # TMPDIR names a folder that is not there
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    report = pipeline.import_paths(db, [str(folder)], labels_of(app), prehighlighter)
    assert report.new == 2
    assert built == {"disk-full-reading": [2, 4, 4, 4, 1], "no-temporary-folder": [2]}.get(failure, [2, 4, 4])
    if failure == "ctrl-c":
        assert report.interrupted and not report.problems
    else:
        [problem] = report.problems
        assert report.failed and problem.path == str(folder / "d.jsonl") and "TMPDIR" in problem.message
        reason = "No such file or directory" if failure == "no-temporary-folder" else "No space left on device"
        assert f"temporary folder ({reason})" in problem.message
    if failure == "no-temporary-folder":
        assert spools == []  # never made
    else:
        [written] = spools
        assert written._file.closed
    with db.reading() as s:
        assert sorted(s.exec(select(Document.source)).scalars()) == [str(folder / "a.txt"), str(folder / "b.txt")]
