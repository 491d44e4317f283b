"""MeasEval data as test material: read the TSVs, write them out as brat standoff (one
file pair per annotation set, as MeasEval's annotators produced them), make a second
annotator's deterministic variant, and compare folders and agreement independently of the
`annotator` package, so tests can check the package's importers, exporters and agreement
figures against numbers computed another way.

Standard library only, except that `require_measeval` imports pytest when it is called.
The data folder is looked up at run time beside the repository (see `measeval_dir`).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

TSV_HEADER = "docId\tannotSet\tannotType\tstartOffset\tendOffset\tannotId\ttext\tother"
LABELS = ("Quantity", "MeasuredEntity", "MeasuredProperty", "Qualifier")
LINK_TYPES = ("HasQuantity", "HasProperty", "Qualifies")
# MeasEval's modifier vocabulary; annotator 2 draws replacements from it.
MODIFIERS = ("IsApproximate", "IsCount", "IsRange", "IsList", "IsMean", "IsMedian", "HasTolerance")

NOTE_EVERY = 7  # every 7th annotation set gets a note on its quantity
DROP_SET = 0.05  # annotator 2 leaves out this share of the sets ...
SHIFT_ENTITY = 0.05  # ... moves one boundary of this share of the entities ...
RELABEL_PROPERTY = 0.03  # ... calls this share of the properties entities ...
CHANGE_MODIFIERS = 0.05  # ... and changes the modifiers of this share of the quantities.
# Entities with at least three words (an inner word to cut out) are split at this rate in
# both annotators; in MeasEval train that is about 2% of all entities that contain a space.
DISCONTINUOUS = 0.045

WORD = re.compile(r"\S+")


# --- the data folder ----------------------------------------------------------------------


def measeval_dir() -> Path | None:
    """The MeasEval folder `shared/measeval` beside the repository's parent folder, or None."""
    folder = Path(__file__).resolve().parents[3] / "shared" / "measeval"
    return folder if folder.is_dir() else None


def require_measeval() -> Path:
    """The MeasEval folder; skips the calling test (or module) when it is not there."""
    import pytest  # only here, so the rest of the module stays standard library

    folder = measeval_dir()
    if folder is None:
        expected = Path(__file__).resolve().parents[3] / "shared" / "measeval"
        pytest.skip(f"MeasEval data not found: no folder {expected} (shared/measeval beside the repository)")
    return folder


# --- reading MeasEval TSV -----------------------------------------------------------------


class Row(NamedTuple):
    """One TSV row; `other` is kept exactly as written (JSON or empty)."""

    doc_id: str
    annot_set: str
    annot_type: str
    start: int
    end: int
    annot_id: str
    text: str
    other: str

    def other_json(self) -> dict:
        return json.loads(self.other) if self.other else {}


def read_text(path: Path) -> str:
    """A file's text as stored: no newline translation, so offsets count what is on disk."""
    return Path(path).read_bytes().decode("utf-8")


def split_tsv(content: str) -> tuple[str, list[list[str]]]:
    """Header and rows of a TSV. Only "\\n" and "\\t" separate: the texts may hold other
    characters that str.splitlines() would treat as line breaks."""
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last row
    if not lines:
        return "", []
    return lines[0], [line.split("\t") for line in lines[1:]]


def _row(fields: list[str], where: str) -> Row:
    if len(fields) != 8:
        raise ValueError(f"{where}: {len(fields)} columns, expected 8")
    doc_id, annot_set, annot_type, start, end, annot_id, text, other = fields
    return Row(doc_id, annot_set, annot_type, int(start), int(end), annot_id, text, other)


def read_tsv_sets(tsv_dir, text_dir) -> dict[str, tuple[str, dict[str, list[Row]]]]:
    """docId -> (text, {annotSet: rows in file order}) for every text in `text_dir`;
    texts without a TSV get an empty dict. A TSV without its text is an error."""
    docs = {p.stem: (read_text(p), {}) for p in sorted(Path(text_dir).glob("*.txt"))}
    for path in sorted(Path(tsv_dir).glob("*.tsv")):
        if path.stem not in docs:
            raise FileNotFoundError(f"{path.name}: no {path.stem}.txt in {text_dir}")
        header, cells = split_tsv(read_text(path))
        if header != TSV_HEADER:
            raise ValueError(f"{path.name}: unexpected header {header!r}")
        sets = docs[path.stem][1]
        for number, fields in enumerate(cells, start=2):
            row = _row(fields, f"{path.name}:{number}")
            if row.doc_id != path.stem:
                raise ValueError(f"{path.name}:{number}: docId {row.doc_id!r}")
            sets.setdefault(row.annot_set, []).append(row)
    return docs


