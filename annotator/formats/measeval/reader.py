"""MeasEval TSV in: one claim per annotation set.

A TSV row (docId, annotSet, annotType, startOffset, endOffset, annotId, text, other) is a
span; the paragraph is docId.txt in --text-dir (default: beside the TSV, then ../text/,
MeasEval's own layout). Per annotation set:
- the Quantity (exactly one) is a QUANTITY span: value, range and qualifier from our
  normaliser, the unit as written in meta["unit_text"] and canonical in `unit` (read by
  the unit table, else the normaliser's, else kept as written and flagged), and its
  `mods` become the claim's modifiers;
- MeasuredEntity, MeasuredProperty and Qualifier rows are spans (under MeasEval's own names
  if the configuration has them, else the claim scheme's labels for those parts, else as a
  label map says), the claim's entity, property and condition;
- HasQuantity, HasProperty and Qualifies links are relations too (named likewise).
Every row's ids and raw `other` stay in its span's meta["measeval"] (a span shared by two
sets has two entries) and the set in claim.meta["measeval"], so the export writes the same
rows back. Offsets must match the text; a bad row refuses its whole file (file:line).
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from annotator.contents import ClaimItem, Incoming, RelationItem, SpanItem
from annotator.formats.checks import offsets_problem, relation_problem
from annotator.formats.files import FileRead, collect, first_line_title, read_guarded, read_text
from annotator.formats.labelmap import LabelMap, Unknowns
from annotator.labels import LabelConfig
from annotator.models import document_uid
from annotator.nlp.language import detect_language
from annotator.nlp.quantities import parsed_quantity
from annotator.nlp.units import lexicon_for
from annotator.problems import Problem

COLUMNS = ("docId", "annotSet", "annotType", "startOffset", "endOffset", "annotId", "text", "other")
QUANTITY, ENTITY, PROPERTY, QUALIFIER = "Quantity", "MeasuredEntity", "MeasuredProperty", "Qualifier"
TYPES = (QUANTITY, ENTITY, PROPERTY, QUALIFIER)
LINKS = ("HasQuantity", "HasProperty", "Qualifies")


ROLE_OF_TYPE = {QUANTITY: "quantity", ENTITY: "entity", PROPERTY: "property", QUALIFIER: "condition"}
RELATION_OF_LINK = {"HasQuantity": "has_quantity", "HasProperty": "has_property", "Qualifies": "qualifies"}


# A docId names a file in the text folder: any script, but no separator, no leading dot
# (so neither ".." nor a hidden file) and no control character.
SAFE_DOC_ID = re.compile(r"[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,199}")


def _whole(field: str) -> bool:
    """A whole number as MeasEval writes it: ASCII digits only ("١" is a digit to Python)."""
    return field.isascii() and field.isdigit()


def default_map(labels: LabelConfig) -> LabelMap:
    """MeasEval's names onto the parts of the configuration's claim scheme, for the names the
    configuration does not have itself (a MeasEval scheme keeps its own)."""
    scheme = labels.claims
    entities = {name: getattr(scheme, role) for name, role in ROLE_OF_TYPE.items()}
    relations = {name: getattr(scheme, role) for name, role in RELATION_OF_LINK.items()}
    return LabelMap(
        entities={k: v for k, v in entities.items() if v and k not in labels.entities},
        relations={k: v for k, v in relations.items() if v and k not in labels.relations},
    )


def flat(text: str) -> str:
    """A TSV field cannot hold tabs or line breaks: both sides compare (and write) them as spaces."""
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def read_measeval(
    paths: list[str], labels: LabelConfig, unknowns: Unknowns, text_dir: str | None
) -> tuple[list[FileRead], list[Problem]]:
    tsvs, problems = collect(paths, (".tsv",), "MeasEval annotations")
    if text_dir is not None and not Path(text_dir).is_dir():
        return [], problems + [Problem(text_dir, None, "--text-dir: no such directory")]
    seen_sets: dict[tuple[str, str], str] = {}
    out = []
    for tsv in tsvs:
        out.append(read_guarded(tsv, _read_tsv, tsv, labels, unknowns, text_dir, seen_sets))
    return out, problems


def _rows(path: Path) -> tuple[list[tuple[int, list[str]]], list[Problem]]:
    body, problem = read_text(path)
    if problem:
        return [], [problem]
    lines = body.split("\n")
    header = lines[0].rstrip("\r").split("\t")
    if tuple(header) != COLUMNS:
        return [], [Problem(str(path), 1, f"expected the MeasEval header {' '.join(COLUMNS)!r} (tab-separated)")]
    rows, problems = [], []
    for lineno, line in enumerate(lines[1:], 2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(COLUMNS):
            problems.append(
                Problem(str(path), lineno, f"expected {len(COLUMNS)} tab-separated columns, got {len(fields)}")
            )
        else:
            rows.append((lineno, fields))
    if not rows and not problems:
        problems.append(Problem(str(path), None, "no annotation rows"))
    return rows, problems


def _text_for(doc_id: str, tsv: Path, text_dir: str | None) -> Path | None:
    places = [Path(text_dir)] if text_dir else [tsv.parent, tsv.parent.parent / "text"]
    return next((p / f"{doc_id}.txt" for p in places if (p / f"{doc_id}.txt").is_file()), None)


def _read_tsv(tsv: Path, labels: LabelConfig, unknowns: Unknowns, text_dir, seen_sets: dict) -> FileRead:
    result = FileRead(str(tsv))
    rows, result.problems = _rows(tsv)
    by_doc: dict[str, list] = {}
    for lineno, fields in rows:
        by_doc.setdefault(fields[0], []).append((lineno, fields))
    for doc_id, doc_rows in by_doc.items():
        if not SAFE_DOC_ID.fullmatch(doc_id):
            # a docId names a file beside the others: never a path out of the text folder
            result.problems.append(
                Problem(
                    str(tsv),
                    doc_rows[0][0],
                    f"docId {doc_id!r} is not a file name (no slash, backslash, leading dot or control character)",
                )
            )
            continue
        text_path = _text_for(doc_id, tsv, text_dir)
        text, problem = (
            read_text(text_path, bom=True)
            if text_path
            else (
                None,
                Problem(
                    str(tsv),
                    doc_rows[0][0],
                    f"no text {doc_id}.txt in {text_dir or 'the TSV folder or ../text/'} "
                    "(give the folder of the paragraph texts with --text-dir)",
                ),
            )
        )
        if problem:
            result.problems.append(problem)
            continue
        result.uids.add(document_uid(text))
        reader = _DocReader(str(tsv), doc_id, text, labels, unknowns)
        doc = reader.read(doc_rows, seen_sets)
        result.problems += reader.problems
        result.docs.append(doc)
    if result.problems:
        result.docs = []
        result.problems.sort(key=lambda p: p.line or 0)
    return result


class _DocReader:
    """The rows of one docId: spans, links and one claim per annotation set."""

    def __init__(self, path: str, doc_id: str, text: str, labels: LabelConfig, unknowns: Unknowns):
        self.path, self.doc_id, self.text, self.labels, self.unknowns = path, doc_id, text, labels, unknowns
        self.problems: list[Problem] = []
        self.doc = Incoming(
            text=text,
            source=path,
            title=first_line_title(text),
            claimed_id=doc_id,
            lang=detect_language(text),
            lang_source="detected",
            sources=[path],
        )

    def fail(self, lineno: int, message: str) -> None:
        self.problems.append(Problem(self.path, lineno, message))

    def read(self, rows: list, seen_sets: dict) -> Incoming:
        sets: dict[str, dict[str, tuple]] = {}
        for lineno, fields in rows:
            row = self._row(lineno, fields)
            if row is None:
                continue
            members = sets.setdefault(fields[1], {})
            if fields[5] in members:
                self.fail(lineno, f"annotId {fields[5]} repeats in annotation set {fields[1]}")
                continue
            members[fields[5]] = row
        for set_name, members in sets.items():
            first = min(row["line"] for row in members.values())
            other_file = seen_sets.setdefault((self.doc_id, set_name), self.path)
            if other_file != self.path:
                self.fail(first, f"annotation set {set_name} of {self.doc_id} is also in {other_file}")
                continue
            self._claim(set_name, members, first)
        return self.doc

    def _row(self, lineno: int, fields: list[str]) -> dict | None:
        doc_id, set_name, kind, start, end, annot_id, written, other = fields
        if kind not in TYPES:
            return self.fail(lineno, f"annotType {kind!r} is not one of {', '.join(TYPES)}")
        if not (_whole(start) and _whole(end)) or not set_name or not annot_id:
            return self.fail(lineno, "startOffset and endOffset must be whole numbers; annotSet and annotId non-empty")
        start, end = int(start), int(end)
        problem = offsets_problem(self.text, start, end)
        if problem is None and flat(self.text[start:end]) != written:
            problem = (
                f"text {written!r} differs from the document's {flat(self.text[start:end])!r} at "
                f"{start}..{end} (offsets count code points of {doc_id}.txt)"
            )
        try:
            parsed = orjson.loads(other) if other.strip() else {}
        except orjson.JSONDecodeError as exc:
            parsed, problem = None, problem or f"'other' is not JSON: {exc}"
        if problem is None and not isinstance(parsed, dict):
            problem = "'other' must be a JSON object"
        if problem:
            return self.fail(lineno, problem)
        label = self.unknowns.entity(kind, (self.path, lineno))
        entry = {"doc": doc_id, "set": set_name, "id": annot_id, "type": kind, "other": other}
        if kind == QUALIFIER and isinstance(parsed.get("Qualifies"), str):
            entry["qualifies"] = parsed["Qualifies"]
        span = SpanItem((set_name, annot_id), start, end, label, meta={"measeval": [entry]})
        return {"line": lineno, "kind": kind, "span": span, "other": parsed}

    def _claim(self, set_name: str, members: dict[str, dict], first: int) -> None:
        quantities = [r for r in members.values() if r["kind"] == QUANTITY]
        if len(quantities) != 1:
            lines = ", ".join(str(r["line"]) for r in quantities) or "none"
            return self.fail(
                first,
                f"annotation set {set_name} has {len(quantities)} Quantity rows (lines {lines}); "
                "MeasEval gives each set exactly one",
            )
        quantity = quantities[0]
        modifiers = self._quantity(quantity)
        if modifiers is None:
            return
        relations = []
        for row in members.values():
            for link in LINKS:
                target = row["other"].get(link)
                if target is None:
                    continue
                if not isinstance(target, str):
                    return self.fail(row["line"], f"{link} must name one annotId as a string, not {target!r}")
                if target not in members:
                    return self.fail(row["line"], f"{link} names {target!r}, which is not in annotation set {set_name}")
                label = self.unknowns.relation(link, (self.path, row["line"]))
                head, child = row["span"], members[target]["span"]
                problem = relation_problem(self.labels, label, head.label, child.label)
                if problem:
                    return self.fail(row["line"], problem)
                relations.append(
                    RelationItem(head.id, child.id, label, {"measeval": [{"doc": self.doc_id, "set": set_name}]})
                )
        first_of = {
            kind: next((r["span"].id for r in members.values() if r["kind"] == kind), None)
            for kind in (ENTITY, PROPERTY, QUALIFIER)
        }
        contents = self.doc.contents
        contents.spans += [r["span"] for r in members.values()]
        contents.relations += relations
        contents.claims.append(
            ClaimItem(
                quantity["span"].id,
                entity_id=first_of[ENTITY],
                property_id=first_of[PROPERTY],
                condition_id=first_of[QUALIFIER],
                modifiers=modifiers,
                meta={"measeval": {"doc": self.doc_id, "set": set_name}},
            )
        )

    def _quantity(self, row: dict) -> list[str] | None:
        """Value and units of the Quantity span; its modifiers (None if refused)."""
        other, span = row["other"], row["span"]
        unit_text, mods = other.get("unit"), other.get("mods", [])
        if unit_text is not None and (not isinstance(unit_text, str) or len(unit_text) > 64):
            return self.fail(row["line"], "'unit' must be a string of at most 64 characters")
        if not isinstance(mods, list) or [m for m in mods if m not in self.labels.modifiers]:
            return self.fail(row["line"], f"unknown mods {mods!r} (known: {', '.join(self.labels.modifiers)})")
        for key, value in parsed_quantity(self.text[span.start : span.end], self.doc.lang).items():
            setattr(span, key, value)
        if not unit_text and span.unit is not None:
            span.meta["unit_read"] = span.unit  # read by us: the export writes no unit the file did not have
        if unit_text:
            span.meta["unit_text"] = unit_text
            canonical = canonical_unit(unit_text, self.doc.lang)
            if canonical:
                span.unit = canonical
            elif span.unit is None:
                span.unit = unit_text.strip()
                span.meta["unit_noncanonical"] = True
        return sorted(set(mods))


def canonical_unit(written: str, lang: str | None) -> str | None:
    """The unit table's canonical form of a unit as written ("mV m−1" -> "mV/m"), if it reads whole."""
    written = written.strip()
    read = lexicon_for(lang or "en").read_unit(written, 0) if written else None
    return read[0] if read and read[1] == len(written) else None
