"""brat in and out: 10,000 documents of ~3 KB with 20 annotations each, on SQLite.

    .venv/bin/python -m benchmarks.brat [--documents 10000] [--repeat 3] [--no-fresh]

Set-up (not timed): a folder of .txt + .ann pairs grown from the seeds (benchmarks/_corpus.py),
each with 20 annotation lines: 12 T (ORG, PRODUCT, GPE on capitalised words, QUANTITY on
numbers), 4 R (MAKES, COMPETES_WITH), 2 A (a valued attribute on a quantity, a binary one on
a relation), 1 N and 1 #; and a project that already holds the texts, tokenized as the
pre-highlighter leaves them, with their token arrays (the usual order: texts first,
annotations after).

Timed, each run on a fresh copy of that project:
- import: `import_layer(..., fmt="brat")` end to end (walking the folder, reading and checking
  every line, matching the documents by text, QUANTITY values by the normaliser, bulk inserts
  of layers, spans, relations and audit events);
- export: `export(..., fmt="brat")` end to end (records built and validated, .txt + .ann
  written, checksummed, published).
The round trip is checked after the runs: every exported .ann holds the lines of its original.
Targets: >= 2,000 documents/s each way.

Measured once for scale, not targeted: the same import into an empty project, which creates
the documents (language detected per document, as `annotator import` does), and the export after it
(spaCy tokenizes every new document once, on that first export): both costs belong to
creating documents, not to brat.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ._common import Target, Timing, exit_code, machine_info, print_summary, spreads, timed, write_result
from ._corpus import CAPITALISED, NUMBER, corpus, spacy_tokens

TARGET_DOCS_PER_S = 2_000
TEXT_CHARS = 3_000
LABEL_MAP = '{"attributes": {"Certainty": "Certainty", "Speculative": "Speculative"}}'


def texts(n: int) -> list[tuple[str, str]]:
    """n distinct texts of about 3 KB (a seed variant, topped up with the next one's paragraphs)."""
    pool = corpus(n + 1)
    out = []
    for i in range(n):
        lang, text = pool[i]
        extra = pool[i + 1][1].split("\n\n")
        while len(text) < TEXT_CHARS and extra:
            text += "\n\n" + extra.pop()
        out.append((lang, text[: TEXT_CHARS + 400]))
    return out


def ann_for(text: str, rng: random.Random) -> str:
    """20 annotation lines on distinct capitalised words and numbers."""
    numbers = list(NUMBER.finditer(text))
    numbers = rng.sample(numbers, min(3, len(numbers)))
    names = rng.sample(list(CAPITALISED.finditer(text)), 12 - len(numbers))
    labels = ["ORG"] * 3 + ["PRODUCT"] * 4 + ["GPE"] * 5
    spans = [(label, m) for label, m in zip(labels, names)] + [("QUANTITY", m) for m in numbers]
    spans = spans[:9] + spans[-3:]  # T10-T12: the quantities (a text with fewer numbers gets more GPE)
    lines = [f"T{i}\t{label} {m.start()} {m.end()}\t{m.group()}" for i, (label, m) in enumerate(spans, 1)]
    lines += [
        "R1\tMAKES Arg1:T1 Arg2:T4",
        "R2\tMAKES Arg1:T2 Arg2:T5",
        "R3\tCOMPETES_WITH Arg1:T6 Arg2:T7",
        "R4\tCOMPETES_WITH Arg1:T4 Arg2:T5",
        "A1\tCertainty T10 High",
        "A2\tSpeculative R3",
        f"N1\tReference T1 Wikidata:Q{rng.randint(1, 10**6)}\t{names[0].group()}",
        "#1\tAnnotatorNotes T4\tchecked against the vendor's page",
    ]
    return "\n".join(lines) + "\n"


def write_folder(folder: Path, docs: list[tuple[str, str]]) -> int:
    folder.mkdir(parents=True)
    total = 0
    for i, (_, text) in enumerate(docs):
        data = text.encode("utf-8")
        (folder / f"doc{i:05d}.txt").write_bytes(data)
        (folder / f"doc{i:05d}.ann").write_text(ann_for(text, random.Random(i)), encoding="utf-8")
        total += len(data)
    return total


def project(folder: Path, docs: list[tuple[str, str]] | None):
    """A migrated SQLite project; with docs, holding them already (tokens stored)."""
    from sqlalchemy import insert

    from annotator.models import Document, document_uid
    from annotator.project import labels_of, open_project
    from annotator.tokens import pack
    from annotator.web.app import create_app

    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "NLP_PROCESSES": 1})
    db = open_project(app)
    if docs:
        now = datetime.now(UTC)
        rows = [
            {
                "uid": document_uid(text),
                "text": text,
                "lang": lang,
                "lang_source": "detected",
                "title": text.split("\n", 1)[0][:200],
                "source": f"bench/doc{i:05d}.txt",
                "meta": {},
                "n_chars": len(text),
                "tokens": pack(spacy_tokens(lang, text)),
                "n_suggestions": 0,
                "pipeline": "bench",
                "created_at": now,
            }
            for i, (lang, text) in enumerate(docs)
        ]
        with db.writing() as session:
            session.connection().execute(insert(Document.__table__), rows)
        keep_token_arrays(db)
    return app, db, labels_of(app)


