"""MeasEval TSV out: `annotator export --format measeval`, one annotation set per claim.

    measeval/text/<docId>.txt, measeval/tsv/<docId>.tsv   (measeval/train/text/, ... with --split)

MeasEval's own layout, so `annotator import --format measeval measeval/tsv` reads it back.
Rows imported from MeasEval come back as they were: same docId, annotSet, annotId, and the
same `other` text while what it says still holds (the unit as written, the claim's
modifiers, a link whose target is still in the set); otherwise `other` is rebuilt. Claims
made in the tool get a new set number and ids T1-<set>, T2-<set>, ...: Quantity (other:
unit, mods), MeasuredProperty (HasQuantity), MeasuredEntity (HasProperty when there is a
property, else HasQuantity) and Qualifier (Qualifies the quantity). MeasEval has no place
for a property given as text, nor for a claim's time and source: those are counted in the
manifest. Documents without claims get their text and a TSV with the header only.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from annotator.formats.measeval.reader import COLUMNS, ENTITY, PROPERTY, QUALIFIER, QUANTITY, flat

_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")
_ANNOT_ID = re.compile(r"^T(\d+)-")
ROLE_TYPES = (("quantity", QUANTITY), ("property", PROPERTY), ("entity", ENTITY), ("condition", QUALIFIER))


class MeasEvalWriter:
    def __init__(self, labels, folder: Path):
        self.root = folder / "measeval"
        self.root.mkdir()
        self.used: dict[Path, set[str]] = {}
        self.stats: Counter = Counter()

    def add(self, record: dict, part: str | None) -> None:
        base = self.root / part if part else self.root
        if base not in self.used:
            (base / "text").mkdir(parents=True)
            (base / "tsv").mkdir()
            self.used[base] = set()
        doc_id = self._doc_id(record, self.used[base])
        rows = tsv_rows(record, doc_id, self.stats)
        (base / "text" / f"{doc_id}.txt").write_bytes(record["text"].encode("utf-8"))
        lines = ["\t".join(COLUMNS)] + ["\t".join(row) for row in rows]
        (base / "tsv" / f"{doc_id}.tsv").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        self.stats["documents"] += 1
        self.stats["rows"] += len(rows)

    @staticmethod
    def _doc_id(record: dict, used: set[str]) -> str:
        """The MeasEval docId it came with (free and file-safe), else the document id."""
        known = [c["meta"]["measeval"]["doc"] for c in record["claims"] if "measeval" in c.get("meta", {})]
        known += [record.get("source_id")]
        name = next((k for k in known if isinstance(k, str) and _FILE_NAME.match(k) and k not in used), record["id"])
        used.add(name)
        return name

    def write(self, folder: Path) -> None:
        pass  # files are written as records arrive

    def report(self) -> dict:
        return {
            "documents": self.stats["documents"],
            "annotation_sets": self.stats["sets"],
            "rows": self.stats["rows"],
            "rows_with_new_ids": self.stats["new_rows"],
            "property_texts_left_out": self.stats["property_text"],
            "claim_times_and_sources_left_out": self.stats["time_source"],
        }


def _entries(span: dict, doc_id: str | None = None) -> list[dict]:
    return [e for e in (span.get("meta") or {}).get("measeval", []) if doc_id is None or e.get("doc") == doc_id]


def tsv_rows(record: dict, doc_id: str, stats: Counter) -> list[list[str]]:
    spans = {s["id"]: s for s in record["spans"]}
    taken = {e["set"] for s in record["spans"] for e in _entries(s)}
    taken |= {c["meta"]["measeval"]["set"] for c in record["claims"] if "measeval" in c.get("meta", {})}
    numbers = [int(t) for t in taken if t.isdigit()]
    next_set = max(numbers, default=0)
    rows = []
    for claim in record["claims"]:
        known = claim.get("meta", {}).get("measeval")
        if known:
            set_name, source_doc = known["set"], known["doc"]
        else:
            next_set += 1
            set_name, source_doc = str(next_set), None
        rows += _set_rows(record["text"], spans, claim, set_name, source_doc, doc_id, stats)
        stats["sets"] += 1
        stats["property_text"] += bool((claim.get("property") or {}).get("text"))
        stats["time_source"] += bool(claim.get("time")) + bool(claim.get("source"))
    return rows


def _set_rows(text: str, spans: dict, claim: dict, set_name: str, source_doc, doc_id: str, stats: Counter) -> list:
    """The rows of one annotation set: stored ones first, then the claim's roles still missing."""
    members: list[tuple[dict, dict]] = []  # (entry, span)
    for span in spans.values():
        for e in _entries(span, source_doc) if source_doc else []:
            if e["set"] == set_name:
                members.append((e, span))
    role_span = {
        role: (claim.get("property") or {}).get("span") if role == "property" else claim.get(role)
        for role, _ in ROLE_TYPES
    }
    present = {(e["type"], span["id"]) for e, span in members}
    numbers = [int(m.group(1)) for e, _ in members if (m := _ANNOT_ID.match(e["id"]))]
    k = max(numbers, default=0)
    for role, kind in ROLE_TYPES:
        sid = role_span[role]
        if sid and (kind, sid) not in present:
            k += 1
            members.append(({"set": set_name, "id": f"T{k}-{set_name}", "type": kind, "other": ""}, spans[sid]))
            stats["new_rows"] += 1
    id_of = {}  # (type, span id) -> annotId, for the links
    for e, span in members:
        id_of.setdefault((e["type"], span["id"]), e["id"])
    ids = {e["id"] for e, _ in members}
    out = []
    for e, span in sorted(members, key=lambda m: _order(m[0])):
        other = _other(e, span, claim, role_span, id_of, ids)
        out.append(
            [
                doc_id,
                set_name,
                e["type"],
                str(span["start"]),
                str(span["end"]),
                e["id"],
                flat(text[span["start"] : span["end"]]),
                other,
            ]
        )
    return out


