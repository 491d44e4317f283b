"""`annotator import --layer NAME`: annotations made elsewhere into one layer.

Every file is read and checked whole first; a file with any problem is refused whole
(file:line messages), and so are the files that annotate the same text with it (brat
annotation sets, one document's copies), so a document is stored from all of its files
or from none. Names that neither the label map nor the label configuration knows stop the
whole import, listed all at once. What passed is stored by layer_store.store().
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from annotator.gc_pause import gc_paused
from annotator.labels import LabelConfig
from annotator.models import LAYER_STATUSES, SUGGESTIONS
from annotator.formats.text import Problem, decode
from annotator.contents import LayerDoc, merged
from annotator.formats.labelmap import LabelMap, LabelMapError, Unknowns, load_label_map
from annotator.ingest.store import Stored, Target, store

FORMATS = ("jsonl", "brat", "measeval")
LAYER_NAME_MAX = 64


class LayerImportError(ValueError):
    """The request itself is wrong (layer name, options, label map): nothing was read."""


@dataclass
class FileDocs:
    path: str
    docs: list[LayerDoc] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    uids: set[str] = field(default_factory=set)  # the texts it annotates, even when refused


@dataclass
class Options:
    text_dir: str | None = None
    split_discontinuous: bool = False


@dataclass
class LayerImportReport:
    layer: str
    fmt: str
    files: int = 0
    documents: int = 0
    skipped: int = 0
    stored: Stored = field(default_factory=Stored)
    refused_files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        s = self.stored
        parts = [f"Layer {self.layer!r}: stored {s.layers} document{'s' * (s.layers != 1)} from {self.files} "
                 f"file{'s' * (self.files != 1)} ({s.spans} spans, {s.relations} relations, {s.claims} claims)"]
        if s.new_documents:
            parts.append(f"{s.new_documents} new document{'s' * (s.new_documents != 1)} created")
        if s.replaced:
            parts.append(f"{s.replaced} replaced")
        if s.unchanged:
            parts.append(f"{s.unchanged} already identical (skipped)")
        if self.skipped:
            parts.append(f"{self.skipped} Prodigy task(s) answered reject/ignore skipped")
        if self.refused_files:
            parts.append(f"{len(self.refused_files)} file(s) refused, nothing stored from them")
        return "; ".join(parts) + "."

    def as_json(self) -> dict:
        return {"layer": self.layer, "format": self.fmt, "files": self.files, "documents": self.documents,
                "skipped": self.skipped, **asdict(self.stored), "refused_files": self.refused_files,
                "problems": [str(p) for p in self.problems]}


def check_layer_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > LAYER_NAME_MAX:
        raise LayerImportError(f"layer name {name!r}: give 1 to {LAYER_NAME_MAX} characters")
    if name == SUGGESTIONS:
        raise LayerImportError("'suggestions' is reserved for the machine pre-highlights; name a person's layer or 'gold'")
    return name


def import_layer(db, paths: list[str], labels: LabelConfig, layer: str, fmt: str = "jsonl", *,
                 replace: bool = False, label_map: str | None = None, text_dir: str | None = None,
                 split_discontinuous: bool = False, prehighlighter=None, user: str | None = None,
                 status: str | None = None, on_total: Callable[[int], None] | None = None,
                 progress: Callable[[int], None] | None = None) -> LayerImportReport:
    """`status`: what the layers written (or found identical) are marked, e.g. "done" for
    finished annotations from another tool (agreement counts done documents only); by
    default a new layer is in_progress and an existing one keeps its status."""
    layer = check_layer_name(layer)
    if fmt not in FORMATS:
        raise LayerImportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if status is not None and status not in LAYER_STATUSES:
        raise LayerImportError(f"unknown status {status!r}; choose one of {', '.join(LAYER_STATUSES)}")
    if text_dir is not None and fmt != "measeval":
        raise LayerImportError("--text-dir is for --format measeval")
    if split_discontinuous and fmt != "brat":
        raise LayerImportError("--split-discontinuous is for --format brat")
    try:
        mapping = load_label_map(label_map, labels)
    except LabelMapError as exc:
        raise LayerImportError(str(exc)) from exc
    report = LayerImportReport(layer, fmt)
    unknowns = Unknowns(labels, mapping.over(default_map(fmt, labels)))
    with gc_paused():
        files, problems = read_files(fmt, paths, labels, unknowns, Options(text_dir, split_discontinuous), report)
        report.files = len(files)
        report.problems += problems
        if unknowns.seen:  # one list of every missing name; storing part of a corpus would mislead
            report.problems += unknowns.problems()
            report.refused_files = [f.path for f in files]
            return report
        docs = accepted(files, report)
        if fmt == "brat":
            from annotator.formats.brat.reader import add_claims

            for doc in docs:
                add_claims(doc, labels)
        report.documents = len(docs)
        if on_total:
            on_total(len(docs))
        target = Target(layer, user or (layer if layer != "gold" else "cli"), fmt, replace, status)
        report.stored, stored_problems = store(db, docs, target, labels, prehighlighter, progress)
    report.problems += stored_problems
    return report


def default_map(fmt: str, labels: LabelConfig) -> LabelMap:
    """MeasEval's names (Quantity, MeasuredEntity, HasQuantity, ...) for MeasEval TSV and
    for brat, where MeasEval-style annotation uses them too."""
    if fmt in ("measeval", "brat"):
        from annotator.formats.measeval.reader import default_map as measeval_map

        return measeval_map(labels)
    return LabelMap()


def read_files(fmt: str, paths: list[str], labels: LabelConfig, unknowns: Unknowns, options: Options,
               report: LayerImportReport) -> tuple[list[FileDocs], list[Problem]]:
    if fmt == "brat":
        from annotator.formats.brat.reader import read_brat

        return read_brat(paths, labels, unknowns, options.split_discontinuous)
    if fmt == "measeval":
        from annotator.formats.measeval.reader import read_measeval

        return read_measeval(paths, labels, unknowns, options.text_dir)
    return _read_jsonl_files(paths, labels, unknowns, report)


def collect(paths: list[str], suffix: str, what: str) -> tuple[list[Path], list[Problem]]:
    """Files with `suffix`, directories walked recursively in a stable order."""
    files, problems = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(_walk(path, suffix), key=lambda p: p.parts)  # Path order, keys made once
            if not found:
                problems.append(Problem(raw, None, f"no {suffix} files in this directory ({what})"))
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() == suffix:
                files.append(path)
            else:
                problems.append(Problem(raw, None, f"expected a {suffix} file ({what}) or a directory"))
        else:
            problems.append(Problem(raw, None, "no such file or directory"))
    return files, problems


def _walk(folder: Path, suffix: str) -> Iterator[Path]:
    """Files named *suffix under folder (not following linked folders, as Path.rglob): one
    scandir per folder tells files from folders without a stat per file."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path), suffix)
            elif entry.name.endswith(suffix) and entry.is_file():
                yield Path(entry.path)