def tsv_findings(docs: dict) -> list[str]:
    """Things worth knowing about parsed sets: row texts that differ from the paragraph,
    sets without exactly one Quantity, links to ids outside the set, units that do not
    occur in their quantity's text, quantities nothing is linked to, unknown types."""
    found = []
    for doc_id, (text, sets) in docs.items():
        for annot_set, rows in sets.items():
            where = f"{doc_id} set {annot_set}"
            found += [
                f"{where}: {r.annot_id} text {r.text!r} != {text[r.start : r.end]!r}"
                for r in rows
                if text[r.start : r.end] != r.text
            ]
            found += _set_findings(where, rows)
    return found


def _set_findings(where: str, rows: list[Row]) -> list[str]:
    found = [f"{where}: {r.annot_id} has type {r.annot_type!r}" for r in rows if r.annot_type not in LABELS]
    ids = {r.annot_id for r in rows}
    quantities = [r for r in rows if r.annot_type == "Quantity"]
    if len(quantities) != 1:
        found.append(f"{where}: {len(quantities)} Quantity rows")
    targets = set()
    for r in rows:
        other = r.other_json()
        for link in LINK_TYPES:
            if link in other:
                targets.add(other[link])
                if other[link] not in ids:
                    found.append(f"{where}: {r.annot_id} {link} {other[link]} is not in the set")
        unit = other.get("unit") if r.annot_type == "Quantity" else None
        if unit and unit not in r.text:
            found.append(f"{where}: unit {unit!r} not inside quantity {r.text!r}")
    found += [
        f"{where}: nothing links to quantity {q.annot_id} {q.text!r}" for q in quantities if q.annot_id not in targets
    ]
    return found


# --- a brat annotation set in memory ------------------------------------------------------


@dataclass
class BratSpan:
    key: str  # the TSV annotId (or "<annotId>:unit")
    label: str
    fragments: list[tuple[int, int]]
    origin: str = ""  # the label in the TSV, kept when annotator 2 relabels


@dataclass
class BratSet:
    name: str  # file stem: "<docId>-<annotSet>"
    text: str
    spans: list[BratSpan]
    relations: list[tuple[str, str, str]] = field(default_factory=list)  # (type, arg1, arg2)
    modifiers: list[tuple[str, str]] = field(default_factory=list)  # (quantity key, value)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (span key, note)


def unit_span(row: Row, unit: str | None) -> tuple[int, int] | None:
    """Offsets of the unit's last occurrence in the quantity ("5 to 10 m": the final "m"),
    or None when the unit text does not occur in the quantity's text."""
    if not unit:
        return None
    at = row.text.rfind(unit)
    return None if at < 0 else (row.start + at, row.start + at + len(unit))


def build_set(doc_id: str, annot_set: str, text: str, rows: list[Row], note: bool) -> BratSet:
    """One annotation set as brat sees it: a span per row (in row order), then unit spans;
    a relation per link (Arg1 is the row holding the link); a QuantityQualifier per mod;
    with `note`, an AnnotatorNotes line giving each quantity's unit."""
    bset = BratSet(
        f"{doc_id}-{annot_set}",
        text,
        [BratSpan(r.annot_id, r.annot_type, [(r.start, r.end)], r.annot_type) for r in rows],
    )
    ids = {r.annot_id for r in rows}
    for r in rows:
        other = r.other_json()
        for link in LINK_TYPES:
            if link in other:
                if other[link] not in ids:
                    raise ValueError(f"{bset.name}: {r.annot_id} links to {other[link]} outside the set")
                bset.relations.append((link, r.annot_id, other[link]))
        if r.annot_type == "Quantity":
            _add_quantity_extras(bset, r, other, note)
    return bset


