"""MeasEval-style scoring of annotation sets: a gold folder of MeasEval TSV files against a
predicted one (or rows in memory).

    .venv/bin/python -m benchmarks.measeval_score GOLD_DIR PRED_DIR [--json]

A folder is one holding `tsv/` (and `text/`, MeasEval's layout and `annotator export
--format measeval`'s), an export version folder holding `measeval/`, or a folder of TSV
files itself (texts then from a `text/` beside it, if there is one).

The definition (the one given with the data): for each annotation type (Quantity,
MeasuredEntity, MeasuredProperty, Qualifier, and the unit, modifiers and the relation of each
part to its quantity), a predicted row matches a gold row of the same paragraph and type when
their spans overlap; the overall figure is the F1 over all matched rows, with annotation sets
matched through their Quantity. Exactly how this module counts:

- Paragraphs. A predicted docId that is a gold docId is that paragraph. Otherwise, when both
  sides have texts, a predicted paragraph whose text is byte for byte a gold paragraph's is
  that one (an export of texts imported as plain files names them by the document id, not by
  MeasEval's docId). A predicted paragraph matching no gold one still counts: its rows are
  all false positives, and the report lists how many such paragraphs there were.
- Spans overlap when they share at least one character (half-open offsets: [0, 3) and
  [3, 5) do not). The overlap size is the number of characters shared.
- Sets. Each set is represented by its first Quantity row (in file order). In each paragraph
  the gold and predicted Quantities are paired one to one, greedily: the candidate pairs
  that overlap are taken largest overlap first, then smallest combined extent (so an exact
  copy wins over a longer span with the same overlap), then file order. A set with no
  Quantity row is never matched; a second Quantity row in a set is counted but never matched.
- Quantity: a matched pair is one matched row.
- MeasuredEntity, MeasuredProperty, Qualifier: inside each pair of matched sets, the rows of
  that type are paired the same greedy, one-to-one way; each pair is a matched row. Parts of
  unmatched sets count in the totals and never match.
- Unit: a Quantity row with a non-empty `unit` in its `other` column is one unit row; a
  matched Quantity pair whose units are both present and equal as strings (exactly, as
  written) is a matched unit row.
- Modifiers: a Quantity row with a non-empty `mods` list is one modifiers row; a matched pair
  whose mods are equal as sets is a matched modifiers row (all of them or nothing).
- Relations: each HasQuantity, HasProperty or Qualifies key in a row's `other` is one relation
  row of that type, from that row to the row it names in the same set. A predicted relation
  matches a gold one of the same type in a matched pair of sets when its source is the row
  matched to the gold source and its target the row matched to the gold target (one to one).
- Precision is matched / predicted, recall matched / gold, F1 = 2 matched / (gold +
  predicted); a figure whose denominator is zero is null. Overall pools the rows of all nine
  types above (Quantity, the three parts, Unit, Modifiers and the three relation types); the
  `Relations` entry pools the three relation types for reading convenience and is not
  counted twice in the overall figure.

Where this may differ from the official MeasEval scorer, which is not available here: the
task also reported exact-match figures and may give partial credit for a partial overlap
(a token-level F1 per span) where this counts any overlap as a full match; its way of
pairing sets, of counting units, modifiers and relations of unmatched sets, and of
averaging the types into one figure may differ; and it scores only the paragraphs of the
gold split. Figures from here are comparable with each other, and only roughly with
published MeasEval results.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

HEADER = ("docId", "annotSet", "annotType", "startOffset", "endOffset", "annotId", "text", "other")
QUANTITY = "Quantity"
PARTS = ("MeasuredEntity", "MeasuredProperty", "Qualifier")
LINKS = ("HasQuantity", "HasProperty", "Qualifies")
UNIT, MODIFIERS, RELATIONS = "Unit", "Modifiers", "Relations"
# the row types the overall figure pools, in the order reports show them
TYPES = (QUANTITY, *PARTS, UNIT, MODIFIERS, *LINKS)


class Row(NamedTuple):
    """One TSV row; `other` parsed (an empty column is an empty dict)."""

    doc_id: str
    annot_set: str
    annot_type: str
    start: int
    end: int
    annot_id: str
    text: str
    other: dict


# --- reading ------------------------------------------------------------------------------


def locate(folder: Path) -> tuple[Path, Path | None]:
    """The TSV folder and the text folder (or None) of a gold or predicted folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    if (folder / "measeval").is_dir():
        return locate(folder / "measeval")
    if (folder / "tsv").is_dir():
        text = folder / "text"
        return folder / "tsv", text if text.is_dir() else None
    text = folder.parent / "text"
    return folder, text if text.is_dir() else None