def read_bytes(path: Path | str) -> bytes:
    """A whole file in four system calls (open, read, read, close); Path.read_bytes makes
    eight, and an import reads two files per brat document."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks, size = [], 1 << 16  # small first reads stay off mmap; big files get bigger ones
        while chunk := os.read(fd, size):
            chunks.append(chunk)
            size = min(size * 4, 1 << 24)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: Path, bom: bool = False) -> tuple[str | None, Problem | None]:
    """A file's text; with bom=True a leading byte-order mark stays a character (offsets in
    brat and MeasEval count it)."""
    try:
        data = read_bytes(path)
    except OSError as exc:
        return None, Problem(str(path), None, f"cannot read file: {exc.strerror or exc}")
    text, problem = decode(data, str(path))
    if problem:
        return None, problem
    if bom and data.startswith(b"\xef\xbb\xbf"):
        text = "\ufeff" + text
    return text, None


def _read_jsonl_files(paths, labels, unknowns, report) -> tuple[list[FileDocs], list[Problem]]:
    from annotator.formats.jsonl import read_jsonl

    files, problems = collect(paths, ".jsonl", "annotations as JSONL")
    out = []
    for path in files:
        text, problem = read_text(path)
        if problem:
            out.append(FileDocs(str(path), problems=[problem]))
            continue
        read = read_jsonl(str(path), text, labels, unknowns)
        report.skipped += read.skipped
        out.append(FileDocs(str(path), read.docs, read.problems))
    return out, problems


def accepted(files: list[FileDocs], report: LayerImportReport) -> list[LayerDoc]:
    """The documents to store, one per text (copies merged), from files without problems.

    A refused file takes down every file that annotates a text with it, so no document is
    stored from some of its files only.
    """
    refused = {f.path for f in files if f.problems}
    for f in files:
        report.problems += f.problems
    files_of: dict[str, set[str]] = {}
    for f in files:
        for uid in f.uids | {doc.uid for doc in f.docs}:
            files_of.setdefault(uid, set()).add(f.path)
    changed = True
    while changed:  # until no refusal spreads further
        changed = False
        for uid, group in files_of.items():
            if group & refused and not group <= refused:
                for path in sorted(group - refused):
                    report.problems.append(Problem(path, None, "refused with "
                                                   f"{', '.join(sorted(group & refused))}, which annotates the same text"))
                refused |= group
                changed = True
    report.refused_files = [f.path for f in files if f.path in refused]
    by_uid: dict[str, list[LayerDoc]] = {}
    for f in files:
        if f.path not in refused:
            for doc in f.docs:
                by_uid.setdefault(doc.uid, []).append(doc)
    return [merged(docs) for docs in by_uid.values()]