def _add_quantity_extras(bset: BratSet, row: Row, other: dict, note: bool) -> None:
    bset.modifiers += [(row.annot_id, mod) for mod in other.get("mods", [])]
    unit = other.get("unit")
    offsets = unit_span(row, unit)
    if offsets:
        bset.spans.append(BratSpan(f"{row.annot_id}:unit", "Unit", [offsets], "Unit"))
    if note and unit and "\n" not in unit:
        bset.notes.append((row.annot_id, unit))


def render_ann(bset: BratSet) -> str:
    """The .ann text: T, R (with the tab brat writes after the arguments), A, # lines."""
    tid = {span.key: f"T{i}" for i, span in enumerate(bset.spans, start=1)}
    lines = [t_line(tid[s.key], s.label, s.fragments, bset.text) for s in bset.spans]
    lines += [f"R{i}\t{kind} Arg1:{tid[a]} Arg2:{tid[b]}\t" for i, (kind, a, b) in enumerate(bset.relations, start=1)]
    lines += [f"A{i}\tQuantityQualifier {tid[key]} {value}" for i, (key, value) in enumerate(bset.modifiers, start=1)]
    lines += [f"#{i}\tAnnotatorNotes {tid[key]}\t{note}" for i, (key, note) in enumerate(bset.notes, start=1)]
    return "".join(line + "\n" for line in lines)


def t_line(ident: str, label: str, fragments: list[tuple[int, int]], text: str) -> str:
    """A T line; brat joins the texts of discontinuous fragments with one space."""
    offsets = ";".join(f"{s} {e}" for s, e in fragments)
    return f"{ident}\t{label} {offsets}\t{' '.join(text[s:e] for s, e in fragments)}"


# --- annotator 2 and discontinuous spans --------------------------------------------------


def stable_fraction(*parts: str) -> float:
    """A number in [0, 1) fixed by `parts`: the same on every run, whatever the hash seed."""
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_some_entities(bset: BratSet) -> int:
    """Cut an inner word out of a few entities, making them two-fragment spans. The choice
    depends only on the set and the row id, so both annotators split the same entities."""
    count = 0
    for span in bset.spans:
        if (
            span.label == span.origin == "MeasuredEntity"
            and len(span.fragments) == 1
            and stable_fraction(bset.name, span.key) < DISCONTINUOUS
        ):
            fragments = cut_inner_word(bset.text, *span.fragments[0])
            if fragments:
                span.fragments = fragments
                count += 1
    return count


def cut_inner_word(text: str, start: int, end: int) -> list[tuple[int, int]] | None:
    """Two fragments covering [start, end) without its middle word, or None when the span
    has fewer than three words. The gap holds that word, so it is never only whitespace."""
    words = [(m.start(), m.end()) for m in WORD.finditer(text, start, end)]
    if len(words) < 3:
        return None
    k = len(words) // 2
    return [(words[0][0], words[k - 1][1]), (words[k + 1][0], words[-1][1])]


def perturb_set(bset: BratSet, rng: random.Random, changes: Counter) -> None:
    """Annotator 2's deviations in one set, each drawn from `rng` in span order."""
    for span in list(bset.spans):
        if span.label == "MeasuredEntity" and rng.random() < SHIFT_ENTITY:
            if shift_one_boundary(span, bset.text, rng):
                changes["shifted entity boundaries"] += 1
        elif span.label == "MeasuredProperty" and rng.random() < RELABEL_PROPERTY:
            relabel_as_entity(bset, span)
            changes["properties relabelled as entities"] += 1
        elif span.label == "Quantity" and rng.random() < CHANGE_MODIFIERS:
            change_modifiers(bset, span.key, rng)
            changes["quantities with changed modifiers"] += 1


