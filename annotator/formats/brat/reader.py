"""brat standoff in: folders of .txt + .ann pairs into a layer.

Kept: text-bound annotations (T) as spans, relations (R), attributes (A, and the older M),
normalisations (N) and notes (#). Attributes, normalisations and notes go into the meta of
the span or relation they annotate, under "brat", with the original ids and the
annotation set (the .ann file's name), so the brat export writes the same lines back:

    span.meta = {"brat": [{"set": "doc-1", "id": "T3", "attributes": [{"id": "A1", "name": "Negated"}],
                           "normalizations": [{"id": "N1", "type": "Reference", "ref": "Wikidata:Q95",
                                               "text": "Google"}],
                           "notes": [{"id": "#1", "type": "AnnotatorNotes", "text": "check"}]}]}

Offsets are code points of the .txt as stored (CRLF kept, a byte-order mark counted), and
every T line's text must equal the document's at its offsets. Fragments separated only by
whitespace (brat splits a selection at line breaks) are one span; other discontinuous
annotations are refused unless split_discontinuous, which stores each piece as a span and
joins them with FRAGMENT relations. Several .ann files over copies of one text (one file
per annotation set) become one document. Events (E) and equivalences (*) are refused.

Claims come back from their MeasEval-style links (add_claims, once per annotation set):
the relations and attribute the label configuration's claim scheme names (MeasEval's
HasQuantity, HasProperty, Qualifies and QuantityQualifier; HAS_QUANTITY, ... in the default
scheme), the way the brat export writes a claim. MeasEval's own names are mapped to the
scheme's parts when the configuration does not have them itself, as for MeasEval TSV.
An R line's trailing tab (brat writes one) is kept and written back.
"""

from __future__ import annotations

import re
from pathlib import Path

from annotator.contents import ClaimItem, Incoming, RelationItem, SpanItem
from annotator.formats.checks import relation_problem
from annotator.formats.files import FileRead, collect, first_line_title, read_guarded, read_text
from annotator.formats.labelmap import FRAGMENT, Unknowns
from annotator.labels import LabelConfig
from annotator.problems import Problem

_OFFSETS = re.compile(r"^\d+ \d+(?:;\d+ \d+)*$")
_ID = re.compile(r"^[TRAMN#]\d+$|^#\d*$")


def read_brat(
    paths: list[str], labels: LabelConfig, unknowns: Unknowns, split_discontinuous: bool = False
) -> tuple[list[FileRead], list[Problem]]:
    paths = [str(Path(p).with_suffix(".ann")) if p.endswith(".txt") and Path(p).is_file() else p for p in paths]
    anns, problems = collect(paths, (".ann",), "brat standoff")
    texts = {ann: _text_beside(ann) for ann in anns}
    set_names = _set_names(anns, texts)
    out = []
    for ann in anns:
        text, problem = texts[ann]
        if problem:
            out.append(FileRead(str(ann), problems=[problem]))
            continue
        out.append(read_guarded(ann, read_pair, ann, text, set_names[ann], labels, unknowns, split_discontinuous))
    return out, problems


def _text_beside(ann: Path) -> tuple[str | None, Problem | None]:
    txt = ann.with_suffix(".txt")
    text, problem = read_text(txt, bom=True)
    if problem and not txt.is_file():  # asked only on failure: one stat less per file
        problem = Problem(str(ann), None, f"no {txt.name} beside it: brat keeps each text in a .txt of the same name")
    return text, problem