def keep_token_arrays(db) -> None:
    """What the pre-highlighting import stores with each document's tokens: its token array,
    made and validated once (annotator/schema/token_arrays.py)."""
    try:
        from annotator.schema.token_arrays import fill_token_arrays
    except ImportError:  # code from before token arrays were kept
        return
    fill_token_arrays(db)


def run(template: Path, work: Path, brat: Path, label_map: Path, n: int) -> tuple[Timing, Timing, dict]:
    """Import the folder into a copy of the template project, then export it as brat."""
    from annotator.export.publish import export
    from annotator.ingest.pipeline import import_layer

    (work / "instance").mkdir(parents=True)
    if template.exists():
        shutil.copy(template, work / "instance" / "annotator.sqlite3")
    app, db, labels = project(work, None)
    t_in, report = timed(lambda: import_layer(db, [str(brat)], labels, "bench", "brat", label_map=str(label_map)))
    if not report.ok or report.stored.layers != n:
        raise SystemExit(f"import failed: {report.summary()} {[str(p) for p in report.problems[:3]]}")
    t_out, result = timed(lambda: export(db, labels, "bench", out_dir=work / "exports", fmt="brat"))
    db.dispose()
    return t_in, t_out, {"report": report, "export": result}


def file_floor(folder: Path, brat: Path) -> float:
    """Copying the folder's files one by one (read, create, write): the floor for the export's
    own .txt + .ann files on this disk, measured in the same run (file creation cost here
    varies several-fold with the machine's load)."""
    folder.mkdir()
    files = sorted(brat.iterdir())
    timing, _ = timed(lambda: [(folder / p.name).write_bytes(p.read_bytes()) for p in files])
    return timing.wall