def read_tsv(path: Path) -> list[Row]:
    """The rows of one TSV. Lines split on "\\n" only: texts may hold other line breaks."""
    lines = Path(path).read_bytes().decode("utf-8").split("\n")
    if tuple(lines[0].rstrip("\r").split("\t")) != HEADER:
        raise ValueError(f"{path}: not a MeasEval header")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if line.strip():
            rows.append(_row(line.split("\t"), f"{path}:{number}"))
    return rows


def _row(fields: list[str], where: str) -> Row:
    if len(fields) != len(HEADER):
        raise ValueError(f"{where}: {len(fields)} columns, expected {len(HEADER)}")
    doc_id, annot_set, kind, start, end, annot_id, text, other = fields
    try:
        parsed = json.loads(other) if other.strip() else {}
        return Row(doc_id, annot_set, kind, int(start), int(end), annot_id, text, parsed)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def read_folder(folder: Path) -> tuple[list[Row], dict[str, str]]:
    """All rows of a folder's TSV files, and docId -> paragraph text where texts are there."""
    tsv_dir, text_dir = locate(folder)
    rows = [row for path in sorted(tsv_dir.glob("*.tsv")) for row in read_tsv(path)]
    texts = {}
    if text_dir is not None:
        texts = {p.stem: p.read_bytes().decode("utf-8") for p in sorted(text_dir.glob("*.txt"))}
    return rows, texts


def align(gold_texts: dict[str, str], gold_rows: list[Row], pred_texts: dict[str, str], pred_rows: list[Row]):
    """Predicted rows renamed to the gold docIds of their paragraphs (see the module
    docstring), and a count of the paragraphs on each side."""
    gold_ids = set(gold_texts) | {r.doc_id for r in gold_rows}
    by_text: dict[str, str] = {}
    for doc_id in sorted(gold_texts):
        by_text.setdefault(gold_texts[doc_id], doc_id)  # a repeated text goes to its first docId
    pred_ids = set(pred_texts) | {r.doc_id for r in pred_rows}
    rename = {}
    for doc_id in pred_ids:
        if doc_id in gold_ids:
            rename[doc_id] = doc_id
        elif doc_id in pred_texts and pred_texts[doc_id] in by_text:
            rename[doc_id] = by_text[pred_texts[doc_id]]
    renamed = [r._replace(doc_id=rename.get(r.doc_id, r.doc_id)) for r in pred_rows]
    documents = {
        "gold": len(gold_ids),
        "predicted": len(pred_ids),
        "aligned": len(set(rename.values())),
        "predicted_not_in_gold": len(pred_ids - rename.keys()),
    }
    return renamed, documents


# --- matching -----------------------------------------------------------------------------


def overlap(a: Row, b: Row) -> int:
    """Characters two spans share (0 when they do not overlap)."""
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def pair_greedily(gold: list[Row], pred: list[Row]) -> list[tuple[int, int]]:
    """One-to-one (gold index, predicted index) pairs of overlapping spans: largest overlap
    first, then the smallest combined extent, then file order."""
    candidates = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            shared = overlap(g, p)
            if shared > 0:
                extent = max(g.end, p.end) - min(g.start, p.start)
                candidates.append((-shared, extent, gi, pi))
    candidates.sort()
    used_g, used_p, pairs = set(), set(), []
    for _, _, gi, pi in candidates:
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            pairs.append((gi, pi))
    return pairs


def group_sets(rows: Iterable[Row]) -> dict[str, dict[str, list[Row]]]:
    """docId -> annotSet -> rows in file order."""
    out: dict[str, dict[str, list[Row]]] = defaultdict(dict)
    for row in rows:
        out[row.doc_id].setdefault(row.annot_set, []).append(row)
    return out


def links_of(rows: list[Row]) -> list[tuple[str, int, int | None]]:
    """(link type, source index, target index or None) of a set's relation rows; the target
    is the first row of the set with the named annotId."""
    index = {}
    for i, row in enumerate(rows):
        index.setdefault(row.annot_id, i)
    out = []
    for i, row in enumerate(rows):
        for link in LINKS:
            if link in row.other:
                target = row.other[link]
                out.append((link, i, index.get(target) if isinstance(target, str) else None))
    return out