def add_claims(doc: Incoming, labels: LabelConfig) -> None:
    """Claims read from the links of one annotation set, by the configuration's claim scheme.

    A quantity span (claims.quantity) with a has_quantity or qualifies link into it, or a
    modifier, is a claim: its property is the has_quantity head labelled as the property
    (claims.property) or linked from an entity by has_property; its entity the head of that
    has_property, else the other has_quantity head; its condition the head of a qualifies
    link into the quantity, else into the property, else into the entity; its modifiers the
    values of claims.modifier_attribute (MeasEval's `A1 QuantityQualifier T2 IsRange`), or
    without one the binary attributes named like modifiers. Of several candidates the first
    in the text is taken. Runs on one file's contents before the sets of a text are merged,
    so a link of one set never lends its entity to another set's quantity.
    """
    scheme, contents = labels.claims, doc.contents
    if scheme.quantity is None:
        return
    by_id = {span.id: span for span in contents.spans}
    heads: dict[tuple, list] = {}
    for rel in contents.relations:
        if rel.label in (scheme.has_quantity, scheme.has_property, scheme.qualifies):
            heads.setdefault((rel.child_id, rel.label), []).append(rel.head_id)

    def first(ids):
        return min(ids, key=lambda i: by_id[i].key) if ids else None

    for span in contents.spans:
        if span.label != scheme.quantity:
            continue
        q, mods = span.id, claim_modifiers(span.meta, scheme.modifier_attribute, labels.modifiers)
        links = sorted(heads.get((q, scheme.has_quantity), []), key=lambda i: by_id[i].key)
        if not (links or mods or (q, scheme.qualifies) in heads):
            continue
        prop = next((h for h in links if by_id[h].label == scheme.property or (h, scheme.has_property) in heads), None)
        entity = first(heads.get((prop, scheme.has_property))) or next((h for h in links if h != prop), None)
        conditions = next(
            (
                heads[k]
                for k in ((q, scheme.qualifies), (prop, scheme.qualifies), (entity, scheme.qualifies))
                if k[0] is not None and k in heads
            ),
            None,
        )
        contents.claims.append(
            ClaimItem(q, entity_id=entity, property_id=prop, condition_id=first(conditions), modifiers=mods)
        )


def claim_modifiers(meta: dict, attribute: str | None, modifiers) -> list[str]:
    """A quantity's modifiers as its brat attributes carry them: the values of `attribute`,
    or without one the binary attributes named like a modifier."""
    known = set(modifiers)
    attributes = [a for entry in meta.get("brat", []) for a in entry.get("attributes", [])]
    if attribute:
        found = {a.get("value") for a in attributes if a["name"] == attribute}
    else:
        found = {a["name"] for a in attributes if "value" not in a}
    return sorted(found & known)


def _set_names(anns: list[Path], texts: dict) -> dict[Path, str]:
    """Each file's annotation set: its name, made unique among the files of one text."""
    names, used = {}, set()
    for ann in anns:
        text = texts[ann][0]
        name, n = ann.stem, 1
        while (text, name) in used:
            n += 1
            name = f"{ann.stem}~{n}"
        used.add((text, name))
        names[ann] = name
    return names


def read_pair(ann: Path, text: str, set_name: str, labels: LabelConfig, unknowns: Unknowns, split: bool) -> FileRead:
    path = str(ann)
    doc = Incoming(
        text=text, source=path[:-4] + ".txt", title=first_line_title(text), layer_meta={"brat": {"sets": [set_name]}}
    )
    doc.sources = [doc.where]
    result = FileRead(path, uids={doc.uid})
    body, problem = read_text(ann)
    if problem:
        result.problems.append(problem)
        return result
    parser = _Parser(path, text, set_name, labels, unknowns, split)
    parser.read(body)
    parser.finish(doc)
    result.problems += sorted(parser.problems, key=lambda p: p.line or 0)
    if not parser.problems:
        add_claims(doc, labels)
        result.docs.append(doc)
    return result


