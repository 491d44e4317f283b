"""Agreement report on 2,000 generated documents x 3 annotators (target: under 10 s).

    .venv/bin/python -m benchmarks.agreement [--docs 2000] [--annotators 3]

Builds a SQLite project with seed-sized documents (~480 tokens, ~45 spans per layer, the
annotators agreeing on most spans), then times agreement_report() end to end: loading the
layers, token labels, kappas, alpha, span/relation/claim matching and the confusion table.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from ._common import Target, exit_code, machine_info, print_summary, spread, timed, write_result

TARGET_SECONDS = 10.0
LABELS = ["ORG", "PRODUCT", "MODEL", "QUANTITY", "GPE", "DATE", "PERSON"]


def build(app, docs: int, annotators: list[str], seed: int = 1) -> None:
    from annotator.db import get_db
    from annotator.models import Document, Layer, Relation, Span
    from annotator.tokens import pack

    rng = random.Random(seed)
    db = get_db(app)
    with db.writing() as session:
        conn = session.connection()
        for d in range(docs):
            tokens = [(i * 6, i * 6 + 5) for i in range(480)]
            text = " ".join("word " for _ in range(480))[: 480 * 6]
            doc_id = conn.execute(
                insert(Document).values(
                    uid=f"{d:016x}",
                    text=text,
                    lang="en",
                    title=f"doc {d}",
                    meta={},
                    n_chars=len(text),
                    tokens=pack(tokens),
                    n_suggestions=0,
                )
            ).inserted_primary_key[0]
            truth = sorted(rng.sample(range(478), 45))
            for name in annotators:
                layer_id = conn.execute(
                    insert(Layer).values(document_id=doc_id, name=name, kind="annotator", status="done", version=1)
                ).inserted_primary_key[0]
                rows = []
                for t in truth:
                    if rng.random() < 0.9:
                        width = 1 if rng.random() < 0.9 else 2
                        label = LABELS[t % len(LABELS)] if rng.random() < 0.92 else rng.choice(LABELS)
                        rows.append(
                            {
                                "layer_id": layer_id,
                                "start": tokens[t][0],
                                "end": tokens[t + width - 1][1],
                                "label": label,
                                "origin": "manual",
                                "meta": {},
                            }
                        )
                ids = conn.execute(insert(Span).returning(Span.id, sort_by_parameter_order=True), rows).scalars().all()
                rels = [
                    {"layer_id": layer_id, "head_id": a, "child_id": b, "label": "MAKES", "meta": {}}
                    for a, b in zip(ids[::7], ids[1::7])
                ]
                if rels:
                    conn.execute(insert(Relation), rels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from annotator.db import ensure_schema, get_db
    from annotator.review.agreement import agreement_report
    from annotator.web.app import create_app

    names = [f"annotator{i}" for i in range(1, args.annotators + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"INSTANCE_PATH": str(Path(tmp) / "instance")})
        ensure_schema(get_db(app))
        setup, _ = timed(lambda: build(app, args.docs, names))
        runs, report = [], None
        for _ in range(args.repeat):
            with get_db(app).reading() as session:
                timing, report = timed(lambda: agreement_report(session))
            runs.append(timing.wall)
        get_db(app).dispose()
    median = spread(runs)["median"]
    targets = [
        Target(
            f"agreement report, {args.docs} documents x {args.annotators} annotators (median)",
            median,
            "<=",
            TARGET_SECONDS,
            "s",
        )
    ]
    figures = {
        "documents": report["documents"],
        "annotators": args.annotators,
        "tokens": report["tokens"],
        "setup_s": round(setup.wall, 2),
        "report_s": spread(runs),
        "krippendorff_alpha": report["overall"]["krippendorff_alpha"],
        "fleiss_kappa": report["overall"]["fleiss_kappa"],
    }
    path = write_result("agreement", figures, targets, machine=machine_info(), started=started)
    print_summary(
        "agreement",
        [
            f"{report['documents']} documents, {report['tokens']:,} tokens per annotator, "
            f"report {median:.2f} s (median of {args.repeat})"
        ],
        targets,
        path,
    )
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
