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
"""
from __future__ import annotations

import re
from pathlib import Path

from ..labels import LabelConfig
from ..reading import Problem, document_uid, first_line_title
from .incoming import PARSE, LayerDoc, relation_problem
from .labelmap import FRAGMENT, Unknowns
from .layer_import import FileDocs, collect, read_text

_OFFSETS = re.compile(r"^\d+ \d+(?:;\d+ \d+)*$")
_ID = re.compile(r"^[TRAMN#]\d+$|^#\d*$")


def read_brat(paths: list[str], labels: LabelConfig, unknowns: Unknowns,
              split_discontinuous: bool = False) -> tuple[list[FileDocs], list[Problem]]:
    paths = [str(Path(p).with_suffix(".ann")) if p.endswith(".txt") and Path(p).is_file() else p for p in paths]
    anns, problems = collect(paths, ".ann", "brat standoff")
    texts: dict[Path, tuple[str | None, Problem | None]] = {}
    for ann in anns:
        txt = ann.with_suffix(".txt")
        texts[ann] = read_text(txt, bom=True) if txt.is_file() else (None, Problem(
            str(ann), None, f"no {txt.name} beside it: brat keeps each text in a .txt of the same name"))
    set_names = _set_names(anns, texts)
    out = []
    for ann in anns:
        text, problem = texts[ann]
        if problem:
            out.append(FileDocs(str(ann), problems=[problem]))
            continue
        out.append(read_pair(ann, text, set_names[ann], labels, unknowns, split_discontinuous))
    return out, problems


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


def read_pair(ann: Path, text: str, set_name: str, labels: LabelConfig, unknowns: Unknowns,
              split: bool) -> FileDocs:
    result = FileDocs(str(ann), uids={document_uid(text)})
    body, problem = read_text(ann)
    if problem:
        result.problems.append(problem)
        return result
    parser = _Parser(str(ann), text, set_name, labels, unknowns, split)
    for lineno, line in enumerate(body.split("\n"), 1):
        parser.line(lineno, line[:-1] if line.endswith("\r") else line)
    doc = parser.finish()
    result.problems += sorted(parser.problems, key=lambda p: p.line or 0)
    if not parser.problems:
        result.docs.append(doc)
    return result


class _Parser:
    """One .ann file: T lines first collected, references resolved at the end."""

    def __init__(self, path: str, text: str, set_name: str, labels: LabelConfig, unknowns: Unknowns, split: bool):
        self.path, self.text, self.set, self.labels, self.unknowns, self.split = path, text, set_name, labels, unknowns, split
        self.quantity_label = labels.quantity_label
        self.problems: list[Problem] = []
        self.entities: dict[str, dict] = {}   # T id -> {pieces, label, line, entry}
        self.relations: dict[str, dict] = {}  # R id -> {label, args, line, entry}
        self.extras: list[tuple] = []          # (line, kind, id, fields) of A/M, N, #
        self.seen_ids: set[str] = set()
        self.refused: set[str] = set()        # ids of lines already reported: no second message

    def fail(self, lineno: int, message: str) -> None:
        self.problems.append(Problem(self.path, lineno, message))

    def line(self, lineno: int, line: str) -> None:
        if not line.strip():
            return
        ident, tab, rest = line.partition("\t")
        if not tab:
            return self.fail(lineno, "expected an id, a tab and the annotation (brat standoff)")
        if ident == "*" or ident.startswith("E"):
            what = "equivalence sets (*)" if ident == "*" else "events (E lines)"
            return self.fail(lineno, f"{what} are not supported; remove them or convert them to relations first")
        if not _ID.match(ident):
            return self.fail(lineno, f"unknown annotation id {ident!r} (expected T, R, A, M, N or # and a number)")
        if ident in self.seen_ids:
            return self.fail(lineno, f"id {ident} is used twice in this file")
        self.seen_ids.add(ident)
        self.refused.add(ident)  # until its line has been read without a problem
        {"T": self._entity, "R": self._relation}.get(ident[0], self._extra)(lineno, ident, rest)

    def _entity(self, lineno: int, ident: str, rest: str) -> None:
        head, tab, span_text = rest.partition("\t")
        label, _, offsets = head.partition(" ")
        if not tab or not label or not _OFFSETS.match(offsets):
            return self.fail(lineno, f"{ident}: expected 'TYPE START END[;START END...]', a tab and the text")
        numbers = [int(x) for x in offsets.replace(";", " ").split(" ")]
        pieces = list(zip(numbers[0::2], numbers[1::2]))
        # each piece inside the text and not empty, none before the end of the one before
        if numbers[0] < 0 or numbers[-1] > len(self.text) or not all(
                numbers[i] < numbers[i + 1] if i % 2 == 0 else numbers[i] <= numbers[i + 1]
                for i in range(len(numbers) - 1)):
            return self.fail(lineno, f"{ident}: offsets {offsets} are not ordered stretches inside the text "
                                     f"({len(self.text)} characters; offsets count code points)")
        written = " ".join(self.text[s:e] for s, e in pieces)  # brat joins fragment texts with a space
        if span_text != written:
            return self.fail(lineno, f"{ident}: text {span_text!r} differs from the document's {written!r} at "
                                     f"{offsets} (offsets count code points of the .txt as stored, CRLF included)")
        joined = self._joined(pieces)
        if len(joined) > 1 and not self.split:
            return self.fail(lineno, f"{ident}: discontinuous annotation ({offsets}); a span is one stretch of "
                                     "text here: use --split-discontinuous to store each piece as a span joined "
                                     f"by {FRAGMENT} relations")
        entry = {"set": self.set, "id": ident}
        if len(pieces) > 1:
            entry["offsets"] = offsets
        self.refused.discard(ident)
        self.entities[ident] = {"pieces": joined, "label": self.unknowns.entity(label, (self.path, lineno)),
                                "line": lineno, "entry": entry}

    def _joined(self, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Fragments separated only by whitespace are one stretch (brat splits at line breaks)."""
        out = [pieces[0]]
        for s, e in pieces[1:]:
            if not self.text[out[-1][1]:s].strip():
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
        roles = [role for role, _, _ in args]
        if roles != ["Arg1", "Arg2"]:
            entry["roles"] = roles
        self.refused.discard(ident)
        self.relations[ident] = {"label": self.unknowns.relation(parts[0], (self.path, lineno)),
                                 "args": [target for _, _, target in args], "line": lineno, "entry": entry}

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
            self.extras.append((lineno, "normalizations", parts[1],
                                {"id": ident, "type": parts[0], "ref": parts[2], "text": note}))
        elif kind == "#" and len(parts) == 2 and tab:
            self.extras.append((lineno, "notes", parts[1], {"id": ident, "type": parts[0], "text": note}))
        else:
            shapes = {"A": "NAME TARGET [VALUE]", "M": "NAME TARGET [VALUE]", "N": "TYPE TARGET DB:ID<tab>TEXT",
                      "#": "TYPE TARGET<tab>TEXT"}
            self.fail(lineno, f"{ident}: expected '{shapes[kind]}'")

    def finish(self) -> LayerDoc:
        doc = LayerDoc(text=self.text, source=str(Path(self.path).with_suffix(".txt")),
                       title=first_line_title(self.text))
        self._attach_extras()
        spans_of: dict[str, list[dict]] = {}
        for ident, ent in self.entities.items():
            spans_of[ident] = []
            for k, (start, end) in enumerate(ent["pieces"]):
                entry = ent["entry"] if k == 0 else {"set": self.set, "id": ident, "fragment": k}
                if len(ent["pieces"]) > 1 and k == 0:
                    entry["fragment"] = 0
                span = {"key": (ident, k), "start": start, "end": end, "label": ent["label"], "meta": {"brat": [entry]}}
                if ent["label"] == self.quantity_label:
                    span[PARSE] = True  # valued once the document's language is known (layer_store)
                spans_of[ident].append(span)
                doc.spans.append(span)
            for a, b in zip(spans_of[ident], spans_of[ident][1:]):
                doc.relations.append({"head": a["key"], "child": b["key"], "label": FRAGMENT,
                                      "meta": {"brat": [{"set": self.set, "fragment_of": ident}]}})
        for ident, rel in self.relations.items():
            ends = []
            for target in rel["args"]:
                if target in self.refused:
                    continue
                if target not in spans_of:
                    self.fail(rel["line"], f"{ident}: {target} is not a text-bound annotation (T) of this file")
                else:
                    ends.append(spans_of[target][0])
            if len(ends) < 2:
                continue
            problem = relation_problem(self.labels, rel["label"], ends[0]["label"], ends[1]["label"])
            if problem:
                self.fail(rel["line"], f"{ident}: {problem}")
                continue
            doc.relations.append({"head": ends[0]["key"], "child": ends[1]["key"], "label": rel["label"],
                                  "meta": {"brat": [rel["entry"]]}})
        return doc

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
            if kind == "attributes" and any(a["name"] == item["name"] for a in items):
                self.fail(lineno, f"{item['id']}: {target} already has attribute {item['name']}")
                continue
            items.append(item)