def check_round_trip(brat: Path, exported: Path) -> int:
    """Every exported .ann has exactly the lines of its original; returns how many were compared."""
    compared = 0
    for ann in sorted(brat.glob("*.ann")):
        out = exported / ann.name
        if sorted(out.read_text().splitlines()) != sorted(ann.read_text().splitlines()):
            raise SystemExit(f"round trip differs for {ann.name}")
        compared += 1
    return compared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-fresh",
        action="store_true",
        help="skip the fresh-project measurement (the slow part of a run; for quick iterations)",
    )
    args = parser.parse_args(argv)
    n = args.documents
    started, machine = time.perf_counter(), machine_info()
    with tempfile.TemporaryDirectory(prefix="bench-brat-") as tmp:
        tmp = Path(tmp)
        docs = texts(n)
        brat = tmp / "brat"
        text_bytes = write_folder(brat, docs)
        label_map = tmp / "map.json"
        label_map.write_text(LABEL_MAP)
        setup, (app, db, _) = timed(lambda: project(tmp / "template", docs))
        db.dispose()
        template = tmp / "template" / "instance" / "annotator.sqlite3"
        from annotator.nlp.quantities import normalise
        from annotator.schema import record_schema

        normalise("1 GB"), normalise("1 GB", "pt"), record_schema().fast  # one-off per process: unit tables
        # (both languages of the corpus), compiled schema
        ins, outs, last = [], [], {}
        for i in range(args.repeat):
            t_in, t_out, last = run(template, tmp / f"run{i}", brat, label_map, n)
            ins.append(t_in)
            outs.append(t_out)
            shutil.rmtree(tmp / f"run{i}" / "instance")
        compared = check_round_trip(brat, last["export"].path / "brat")
        fresh_in, fresh_out = (
            (None, None) if args.no_fresh else run(tmp / "none.sqlite3", tmp / "fresh", brat, label_map, n)[:2]
        )
        floor = file_floor(tmp / "copy", brat)
        stored = last["report"].stored
    t_in, t_out = spreads(ins), spreads(outs)
    rate_in, rate_out = n / t_in["wall_s"]["median"], n / t_out["wall_s"]["median"]
    figures = {
        "documents": n,
        "annotation_lines_per_document": 20,
        "text_kb_mean": round(text_bytes / n / 1000, 2),
        "stored": {"spans": stored.spans, "relations": stored.relations, "layers": stored.layers},
        "setup_s": round(setup.wall, 1),
        "import": t_in,
        "import_docs_per_s": round(rate_in),
        "export": t_out,
        "export_docs_per_s": round(rate_out),
        "import_docs_per_cpu_s": round(n / t_in["cpu_s"]["median"]),
        "export_docs_per_cpu_s": round(n / t_out["cpu_s"]["median"]),
        "round_trip_files_identical": compared,
        "copying_the_files_alone_s": round(floor, 3),
        "fresh_project": {
            "import_s": round(fresh_in.wall, 3),
            "import_docs_per_s": round(n / fresh_in.wall),
            "export_s": round(fresh_out.wall, 3),
            "export_docs_per_s": round(n / fresh_out.wall),
        }
        if fresh_in
        else None,
    }
    targets = [
        Target("brat import, documents/s (median run)", rate_in, ">=", TARGET_DOCS_PER_S, "docs/s"),
        Target("brat export, documents/s (median run)", rate_out, ">=", TARGET_DOCS_PER_S, "docs/s"),
    ]
    notes = [
        "Import and export run on a project that already holds the texts, tokenized (texts first, "
        "annotations after); a fresh copy of it per run.",
        "fresh_project: the same import creating the 10,000 documents (language detected per document) and the "
        "first export after it (spaCy tokenizes each new document once); both are costs of creating "
        "documents, shared with `annotator import`, not of brat.",
    ]
    path = write_result("brat", figures, targets, notes, machine, started)
    lines = [
        f"{n:,} documents ({figures['text_kb_mean']} KB, 20 annotation lines each; {stored.spans:,} spans, "
        f"{stored.relations:,} relations)",
        f"import: median {t_in['wall_s']['median']:.3f} s (runs {t_in['wall_s']['runs']}), {round(rate_in):,} docs/s",
        f"export: median {t_out['wall_s']['median']:.3f} s (runs {t_out['wall_s']['runs']}), "
        f"{round(rate_out):,} docs/s",
        f"CPU time: import {t_in['cpu_s']['median']:.3f} s, export {t_out['cpu_s']['median']:.3f} s; "
        f"copying the {2 * n:,} files alone: {floor:.3f} s",
        f"round trip: {compared:,} .ann files with identical lines",
    ]
    if fresh_in:
        lines.append(
            f"fresh project (documents created): import {fresh_in.wall:.2f} s, first export {fresh_out.wall:.2f} s"
        )
    print_summary("brat", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