class _Parser:
    """One .ann file: T lines first collected, references resolved at the end."""

    def __init__(self, path: str, text: str, set_name: str, labels: LabelConfig, unknowns: Unknowns, split: bool):
        self.path, self.text, self.set, self.labels, self.unknowns, self.split = (
            path,
            text,
            set_name,
            labels,
            unknowns,
            split,
        )
        self.quantity_label = labels.quantity_label
        self.problems: list[Problem] = []
        self.entities: dict[str, dict] = {}  # T id -> {pieces, label, entry}
        self.relations: dict[str, dict] = {}  # R id -> {label, args, line, entry}
        self.extras: list[tuple] = []  # (line, kind, id, fields) of A/M, N, #
        self.seen_ids: set[str] = set()
        self.refused: set[str] = set()  # ids of lines already reported: no second message

    def fail(self, lineno: int, message: str) -> None:
        self.problems.append(Problem(self.path, lineno, message))

    def read(self, body: str) -> None:
        handlers = {"T": self._entity, "R": self._relation}
        extra, seen, refused = self._extra, self.seen_ids, self.refused
        for lineno, line in enumerate(body.split("\n"), 1):
            if line.endswith("\r"):
                line = line[:-1]
            ident, tab, rest = line.partition("\t")
            if not tab or not _ID.match(ident) or ident in seen:
                self._bad_id(lineno, line, ident, tab)
                continue
            seen.add(ident)
            refused.add(ident)  # until its line has been read without a problem
            handlers.get(ident[0], extra)(lineno, ident, rest)

    def _bad_id(self, lineno: int, line: str, ident: str, tab: str) -> None:
        if not line.strip():
            return
        if not tab:
            return self.fail(lineno, "expected an id, a tab and the annotation (brat standoff)")
        if ident == "*" or ident.startswith("E"):
            what = "equivalence sets (*)" if ident == "*" else "events (E lines)"
            return self.fail(lineno, f"{what} are not supported; remove them or convert them to relations first")
        if ident in self.seen_ids:
            return self.fail(lineno, f"id {ident} is used twice in this file")
        self.fail(lineno, f"unknown annotation id {ident!r} (expected T, R, A, M, N or # and a number)")

    def _entity(self, lineno: int, ident: str, rest: str) -> None:
        head, tab, span_text = rest.partition("\t")
        parts = head.split(" ")
        if tab and len(parts) == 3 and parts[0] and parts[1].isdecimal() and parts[2].isdecimal():
            start, end = int(parts[1]), int(parts[2])  # the usual line: one stretch, checked here
            if start < end <= len(self.text) and self.text[start:end] == span_text:
                self._keep(lineno, ident, parts[0], [(start, end)], {"set": self.set, "id": ident})
                return None
        self._general_entity(lineno, ident, head, tab, span_text)

    def _keep(self, lineno: int, ident: str, label: str, pieces: list, entry: dict) -> None:
        self.refused.discard(ident)
        self.entities[ident] = {
            "pieces": pieces,
            "label": self.unknowns.entity(label, (self.path, lineno)),
            "entry": entry,
        }

    def _general_entity(self, lineno: int, ident: str, head: str, tab: str, span_text: str) -> None:
        """Any T line, with a message for whatever is wrong with it."""
        label, _, offsets = head.partition(" ")
        if not tab or not label or not _OFFSETS.match(offsets):
            return self.fail(lineno, f"{ident}: expected 'TYPE START END[;START END...]', a tab and the text")
        numbers = [int(x) for x in offsets.replace(";", " ").split(" ")]
        pieces = list(zip(numbers[0::2], numbers[1::2]))
        # each piece inside the text and not empty, none before the end of the one before
        if numbers[-1] > len(self.text) or not all(
            numbers[i] < numbers[i + 1] if i % 2 == 0 else numbers[i] <= numbers[i + 1] for i in range(len(numbers) - 1)
        ):
            return self.fail(
                lineno,
                f"{ident}: offsets {offsets} are not ordered stretches inside the text "
                f"({len(self.text)} characters; offsets count code points)",
            )
        written = " ".join(self.text[s:e] for s, e in pieces)  # brat joins fragment texts with a space
        if span_text != written:
            return self.fail(
                lineno,
                f"{ident}: text {span_text!r} differs from the document's {written!r} at "
                f"{offsets} (offsets count code points of the .txt as stored, CRLF included)",
            )
        joined = self._joined(pieces)
        if len(joined) > 1 and not self.split:
            return self.fail(
                lineno,
                f"{ident}: discontinuous annotation ({offsets}); a span is one stretch of "
                "text here: use --split-discontinuous to store each piece as a span joined "
                f"by {FRAGMENT} relations",
            )
        entry = {"set": self.set, "id": ident}
        if len(pieces) > 1:
            entry["offsets"] = offsets
        self._keep(lineno, ident, label, joined, entry)

    def _joined(self, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Fragments separated only by whitespace are one stretch (brat splits at line breaks)."""
        out = [pieces[0]]
        for s, e in pieces[1:]:
            if not self.text[out[-1][1] : s].strip():
                out[-1] = (out[-1][0], e)
            else:
                out.append((s, e))
        return out

    def _relation(self, lineno: int, ident: str, rest: str) -> None:
        parts = rest.split()
        args = [p.partition(":") for p in parts[1:]]
        if len(parts) != 3 or any(not sep or not role or not target for role, sep, target in args):
            return self.fail(lineno, f"{ident}: expected 'TYPE Arg1:T1 Arg2:T2'")
        entry = {"set": self.set, "id": ident}
        if args[0][0] != "Arg1" or args[1][0] != "Arg2":
            entry["roles"] = [args[0][0], args[1][0]]
        tail = rest[len(rest.rstrip()) :]
        if tail:  # brat itself writes a tab after the arguments: written back as it was
            entry["tail"] = tail
        self.refused.discard(ident)
        self.relations[ident] = {
            "label": self.unknowns.relation(parts[0], (self.path, lineno)),
            "args": [args[0][2], args[1][2]],
            "line": lineno,
            "entry": entry,
        }

    def _extra(self, lineno: int, ident: str, rest: str) -> None:
        head, tab, note = rest.partition("\t")
        parts = head.split(" ")
        kind = ident[0]
        if kind in "AM" and len(parts) in (2, 3) and not tab:
            item = {"id": ident, "name": self.unknowns.attribute(parts[0], (self.path, lineno))}
            if len(parts) == 3:
                item["value"] = parts[2]
            self.extras.append((lineno, "attributes", parts[1], item))
        elif kind == "N" and len(parts) == 3 and tab and ":" in parts[2]:
            self.extras.append(
                (lineno, "normalizations", parts[1], {"id": ident, "type": parts[0], "ref": parts[2], "text": note})
            )
        elif kind == "#" and len(parts) == 2 and tab:
            self.extras.append((lineno, "notes", parts[1], {"id": ident, "type": parts[0], "text": note}))
        else:
            shapes = {
                "A": "NAME TARGET [VALUE]",
                "M": "NAME TARGET [VALUE]",
                "N": "TYPE TARGET DB:ID<tab>TEXT",
                "#": "TYPE TARGET<tab>TEXT",
            }
            return self.fail(lineno, f"{ident}: expected '{shapes[kind]}'")
        self.refused.discard(ident)

    def finish(self, doc: Incoming) -> None:
        """The file's spans and relations into `doc`."""
        self._attach_extras()
        first_piece: dict[str, dict] = {}  # T id -> its (first) span
        for ident, ent in self.entities.items():
            if len(ent["pieces"]) == 1:
                ((start, end),) = ent["pieces"]
                # a quantity is valued once the document's language is known (ingest/store.py)
                span = SpanItem(
                    ident,
                    start,
                    end,
                    ent["label"],
                    meta={"brat": [ent["entry"]]},
                    parse=ent["label"] == self.quantity_label,
                )
                first_piece[ident] = span
                doc.contents.spans.append(span)
            else:
                first_piece[ident] = self._fragments(doc, ident, ent)
        for ident, rel in self.relations.items():
            self._add_relation(doc, ident, rel, first_piece)

    def _fragments(self, doc: Incoming, ident: str, ent: dict) -> SpanItem:
        """One span per piece of a discontinuous annotation, consecutive pieces joined by FRAGMENT."""
        spans = []
        for k, (start, end) in enumerate(ent["pieces"]):
            entry = {**ent["entry"], "fragment": 0} if k == 0 else {"set": self.set, "id": ident, "fragment": k}
            spans.append(
                SpanItem(
                    (ident, k),
                    start,
                    end,
                    ent["label"],
                    meta={"brat": [entry]},
                    parse=ent["label"] == self.quantity_label,
                )
            )
        doc.contents.spans += spans
        for a, b in zip(spans, spans[1:]):
            doc.contents.relations.append(
                RelationItem(a.id, b.id, FRAGMENT, {"brat": [{"set": self.set, "fragment_of": ident}]})
            )
        return spans[0]

    def _add_relation(self, doc: Incoming, ident: str, rel: dict, first_piece: dict) -> None:
        ends = []
        for target in rel["args"]:
            if target in self.refused:
                continue
            if target not in first_piece:
                self.fail(rel["line"], f"{ident}: {target} is not a text-bound annotation (T) of this file")
            else:
                ends.append(first_piece[target])
        if len(ends) < 2:
            return
        problem = relation_problem(self.labels, rel["label"], ends[0].label, ends[1].label)
        if problem:
            return self.fail(rel["line"], f"{ident}: {problem}")
        doc.contents.relations.append(RelationItem(ends[0].id, ends[1].id, rel["label"], {"brat": [rel["entry"]]}))

    def _attach_extras(self) -> None:
        """Attributes, normalisations and notes into the entry of what they annotate."""
        for lineno, kind, target, item in self.extras:
            owner = self.entities.get(target) or self.relations.get(target)
            if owner is None and target in self.refused:
                continue
            if owner is None:
                self.fail(lineno, f"{item['id']}: {target} is not a T or R annotation of this file")
                continue
            items = owner["entry"].setdefault(kind, [])
            # a multi-valued attribute (MeasEval's QuantityQualifier IsMean and HasTolerance on one
            # quantity) is a line per value; the same value twice says nothing new
            if kind == "attributes" and any(
                a["name"] == item["name"] and a.get("value") == item.get("value") for a in items
            ):
                value = f" {item['value']}" if "value" in item else ""
                self.fail(lineno, f"{item['id']}: {target} already has attribute {item['name']}{value}")
                continue
            items.append(item)