def word_shifts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans one word longer or shorter at either end, never empty, never outside the text,
    never starting or ending on whitespace."""
    inner = text[start:end]
    options = []
    if (after := WORD.search(text, end)) is not None:
        options.append((start, after.end()))  # take in the next word
    if (before := re.search(r"\S+\s*\Z", text[:start])) is not None:
        options.append((before.start(), end))  # take in the previous word
    gaps = list(re.finditer(r"\s+", inner))
    if gaps:
        options.append((start, start + gaps[-1].start()))  # drop the last word
        options.append((start + gaps[0].end(), end))  # drop the first word
    return [o for o in options if o != (start, end) and o[0] < o[1]]


def shift_one_boundary(span: BratSpan, text: str, rng: random.Random) -> bool:
    options = word_shifts(text, *span.fragments[0])
    if not options:
        return False
    span.fragments = [rng.choice(options)]
    return True


def relabel_as_entity(bset: BratSet, span: BratSpan) -> None:
    """Call a property an entity. Its own HasQuantity stays valid (an entity may hold the
    quantity); HasProperty pointing at it would not, so that relation goes."""
    span.label = "MeasuredEntity"
    bset.relations = [r for r in bset.relations if not (r[0] == "HasProperty" and r[2] == span.key)]


def change_modifiers(bset: BratSet, key: str, rng: random.Random) -> None:
    """Drop, replace or add one modifier of the quantity `key`; the result always differs."""
    mine = [value for k, value in bset.modifiers if k == key]
    unused = [m for m in MODIFIERS if m not in mine]
    if mine and rng.random() < 0.5:
        mine.pop(rng.randrange(len(mine)))
    elif mine:
        mine[rng.randrange(len(mine))] = rng.choice(unused)
    else:
        mine.append(rng.choice(unused))
    bset.modifiers = [(k, v) for k, v in bset.modifiers if k != key] + [(key, v) for v in mine]


# --- writing a brat corpus ----------------------------------------------------------------


def write_brat_corpus(split_dir, out_dir, annotator: int = 1, seed: int = 0) -> dict:
    """Write a MeasEval split (a folder with text/ and tsv/) as brat standoff into
    `out_dir` (new or empty): `<docId>-<annotSet>.txt/.ann` per annotation set, and
    `<docId>.txt` with an empty .ann for a paragraph without sets. `annotator=2` writes a
    second annotator's version, drawn from random.Random(seed). Returns a summary."""
    if annotator not in (1, 2):
        raise ValueError(f"annotator must be 1 or 2, not {annotator!r}")
    out = _empty_folder(Path(out_dir))
    split_dir = Path(split_dir)
    docs = read_tsv_sets(split_dir / "tsv", split_dir / "text")
    rng, summary, number = random.Random(seed), _new_summary(annotator, seed), 0
    for doc_id, (text, sets) in docs.items():
        written = 0
        for annot_set, rows in sets.items():
            number += 1  # counts dropped sets too, so both annotators note the same sets
            bset = build_set(doc_id, annot_set, text, rows, note=number % NOTE_EVERY == 0)
            if annotator == 2 and rng.random() < DROP_SET:
                summary["changes"]["dropped sets"] += 1
                continue
            if annotator == 2:
                perturb_set(bset, rng, summary["changes"])
            split_some_entities(bset)
            _write_pair(out, bset.name, text, render_ann(bset))
            _count_set(summary, bset)
            written += 1
        if not written:  # no sets, or annotator 2 dropped them all: the paragraph stays
            _write_pair(out, doc_id, text, "")
            summary["files"] += 2
            summary["empty_files"] += 1
    return _finish_summary(summary, len(docs))


def _empty_folder(out: Path) -> Path:
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _write_pair(out: Path, stem: str, text: str, ann: str) -> None:
    (out / f"{stem}.txt").write_bytes(text.encode("utf-8"))
    (out / f"{stem}.ann").write_bytes(ann.encode("utf-8"))


def _new_summary(annotator: int, seed: int) -> dict:
    return {
        "annotator": annotator,
        "seed": seed if annotator == 2 else None,
        "files": 0,
        "sets": 0,
        "spans": Counter(),
        "relations": Counter(),
        "attributes": 0,
        "notes": 0,
        "discontinuous": 0,
        "empty_files": 0,
        "changes": Counter(),
    }


def _count_set(summary: dict, bset: BratSet) -> None:
    summary["files"] += 2
    summary["sets"] += 1
    summary["spans"].update(span.label for span in bset.spans)
    summary["relations"].update(kind for kind, _, _ in bset.relations)
    summary["attributes"] += len(bset.modifiers)
    summary["notes"] += len(bset.notes)
    summary["discontinuous"] += sum(len(span.fragments) > 1 for span in bset.spans)


def _finish_summary(summary: dict, documents: int) -> dict:
    summary["documents"] = documents
    for key in ("spans", "relations", "changes"):
        summary[key] = dict(sorted(summary[key].items()))
    return summary