def _mods(row: Row) -> frozenset:
    mods = row.other.get("mods") or []
    return frozenset(mods) if isinstance(mods, list) else frozenset()


def _unit(row: Row) -> str | None:
    unit = row.other.get("unit")
    return unit if isinstance(unit, str) and unit else None


def count_totals(rows: list[Row], side: str, tally: dict[str, Counter]) -> None:
    """Add a set's rows of every type to the gold or predicted totals."""
    for row in rows:
        if row.annot_type in (QUANTITY, *PARTS):
            tally[row.annot_type][side] += 1
        if row.annot_type == QUANTITY:
            tally[UNIT][side] += _unit(row) is not None
            tally[MODIFIERS][side] += bool(_mods(row))
    for link, _, _ in links_of(rows):
        tally[link][side] += 1


def score_matched_sets(gold: list[Row], pred: list[Row], gq: int, pq: int, tally: dict[str, Counter]) -> None:
    """Matched rows of one pair of sets whose Quantities (indices gq, pq) were paired."""
    tally[QUANTITY]["matched"] += 1
    g_unit, p_unit = _unit(gold[gq]), _unit(pred[pq])
    tally[UNIT]["matched"] += g_unit is not None and g_unit == p_unit
    tally[MODIFIERS]["matched"] += bool(_mods(gold[gq])) and _mods(gold[gq]) == _mods(pred[pq])
    matched_row = {gq: pq}  # gold row index -> predicted row index
    for part in PARTS:
        g_idx = [i for i, r in enumerate(gold) if r.annot_type == part]
        p_idx = [i for i, r in enumerate(pred) if r.annot_type == part]
        pairs = pair_greedily([gold[i] for i in g_idx], [pred[i] for i in p_idx])
        tally[part]["matched"] += len(pairs)
        matched_row.update({g_idx[a]: p_idx[b] for a, b in pairs})
    predicted_links = Counter(links_of(pred))
    for link, source, target in links_of(gold):
        wanted = (link, matched_row.get(source), matched_row.get(target))
        if None not in wanted and predicted_links[wanted] > 0:
            predicted_links[wanted] -= 1  # one to one
            tally[link]["matched"] += 1


def _first_quantity(rows: list[Row]) -> int | None:
    return next((i for i, r in enumerate(rows) if r.annot_type == QUANTITY), None)


def score_document(gold: dict[str, list[Row]], pred: dict[str, list[Row]], tally: dict[str, Counter]) -> None:
    """Totals and matched rows of one paragraph's sets."""
    for rows in gold.values():
        count_totals(rows, "gold", tally)
    for rows in pred.values():
        count_totals(rows, "predicted", tally)
    g_sets = [(rows, q) for rows in gold.values() if (q := _first_quantity(rows)) is not None]
    p_sets = [(rows, q) for rows in pred.values() if (q := _first_quantity(rows)) is not None]
    pairs = pair_greedily([rows[q] for rows, q in g_sets], [rows[q] for rows, q in p_sets])
    for gi, pi in pairs:
        (g_rows, gq), (p_rows, pq) = g_sets[gi], p_sets[pi]
        score_matched_sets(g_rows, p_rows, gq, pq, tally)


# --- figures ------------------------------------------------------------------------------


def figures(counts: Counter) -> dict:
    """Counts with precision, recall and F1 (null where a denominator is zero)."""
    matched, gold, pred = counts["matched"], counts["gold"], counts["predicted"]
    return {
        "gold": gold,
        "predicted": pred,
        "matched": matched,
        "precision": matched / pred if pred else None,
        "recall": matched / gold if gold else None,
        "f1": 2 * matched / (gold + pred) if gold + pred else None,
    }


def paragraph_tallies(gold_rows: Iterable[Row], pred_rows: Iterable[Row]) -> dict[str, dict[str, Counter]]:
    """Each paragraph's counts per type: what the figures pool, and what a paired bootstrap
    over paragraphs resamples."""
    gold, pred = group_sets(gold_rows), group_sets(pred_rows)
    out = {}
    for doc_id in sorted(gold.keys() | pred.keys()):
        out[doc_id] = {kind: Counter() for kind in TYPES}
        score_document(gold.get(doc_id, {}), pred.get(doc_id, {}), out[doc_id])
    return out