def _order(entry: dict) -> tuple:
    m = _ANNOT_ID.match(entry["id"])
    return (int(m.group(1)) if m else 10**9, entry["id"])


def _other(entry: dict, span: dict, claim: dict, role_span: dict, id_of: dict, ids: set) -> str:
    """The `other` column: the stored text while it still says what the data says."""
    raw = entry.get("other") or ""
    stored = json.loads(raw) if raw.strip() else {}
    wanted = dict(stored)
    kind = entry["type"]
    if kind == QUANTITY:
        unit = written_unit(span)
        _put(wanted, "unit", unit)
        mods = list(claim.get("modifiers") or [])
        _put(wanted, "mods", stored["mods"] if sorted(stored.get("mods", [])) == sorted(mods) and mods else mods)
    else:
        link = {
            PROPERTY: "HasQuantity",
            ENTITY: "HasProperty" if role_span["property"] else "HasQuantity",
            QUALIFIER: "Qualifies",
        }[kind]
        if not any(stored.get(k) in ids for k in ("HasQuantity", "HasProperty", "Qualifies")):
            for k in ("HasQuantity", "HasProperty", "Qualifies"):
                wanted.pop(k, None)
            target = {
                "HasQuantity": ("quantity", QUANTITY),
                "HasProperty": ("property", PROPERTY),
                "Qualifies": ("quantity", QUANTITY),
            }[link]
            wanted[link] = id_of.get((target[1], role_span[target[0]]))
    if wanted == stored:
        return raw
    return json.dumps({k: v for k, v in wanted.items() if v is not None}, ensure_ascii=False)


def written_unit(span: dict) -> str | None:
    """The unit a Quantity row gives: as written in the file it came from (none if it gave
    none, whatever our normaliser read), unless the unit was changed since; else the span's."""
    meta = span.get("meta") or {}
    if "unit_text" in meta:
        return meta["unit_text"]
    if "unit_read" in meta and span.get("unit") == meta["unit_read"]:
        return None  # the file had no unit; the normaliser's reading is ours, not the file's
    return span.get("unit")


def _put(obj: dict, key: str, value) -> None:
    if value:
        obj[key] = value
    else:
        obj.pop(key, None)
