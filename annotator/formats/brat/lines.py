"""brat standoff out: the lines of the .ann files of `annotator export --format brat`.

Annotations imported from brat keep their ids, attributes, normalisations and notes and
go back to the file of their annotation set, so an import followed by an export gives the
same lines. Everything else gets new ids after the highest one in use: spans become T
lines (split at line breaks, as brat itself does), relations R lines, and claims the
MeasEval-style links their label configuration's claim scheme names (has_quantity,
has_property, qualifies relations, where the layer has no such relation already) with
their modifiers as attributes of the quantity span; a brat import reads them back as the
same claims (reader.add_claims), so a modifier attribute the claim no longer has is not
written back. A claim's links go to the file of the set that holds its quantity.
A document gets one file pair per annotation set it came as, empty ones included (the
layer keeps their names); annotations made in the tool join the first set's file. Files are
named after the annotation set when that name is free in the folder, otherwise after the
document id (writer.py writes them).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

from annotator.formats.brat.reader import claim_modifiers
from annotator.labels import ClaimScheme

_BREAK = r"\r\n\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85"  # what str.splitlines() breaks at
_LINE_BREAK = re.compile(f"[{_BREAK}]")
_BETWEEN_BREAKS = re.compile(f"[^{_BREAK}]+")
_ORDER = {"T": 0, "R": 1, "A": 2, "M": 2, "N": 3, "#": 4}


class ClaimWords(NamedTuple):
    """What the export needs of the label configuration to write claims: its claim scheme
    (which label is the quantity, which relations link the parts, which attribute carries
    modifiers) and the modifiers it knows."""

    scheme: ClaimScheme = ClaimScheme()
    modifiers: frozenset = frozenset()


def _entries(item: dict) -> list[dict]:
    return (item.get("meta") or {}).get("brat", [])


NO_CLAIM_WORDS = ClaimWords()


def record_sets(record: dict) -> list[str | None]:
    """The record's annotation sets: those its layer came as (empty ones included, in the
    order they came), then any other its annotations name; [None] for a layer made here."""
    given = (record.get("layer_meta") or {}).get("brat", {}).get("sets", [])
    named = {e["set"] for item in record["spans"] + record["relations"] for e in _entries(item) if "set" in e}
    return [*given, *sorted(named - set(given))] or [None]


def ann_files(record: dict, stats: Counter, words: ClaimWords = NO_CLAIM_WORDS) -> list[tuple[str | None, list[str]]]:
    """(annotation set, .ann lines) for each file of one record."""
    sets = record_sets(record)
    stats["sets"] += len(sets)
    homes = _claim_homes(record, sets)
    return [(s, _AnnFile(record, s, s == sets[0], stats, words, homes).lines()) for s in sets]


def _claim_homes(record: dict, sets: list) -> list:
    """The set whose file each claim's links and modifiers go to: the first that holds its
    quantity, else the first set (a claim on a span made here)."""
    spans = {s["id"]: s for s in record["spans"]}
    homes = []
    for claim in record["claims"]:
        have = {e.get("set") for e in _entries(spans[claim["quantity"]])}
        homes.append(next((s for s in sets if s in have), sets[0]))
    return homes


class _AnnFile:
    """The lines of one .ann file: one annotation set of one record."""

    def __init__(
        self, record: dict, set_name: str | None, primary: bool, stats: Counter, words: ClaimWords, homes: list
    ):
        self.record, self.set, self.primary, self.stats = record, set_name, primary, stats
        self.words, self.claims = words, [c for c, home in zip(record["claims"], homes) if home == set_name]
        self.text = record["text"]
        self.spans = {s["id"]: s for s in record["spans"]}
        self.out: list[tuple[int, int, str]] = []
        self.tid: dict[str, str] = {}  # record span id -> T id in this file
        self.next: Counter | None = None  # highest id per kind, counted on first need
        self.stale = self._stale_modifiers(words)

    def _stale_modifiers(self, words: ClaimWords) -> dict[str, frozenset]:
        """Per quantity span, the modifiers not to write back as attributes: its claims no
        longer have them (an import reads such an attribute as a claim's modifier)."""
        kept: dict[str, set] = {}
        for claim in self.record["claims"]:
            kept.setdefault(claim["quantity"], set()).update(claim.get("modifiers") or [])
        return {
            s["id"]: words.modifiers - kept.get(s["id"], set())
            for s in self.record["spans"]
            if s["label"] == words.scheme.quantity and _entries(s)
        }

    def _mine(self, item: dict) -> list[dict]:
        return [e for e in _entries(item) if e.get("set") == self.set]

    def _new(self, kind: str) -> str:
        if self.next is None:  # ids this set already uses, so a new one follows the highest
            self.next = Counter()
            for item in self.record["spans"] + self.record["relations"]:
                for e in self._mine(item):
                    self._reserve(e.get("id"))
                    for extra in (*e.get("attributes", ()), *e.get("normalizations", ()), *e.get("notes", ())):
                        self._reserve(extra["id"])
        self.next[kind] += 1
        return f"{kind}{self.next[kind]}"

    def _reserve(self, ident: str | None) -> None:
        if ident and ident[1:].isdigit():
            self.next[ident[0]] = max(self.next[ident[0]], int(ident[1:]))

    def _emit(self, ident: str, body: str) -> None:
        number = int(ident[1:]) if ident[1:].isdigit() else 0
        self.out.append((_ORDER[ident[0]], number, f"{ident}\t{body}"))

    def lines(self) -> list[str]:
        self._entities()
        self._relations()
        self._claims()
        return [line for _, _, line in sorted(self.out)]

    # -- T lines ---------------------------------------------------------------------------
    def _entities(self) -> None:
        fragments: dict[str, list[tuple[int, dict, dict]]] = {}
        for span in self.record["spans"]:
            mine = self._mine(span)
            if not mine and self.primary and not _entries(span):
                mine = [{"id": None}]  # made in the tool: a new T line in the first set's file
            for e in mine:
                if "fragment" in e:
                    fragments.setdefault(e["id"], []).append((e["fragment"], span, e))
                else:
                    self._t_line(e.get("id"), [span], e)
        for ident, parts in fragments.items():
            parts.sort(key=lambda p: p[0])
            self._t_line(ident, [span for _, span, _ in parts], parts[0][2])

    def _t_line(self, ident: str | None, spans: list[dict], entry: dict) -> str | None:
        first = spans[0]
        start, end = first["start"], first["end"]
        if len(spans) == 1 and "offsets" not in entry and not _LINE_BREAK.search(self.text, start, end):
            ident = ident or self._new("T")  # the usual span: one stretch on one line
            self._emit(ident, f"{first['label']} {start} {end}\t{self.text[start:end]}")
            self.tid.setdefault(first["id"], ident)
            self._extras(ident, entry, self.stale.get(first["id"], ()))
            return ident
        pieces = [p for span in spans for p in self._pieces(span)]
        if not pieces:
            self.stats["empty"] += 1
            return None
        ident = ident or self._new("T")
        original = entry.get("offsets")
        if original and _bounds(original) == (spans[0]["start"], spans[-1]["end"]):
            offsets = original  # how the file had it (brat's own split of the selection)
            numbers = [int(x) for x in offsets.replace(";", " ").split(" ")]
            pieces = list(zip(numbers[0::2], numbers[1::2]))
        else:
            offsets = ";".join(f"{s} {e}" for s, e in pieces)
            self.stats["split"] += len(pieces) > len(spans)
        text = self.text
        written = text[pieces[0][0] : pieces[0][1]] if len(pieces) == 1 else " ".join(text[s:e] for s, e in pieces)
        self._emit(ident, f"{spans[0]['label']} {offsets}\t{written}")
        for span in spans:
            self.tid.setdefault(span["id"], ident)
        self._extras(ident, entry, self.stale.get(spans[0]["id"], ()))
        return ident

    def _pieces(self, span: dict) -> list[tuple[int, int]]:
        """The span's stretches between line breaks (a T line's text cannot hold one)."""
        start, end = span["start"], span["end"]
        if not _LINE_BREAK.search(self.text, start, end):
            return [(start, end)]
        return [m.span() for m in _BETWEEN_BREAKS.finditer(self.text, start, end)]

    def _extras(self, target: str, entry: dict, stale=()) -> None:
        attribute = self.words.scheme.modifier_attribute
        for a in entry.get("attributes", ()):
            value = a.get("value")
            if (a["name"] == attribute and value in stale) or (not attribute and value is None and a["name"] in stale):
                continue
            self._emit(a["id"], f"{a['name']} {target}" + (f" {value}" if value not in (None, True) else ""))
        for n in entry.get("normalizations", ()):
            self._emit(n["id"], f"{n['type']} {target} {n['ref']}\t{n['text']}")
        for n in entry.get("notes", ()):
            self._emit(n["id"], f"{n['type']} {target}\t{n['text']}")

    def _t_of(self, span_id: str) -> str | None:
        """The span's T id here; a span only known to another set gets a line in this file."""
        if span_id not in self.tid:
            self._t_line(None, [self.spans[span_id]], {})
        return self.tid.get(span_id)

    # -- R lines ---------------------------------------------------------------------------
    def _relations(self) -> None:
        for rel in self.record["relations"]:
            mine = self._mine(rel)
            if any("fragment_of" in e for e in mine):
                continue  # the pieces are one T line again
            if not mine and self.primary and not _entries(rel):
                mine = [{"id": None}]
            for e in mine:
                self._r_line(e.get("id"), rel["head"], rel["child"], rel["label"], e)

    def _r_line(self, ident: str | None, head: str, child: str, label: str, entry: dict) -> None:
        args = [self._t_of(head), self._t_of(child)]
        if None in args:
            return
        ident = ident or self._new("R")
        roles = entry.get("roles") or ["Arg1", "Arg2"]
        self._emit(ident, f"{label} {roles[0]}:{args[0]} {roles[1]}:{args[1]}{entry.get('tail', '')}")
        self._extras(ident, entry)

    # -- claims ----------------------------------------------------------------------------
    def _claims(self) -> None:
        """The links and modifiers of this set's claims that its relations and attributes do
        not say already (a claim made or changed in the tool), as the scheme names them."""
        scheme = self.words.scheme
        have = {(r["head"], r["child"], r["label"]) for r in self.record["relations"]}
        for claim in self.claims:
            q, entity, condition = claim["quantity"], claim["entity"], claim["condition"]
            prop = (claim.get("property") or {}).get("span")
            direct = (entity, q, scheme.has_quantity)  # an entity linked to the quantity itself needs no has_property
            links = [
                (prop, q, scheme.has_quantity),
                (entity, prop, scheme.has_property) if prop and direct not in have else direct,
                (condition, q, scheme.qualifies),
            ]
            for head, child, label in links:
                if (
                    label
                    and head
                    and child
                    and (head, child, label) not in have
                    and not self._qualifies_other(label, head, have)
                ):
                    self._r_line(None, head, child, label, {})
                    have.add((head, child, label))
                    self.stats["claim_links"] += 1
            self._modifiers(q, claim.get("modifiers") or [])

    def _qualifies_other(self, label: str, head: str, have: set) -> bool:
        """A condition linked to the entity or property already (MeasEval allows it) needs no second link."""
        return label == self.words.scheme.qualifies and any(h == head and lab == label for h, _, lab in have)

    def _modifiers(self, quantity: str, modifiers: list[str]) -> None:
        """Modifiers the quantity's attributes do not carry yet, as the scheme writes them."""
        attribute = self.words.scheme.modifier_attribute
        missing = [
            m
            for m in modifiers
            if m not in claim_modifiers(self.spans[quantity].get("meta") or {}, attribute, modifiers)
        ]
        target = self._t_of(quantity) if missing else None  # no line for a quantity with nothing to add
        for modifier in missing if target else ():
            self._emit(self._new("A"), f"{attribute} {target} {modifier}" if attribute else f"{modifier} {target}")
            self.stats["modifiers"] += 1


def _bounds(offsets: str) -> tuple[int, int]:
    numbers = [int(x) for x in offsets.replace(";", " ").split(" ")]
    return numbers[0], numbers[-1]
