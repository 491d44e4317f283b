"""Bulk import without pre-highlighting: 10,000 JSONL records, 3 pre-annotations each.

    .venv/bin/python -m benchmarks.bulk_import [--records 10000] [--repeat 3]

Times `import_paths(..., prehighlighter=None)` end to end (reading, checking, language
detection, storing) on a fresh SQLite project per run, exactly what
`annotator import --no-prehighlight` does. Target: <= 2 s for 10,000 records.

Measured in the same run, for scale: plain sqlite3 executemany of the same rows (the floor
for storing them), spaCy's tokenizer over a sample (what eager tokenizing would add; the
import must not tokenize), and one run of records that name their language (no detection).
A last, separate run wraps the import's stages in timers for the breakdown.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import orjson

from ._common import Stopwatch, Target, exit_code, machine_info, print_summary, spread, timed, write_result
from ._corpus import corpus, prodigy_spans

TARGET_SECONDS = 2.0


def write_records(folder: Path, n: int, with_lang: bool = False) -> Path:
    path = folder / ("records_lang.jsonl" if with_lang else "records.jsonl")
    with open(path, "wb") as handle:
        for i, (lang, text) in enumerate(corpus(n)):
            record = {"text": text, "spans": prodigy_spans(text, random.Random(i)), "meta": {"batch": "bench", "n": i}}
            if with_lang:
                record["lang"] = lang
            handle.write(orjson.dumps(record) + b"\n")
    return path


def fresh_project(folder: Path):
    """A migrated, empty SQLite project, as `annotator import` would open it."""
    from annotator import create_app
    from annotator.services import labels_of, open_project

    app = create_app({"INSTANCE_PATH": str(folder), "NLP_PROCESSES": 1})
    return app, open_project(app), labels_of(app)


def run_import(folder: Path, records: Path) -> tuple[float, dict]:
    from sqlalchemy import func, select

    from annotator.importing import import_paths
    from annotator.models import Document, Suggestion

    app, db, labels = fresh_project(folder)
    seconds, report = timed(lambda: import_paths(db, [str(records)], labels, None))
    with db.reading() as session:
        stored = {
            "documents": session.exec(select(func.count()).select_from(Document)).scalar_one(),
            "suggestions": session.exec(select(func.count()).select_from(Suggestion)).scalar_one(),
            "tokenized": session.exec(select(func.count()).select_from(Document)
                                      .where(Document.tokens.is_not(None))).scalar_one(),
        }
    db.dispose()
    if not report.ok:
        raise SystemExit(f"import failed: {report.summary()} {report.problems[:3]}")
    return seconds, stored


@contextmanager
def stage_timers(watch: Stopwatch):
    """Wrap the import's stages in timers (for one breakdown run, never the timed ones)."""
    import annotator.importing as imp

    originals = {name: getattr(imp, name) for name in ("read_file", "_existing_uids", "detect_language",
                                                       "imported_suggestion", "_store")}
    stage = {"read_file": "read and check (reading.py)", "_existing_uids": "look up existing ids",
             "detect_language": "detect language", "imported_suggestion": "build suggestion rows",
             "_store": "store (incl. detection and row building)"}

    def wrap(name):
        original = originals[name]

        def timed_call(*args, **kwargs):
            with watch.section(stage[name]):
                return original(*args, **kwargs)
        return timed_call

    for name in originals:
        setattr(imp, name, wrap(name))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(imp, name, fn)


