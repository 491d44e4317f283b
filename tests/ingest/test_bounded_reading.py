"""An import's memory: a JSONL file is read a line at a time, never held whole, with the
same refusals as a whole-file read; and a large import forks its settling workers before it
reads, so they do not inherit the documents read."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tracemalloc

from sqlalchemy import select

from annotator.db import get_db
from annotator.formats import jsonl
from annotator.formats.files import decode
from annotator.formats.labelmap import LabelMap, Unknowns
from annotator.ingest import first_use, pipeline
from annotator.ingest.first_use import settling_workers
from annotator.models import Document

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