# --- comparing brat folders ---------------------------------------------------------------


def ann_lines(path) -> list[str]:
    """The lines of an .ann file, split on "\\n" only so that trailing tabs survive."""
    lines = read_text(Path(path)).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


R_REST = re.compile(r"(\S+) ([^\s:]+):(\S+) ([^\s:]+):(\S+)(.*)", re.S)  # type a1:id a2:id tail
A_REST = re.compile(r"(\S+) (\S+)(?: (.*))?", re.S)  # name target [value]
NOTE_REST = re.compile(r"(\S+) (\S+)(.*)", re.S)  # type target tail


def ann_lines_modulo_ids(path) -> Counter:
    """The lines of one .ann with every id replaced by what it names: two files that say
    the same with other id numbers give equal Counters; anything else must match exactly.
    Lines this does not understand are kept verbatim as ("?", line)."""
    lines = ann_lines(path)
    rest_of = {}
    for line in lines:
        ident, tab, rest = line.partition("\t")
        if tab:
            rest_of.setdefault(ident, rest)
    describe = _describer(rest_of)
    return Counter(_describe_line(line, describe) for line in lines)


def _describe_line(line: str, describe) -> tuple:
    ident, tab, rest = line.partition("\t")
    if not tab or not ident or ident[0] not in "TRAMN#":
        return ("?", line)
    return describe(ident, rest, frozenset())


def _describer(rest_of: dict[str, str]):
    """describe(ident, rest, seen) -> the canonical tuple of a line; references to other
    ids are replaced by their own descriptions (unknown or cyclic ones stay visible)."""

    def ref(target: str, seen: frozenset) -> tuple:
        if target not in rest_of or target in seen:
            return ("unresolved", target)
        return describe(target, rest_of[target], seen | {target})

    def describe(ident: str, rest: str, seen: frozenset) -> tuple:
        kind = ident[:1]
        if kind == "T":
            return ("T", rest)
        if kind == "R" and (m := R_REST.fullmatch(rest)):
            kind_, role1, arg1, role2, arg2, tail = m.groups()
            return ("R", kind_, role1, ref(arg1, seen), role2, ref(arg2, seen), tail)
        if kind in "AM" and (m := A_REST.fullmatch(rest)):
            return ("A", m[1], ref(m[2], seen), m[3])
        if kind in "N#" and (m := NOTE_REST.fullmatch(rest)):
            return (kind, m[1], ref(m[2], seen), m[3])
        return ("?", f"{ident}\t{rest}")

    return describe


def compare_brat_folders(a, b) -> list[str]:
    """Differences between two brat folders, file by file: files on one side only, .ann
    files whose lines differ modulo ids, other files that are not byte-identical."""
    a, b = Path(a), Path(b)
    files_a, files_b = _relative_files(a), _relative_files(b)
    diffs = [f"{name}: only in {a}" for name in sorted(files_a - files_b)]
    diffs += [f"{name}: only in {b}" for name in sorted(files_b - files_a)]
    for name in sorted(files_a & files_b):
        if name.endswith(".ann"):
            diffs += _ann_differences(name, a / name, b / name)
        elif (a / name).read_bytes() != (b / name).read_bytes():
            diffs.append(f"{name}: contents differ")
    return diffs


def _relative_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _ann_differences(name: str, path_a: Path, path_b: Path) -> list[str]:
    lines_a, lines_b = ann_lines_modulo_ids(path_a), ann_lines_modulo_ids(path_b)
    diffs = [f"{name}: only in first ({n}x): {entry!r}" for entry, n in (lines_a - lines_b).items()]
    diffs += [f"{name}: only in second ({n}x): {entry!r}" for entry, n in (lines_b - lines_a).items()]
    return diffs


# --- comparing MeasEval TSV folders -------------------------------------------------------


def compare_measeval_folders(original_tsv_dir, exported_tsv_dir) -> list[str]:
    """Differences between original MeasEval TSVs and an export of them: every original
    .tsv must have an exported file of that name with the same header and the same rows as
    a multiset (`other` compared as JSON values); any other exported file is extra."""
    original, exported = Path(original_tsv_dir), Path(exported_tsv_dir)
    names = sorted(p.name for p in original.glob("*.tsv") if p.is_file())
    present = {p.name for p in exported.iterdir()} if exported.is_dir() else set()
    diffs = []
    for name in names:
        if name not in present:
            diffs.append(f"{name}: missing from {exported}")
        else:
            diffs += _tsv_differences(name, original / name, exported / name)
    diffs += [f"{name}: extra in {exported}" for name in sorted(present - set(names))]
    return diffs