def report_of(tallies: dict[str, dict[str, Counter]]) -> dict:
    """Per-type figures, pooled relations and the overall (micro) figure of all paragraphs."""
    tally = {kind: sum((t[kind] for t in tallies.values()), Counter()) for kind in TYPES}
    return {
        "types": {kind: figures(tally[kind]) for kind in TYPES},
        RELATIONS.lower(): figures(sum((tally[link] for link in LINKS), Counter())),
        "overall": figures(sum(tally.values(), Counter())),
    }


def paragraph_counts(tallies: dict[str, dict[str, Counter]]) -> dict[str, dict]:
    """The overall counts (gold, predicted, matched) of each paragraph."""
    out = {}
    for doc_id, tally in tallies.items():
        total = sum(tally.values(), Counter())
        out[doc_id] = {k: total[k] for k in ("gold", "predicted", "matched")}
    return out


def score_rows(gold_rows: Iterable[Row], pred_rows: Iterable[Row]) -> dict:
    """report_of() the rows."""
    return report_of(paragraph_tallies(gold_rows, pred_rows))


def per_paragraph(gold_rows: Iterable[Row], pred_rows: Iterable[Row]) -> dict[str, dict]:
    """paragraph_counts() of the rows."""
    return paragraph_counts(paragraph_tallies(gold_rows, pred_rows))


def paired_bootstrap(first: dict[str, dict], second: dict[str, dict], rounds: int = 2000, seed: int = 0) -> dict:
    """How sure the overall F1 of `second` beats `first` on these paragraphs: both scored on
    the same resamples of paragraphs (with replacement); the difference's 2.5th and 97.5th
    percentiles, and the share of resamples where `second` scores higher."""
    ids = sorted(first.keys() | second.keys())
    empty = {"gold": 0, "predicted": 0, "matched": 0}
    rows = [(first.get(i, empty), second.get(i, empty)) for i in ids]
    rng = random.Random(seed)

    def f1(counts) -> float:
        gold = sum(c["gold"] for c in counts)
        pred = sum(c["predicted"] for c in counts)
        return 2 * sum(c["matched"] for c in counts) / (gold + pred) if gold + pred else 0.0

    diffs = []
    for _ in range(rounds):
        sample = [rows[rng.randrange(len(rows))] for _ in rows]
        diffs.append(f1([b for _, b in sample]) - f1([a for a, _ in sample]))
    diffs.sort()
    return {
        "paragraphs": len(rows),
        "rounds": rounds,
        "difference": round(f1([b for _, b in rows]) - f1([a for a, _ in rows]), 4),
        "low_2_5": round(diffs[int(0.025 * rounds)], 4),
        "high_97_5": round(diffs[int(0.975 * rounds) - 1], 4),
        "share_better": round(sum(d > 0 for d in diffs) / rounds, 4),
    }


def score_folders(gold_dir: Path, pred_dir: Path) -> dict:
    """Score a predicted folder against a gold one; the report says how paragraphs aligned."""
    gold_rows, gold_texts = read_folder(gold_dir)
    pred_rows, pred_texts = read_folder(pred_dir)
    renamed, documents = align(gold_texts, gold_rows, pred_texts, pred_rows)
    tallies = paragraph_tallies(gold_rows, renamed)
    return {"documents": documents, **report_of(tallies), "per_paragraph": paragraph_counts(tallies)}


def rounded(report: dict, digits: int = 4) -> dict:
    """The report with its ratios rounded, for files people read."""
    if isinstance(report, dict):
        return {k: rounded(v, digits) for k, v in report.items()}
    return round(report, digits) if isinstance(report, float) else report


def table(report: dict) -> str:
    """The report as a small text table."""
    lines = [f"{'type':18} {'gold':>6} {'pred':>6} {'match':>6}  {'P':>6} {'R':>6} {'F1':>6}"]
    entries = [*report["types"].items(), (RELATIONS, report["relations"]), ("overall", report["overall"])]
    for name, f in entries:
        shown = [f"{f[k]:6.3f}" if f[k] is not None else f"{'-':>6}" for k in ("precision", "recall", "f1")]
        lines.append(f"{name:18} {f['gold']:6} {f['predicted']:6} {f['matched']:6}  {' '.join(shown)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gold_dir", type=Path, help="gold MeasEval folder (tsv/ and text/)")
    parser.add_argument("pred_dir", type=Path, help="predicted MeasEval folder (tsv/ and text/)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = score_folders(args.gold_dir, args.pred_dir)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rounded(report), indent=2))
    else:
        docs = report["documents"]
        print(f"paragraphs: {docs['gold']} gold, {docs['predicted']} predicted, {docs['aligned']} aligned")
        print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