def sqlite_floor(folder: Path, records: Path) -> float:
    """Plain sqlite3: the same documents and spans, one WAL transaction, executemany."""
    from annotator.reading import document_uid

    rows = [orjson.loads(line) for line in records.read_bytes().splitlines()]
    conn = sqlite3.connect(folder / "plain.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE document (id INTEGER PRIMARY KEY, uid TEXT UNIQUE, text TEXT, lang TEXT, "
                 "title TEXT, meta TEXT, n_chars INT)")
    conn.execute("CREATE TABLE suggestion (id INTEGER PRIMARY KEY, document_id INT, start INT, \"end\" INT, "
                 "label TEXT, origin TEXT)")
    conn.execute("CREATE INDEX ix_s_doc ON suggestion(document_id)")
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO document (id, uid, text, lang, title, meta, n_chars) VALUES (?,?,?,?,?,?,?)",
                     [(i, document_uid(r["text"]), r["text"], "en", r["text"][:80], orjson.dumps(r["meta"]).decode(),
                       len(r["text"])) for i, r in enumerate(rows, 1)])
    conn.executemany("INSERT INTO suggestion (document_id, start, \"end\", label, origin) VALUES (?,?,?,?,?)",
                     [(i, s["start"], s["end"], s["label"], "import") for i, r in enumerate(rows, 1) for s in r["spans"]])
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def tokenizer_estimate(records: Path, sample: int = 1000) -> dict:
    """spaCy's blank English tokenizer over a sample, scaled to the whole file."""
    import spacy

    texts = [orjson.loads(line)["text"] for line in records.read_bytes().splitlines()]
    tokenizer = spacy.blank("en").tokenizer
    seconds, _ = timed(lambda: list(tokenizer.pipe(texts[:sample])))
    return {"sample": sample, "sample_s": round(seconds, 3), "estimated_all_s": round(seconds * len(texts) / sample, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        tmp = Path(tmp)
        records = write_records(tmp, args.records)
        with_lang = write_records(tmp, args.records, with_lang=True)
        fresh_project(tmp / "warm")[1].dispose()  # imports, migrations code, py3langid model: not timed
        from annotator.nlp.language import detect_language
        detect_language("warm up the language model")
        runs, stored = [], {}
        for i in range(args.repeat):
            seconds, stored = run_import(tmp / f"run{i}", records)
            runs.append(seconds)
        lang_given, _ = run_import(tmp / "lang", with_lang)
        floor = sqlite_floor(tmp, records)
        watch = Stopwatch()
        with stage_timers(watch):
            breakdown_total, _ = run_import(tmp / "breakdown", records)
        tokenizer = tokenizer_estimate(records)
    total = spread(runs)
    figures = {
        "records": args.records, "spans_per_record": 3, "bytes_per_record": round(records.stat().st_size / args.records)
        if records.exists() else None,
        "import_s": total, "records_per_s": round(args.records / total["median"]),
        "stored": stored,
        "import_with_lang_given_s": round(lang_given, 3),
        "plain_sqlite3_executemany_s": round(floor, 3),
        "ratio_import_to_plain_sqlite3": round(total["median"] / floor, 2),
        "spacy_tokenizer": tokenizer,
        "breakdown_run_s": round(breakdown_total, 3), "breakdown_s": watch.rounded(),
    }
    targets = [Target("import of 10,000 records (median)", total["median"], "<=", TARGET_SECONDS, "s")]
    notes = ["Times are wall clock on a fresh SQLite (WAL) project per run; the breakdown run is separate "
             "and slightly slower (timers). 'store' includes language detection and building rows.",
             f"tokens stored at import: {stored.get('tokenized')} (must be 0: tokens come on first use)."]
    path = write_result("bulk_import", figures, targets, notes, machine, started)
    lines = [f"import {args.records:,} records: median {total['median']:.3f} s (runs {total['runs']}), "
             f"{figures['records_per_s']:,} records/s",
             f"same records naming their language: {lang_given:.3f} s",
             f"plain sqlite3 executemany of the same rows: {floor:.3f} s "
             f"(import / plain = {figures['ratio_import_to_plain_sqlite3']})",
             f"spaCy tokenizer, estimated for all records: {tokenizer['estimated_all_s']} s (not done at import)",
             "breakdown: " + ", ".join(f"{k} {v:.3f} s" for k, v in watch.rounded().items())]
    print_summary("bulk_import", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