def _tsv_differences(name: str, original: Path, exported: Path) -> list[str]:
    try:
        header_a, rows_a = split_tsv(read_text(original))
        header_b, rows_b = split_tsv(read_text(exported))
    except UnicodeDecodeError as exc:
        return [f"{name}: not UTF-8 ({exc.reason})"]
    diffs = [] if header_a == header_b else [f"{name}: header {header_b!r}, expected {header_a!r}"]
    shown, keys_a, keys_b = {}, Counter(), Counter()
    for rows, keys in ((rows_a, keys_a), (rows_b, keys_b)):
        for fields in rows:
            key = _row_key(fields)
            keys[key] += 1
            shown.setdefault(key, "\t".join(fields))
    diffs += [f"{name}: row only in original ({n}x): {shown[k]!r}" for k, n in (keys_a - keys_b).items()]
    diffs += [f"{name}: row only in export ({n}x): {shown[k]!r}" for k, n in (keys_b - keys_a).items()]
    return diffs


def _row_key(fields: list[str]) -> tuple:
    """What must be equal: the first seven columns exactly, `other` as a JSON value (so
    key order and spacing do not matter; an empty `other` is not the same as "{}")."""
    if len(fields) != 8:
        return ("malformed", *fields)
    return (*fields[:7], _json_key(fields[7]))


def _json_key(other: str) -> tuple:
    if other == "":
        return ("empty",)
    try:
        return ("json", json.dumps(json.loads(other), sort_keys=True, ensure_ascii=False))
    except ValueError:
        return ("not json", other)


# --- span agreement -----------------------------------------------------------------------


def span_f1_per_label(folder_a, folder_b, documents=None) -> dict[str, dict]:
    """Exact-match span F1 per label (and "micro" over all labels) between two brat
    folders read as two annotators. A document is a paragraph text: all files with the same
    .txt content are pooled into one set of (start, end, label). Only documents in both
    folders count, or exactly `documents` (a set of texts) when given."""
    spans_a, spans_b = _spans_by_document(Path(folder_a)), _spans_by_document(Path(folder_b))
    docs = set(documents) if documents is not None else spans_a.keys() & spans_b.keys()
    tally = defaultdict(Counter)
    for doc in docs:
        a, b = spans_a.get(doc, set()), spans_b.get(doc, set())
        for side, spans in (("a", a), ("b", b), ("matched", a & b)):
            for _, _, label in spans:
                tally[label][side] += 1
    result = {label: _f1_entry(tally[label]) for label in sorted(tally)}
    result["micro"] = _f1_entry(sum(tally.values(), Counter()))
    return result


def _f1_entry(counts: Counter) -> dict:
    matched, a, b = counts["matched"], counts["a"], counts["b"]
    return {"matched": matched, "a": a, "b": b, "f1": 2 * matched / (a + b) if a + b else None}


def _spans_by_document(folder: Path) -> dict[str, set[tuple[int, int, str]]]:
    spans: dict[str, set] = {}
    for ann in sorted(folder.rglob("*.ann")):
        text = read_text(ann.with_suffix(".txt"))
        spans.setdefault(text, set()).update(t_spans(ann_lines(ann), text))
    return spans


def t_spans(lines: list[str], text: str) -> list[tuple[int, int, str]]:
    """(start, end, label) of the T lines: one per fragment, except that fragments with
    only whitespace between them count as one span (as if brat had not split them)."""
    spans = []
    for line in lines:
        ident, _, rest = line.partition("\t")
        if ident.startswith("T"):
            label, _, offsets = rest.split("\t", 1)[0].partition(" ")
            fragments = [tuple(int(n) for n in part.split()) for part in offsets.split(";")]
            spans += [(s, e, label) for s, e in merge_whitespace_gaps(fragments, text)]
    return spans


def merge_whitespace_gaps(fragments: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    merged = [list(fragments[0])]
    for start, end in fragments[1:]:
        if text[merged[-1][1] : start].strip() == "":
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]
