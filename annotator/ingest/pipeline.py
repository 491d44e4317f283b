"""`annotator import`: files of any format, through one pipeline, into the project.

    read (formats/: each file into Incoming documents, or file:line problems)
      -> check (a file with a problem is refused whole, and so is every file that
         annotates the same text with it; names nobody knows stop the whole import)
      -> merge (one document per text: annotation sets and copies together)
      -> store (store.py: new documents pre-highlighted, contents as suggestions or
         into a layer)

A large or pre-highlighted document import holds no text between reading and storing: each
is let go of once read and checked, and read again from its file, its id checked, when its
document is stored (Held, store.text_of).

`import_paths` imports documents (.txt, .md, .jsonl): their texts, and the spans a file
brings as pre-annotations. `import_layer` imports annotations made elsewhere into one
person's (or the gold) layer: our JSONL records, Prodigy JSONL, brat, MeasEval.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from contextlib import nullcontext, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from annotator.contents import Incoming
from annotator.formats import jsonl, text
from annotator.formats.brat import reader as brat
from annotator.formats.files import FileRead, collect, read_guarded
from annotator.formats.labelmap import LabelMap, LabelMapError, Unknowns, load_label_map
from annotator.formats.measeval import reader as measeval
from annotator.gc_pause import gc_paused
from annotator.ingest.first_use import settling_pool
from annotator.ingest.merging import accepted
from annotator.ingest.skipped import skipped_files, skipped_summary
from annotator.ingest.store import Interrupted, Stored, Target, source_id_problems, store
from annotator.labels import LabelConfig
from annotator.models import GOLD, LAYER_STATUSES, PERSON_NAME, RESERVED_LAYER_NAMES, SUGGESTIONS, Layer, User
from annotator.problems import Problem

LAYER_FORMATS = ("jsonl", "brat", "measeval")
DOCUMENT_SUFFIXES = (*text.SUFFIXES, *jsonl.SUFFIXES)
_LINE = re.compile(r":\d+$")
# input from which an import forks its settling workers before reading (first_use.
# settling_pool), and settles in them: ~0.3 s of settling in one process, about what the
# workers take to load spaCy's tokenizer as they start, beside this process's reading
EARLY_POOL_BYTES = 1 << 20
# characters of text a document import holds as it reads; past them it lets go of each
# text once read and checked, and reads it again as it stores the document. Texts were 5 KB
# of the 6.8 KB a seed-sized record held, so 100,000 of them held 500 MB until the last was
# stored. Reading again costs ~40 us a text (its uid checked too), so imports of up to
# ~13,000 seed-sized documents keep theirs, except pre-highlighted ones, which let go of
# every text: that cost is nothing beside spaCy's
HELD_CHARS = 32 << 20
# an import's `pool` by default: it decides itself (settling_ahead) and forks before reading;
# a caller that decided earlier passes its workers, or None for none
DECIDE_HERE = object()


class ImportRequestError(ValueError):
    """The request itself is wrong (layer name, options, label map): nothing was read."""


@dataclass
class ImportReport:
    layer: str | None = None
    fmt: str | None = None
    files: int = 0
    documents: int = 0  # documents read (one per text)
    skipped: int = 0  # Prodigy tasks answered reject or ignore
    skipped_records: int = 0  # records refused but left out (--skip-invalid)
    stored: Stored = field(default_factory=Stored)
    refused_files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)  # the problems --skip-invalid set aside
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (path, why) in folders
    interrupted: bool = False  # Ctrl+C: the groups stored before it are kept

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def errors(self) -> list[Problem]:
        """Problems that fail the import: all but the records --skip-invalid left out."""
        set_aside = {id(p) for p in self.rejected}
        return [p for p in self.problems if id(p) not in set_aside]

    @property
    def nothing_read(self) -> bool:
        """Not one document could be read (paths missing, every record invalid...)."""
        return self.documents == 0 and bool(self.problems)

    @property
    def failed(self) -> bool:
        return bool(self.refused_files or self.errors or self.nothing_read or self.interrupted)

    @property
    def new(self) -> int:
        return self.stored.new_documents

    @property
    def present(self) -> int:
        return self.stored.present

    @property
    def suggestions(self) -> int:
        return self.stored.suggestions

    def summary(self) -> str:
        if self.interrupted:
            return self._interrupted_summary()
        if self.nothing_read:
            text = (
                f"Nothing imported: no document could be read from the paths given "
                f"({len(self.problems)} problem(s) listed); nothing stored"
            )
        else:
            text = self._layer_summary() if self.layer else self._document_summary()
        if self.skipped_files:
            text += f"; {skipped_summary(self.skipped_files)}"
        return text + "."

    def _interrupted_summary(self) -> str:
        s = self.stored
        kept = (
            f"{s.new_documents} new document{'s' * (s.new_documents != 1)}"
            if self.layer is None
            else f"{s.layers} document{'s' * (s.layers != 1)} in layer {self.layer!r}"
        )
        return (
            f"Interrupted: kept {kept} of {self.documents} (each file whole or not at all); "
            "run the same command again to import the rest."
        )

    def _document_summary(self) -> str:
        if self.new == 0 and self.present and not self.problems:
            return f"Nothing new: all {self.present} documents are already in the project"
        parts = [
            f"Imported {self.new} new document{'s' * (self.new != 1)} from {self.files} file{'s' * (self.files != 1)}"
        ]
        if self.present:
            parts.append(f"{self.present} already present (skipped)")
        parts.append(f"{self.suggestions} suggestions")
        if self.refused_files:
            parts.append(f"{len(self.refused_files)} file(s) refused, nothing stored from them")
        if self.skipped_records:
            parts.append(f"{self.skipped_records} invalid record(s) skipped")
        return "; ".join(parts)

    def _layer_summary(self) -> str:
        s = self.stored
        parts = [
            f"Layer {self.layer!r}: stored {s.layers} document{'s' * (s.layers != 1)} from {self.files} "
            f"file{'s' * (self.files != 1)} ({s.spans} spans, {s.relations} relations, {s.claims} claims)"
        ]
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
        return "; ".join(parts)

    def as_json(self) -> dict:
        problems = [p.as_json() for p in self.problems]
        if self.layer is None:
            return {
                "files": self.files,
                "new": self.new,
                "present": self.present,
                "suggestions": self.suggestions,
                "refused_files": self.refused_files,
                "skipped_records": self.skipped_records,
                "skipped_files": self._skipped_json(),
                "problems": problems,
                "nothing_read": self.nothing_read,
                "interrupted": self.interrupted,
            }
        stored = {k: v for k, v in asdict(self.stored).items() if k != "present"}
        return {
            "layer": self.layer,
            "format": self.fmt,
            "files": self.files,
            "documents": self.documents,
            "skipped": self.skipped,
            **stored,
            "refused_files": self.refused_files,
            "skipped_files": self._skipped_json(),
            "problems": problems,
            "nothing_read": self.nothing_read,
            "interrupted": self.interrupted,
        }

    def _skipped_json(self) -> list[dict]:
        return [{"path": path, "reason": reason} for path, reason in self.skipped_files]


@dataclass
class Held:
    """Texts held as they are read, up to `chars` characters; each text after them is let go
    of (Incoming.text None) where its reader noted where it can be read again (text_at)."""

    chars: int

    def take(self, doc: Incoming) -> None:
        if self.chars > 0:
            self.chars -= len(doc.text)
        elif doc.text_at is not None:
            doc.uid  # noqa: B018 - taken while the text is here
            doc.text = None


@dataclass
class Options:
    """How the files are read."""

    fmt: str | None = None  # None: a document import, the format told by each file's suffix
    text_dir: str | None = None
    split_discontinuous: bool = False
    skip_invalid: bool = False
    settle: bool = True  # new documents get language and tokens now, not on first use
    held: Held | None = None  # how many texts are held as read (None: all)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # set by read_files


def import_paths(
    db,
    paths: list[str],
    labels: LabelConfig,
    prehighlighter=None,
    *,
    skip_invalid: bool = False,
    label_map: str | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    settle: bool = True,
    pool=DECIDE_HERE,
) -> ImportReport:
    """Import documents: .txt and .md files (one document each) and .jsonl records. Without
    a pre-highlighter, new documents get their language and tokens now (`settle`) or on
    first use, by the workers of `pool` where the caller forked them (settling_ahead)."""
    mapping = _label_map(label_map, labels)
    options = Options(skip_invalid=skip_invalid, settle=settle)
    return _run(db, paths, labels, options, mapping, None, prehighlighter, on_total, progress, pool)


def import_layer(
    db,
    paths: list[str],
    labels: LabelConfig,
    layer: str,
    fmt: str = "jsonl",
    *,
    replace: bool = False,
    label_map: str | None = None,
    text_dir: str | None = None,
    split_discontinuous: bool = False,
    prehighlighter=None,
    user: str | None = None,
    status: str | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    settle: bool = True,
    pool=DECIDE_HERE,
) -> ImportReport:
    """Import annotations into one layer. `status`: what the layers written (or found
    identical) are marked, e.g. "done" for finished annotations from another tool (agreement
    counts done documents only); by default a new layer is in_progress and an existing one
    keeps its status. `pool`: settling workers the caller forked ahead, or None (settling_ahead)."""
    layer = check_layer_name(layer)
    _refuse_names_differing_in_case(db, layer)
    if fmt not in LAYER_FORMATS:
        raise ImportRequestError(f"unknown format {fmt!r}; choose one of {', '.join(LAYER_FORMATS)}")
    if status is not None and status not in LAYER_STATUSES:
        raise ImportRequestError(f"unknown status {status!r}; choose one of {', '.join(LAYER_STATUSES)}")
    if text_dir is not None and fmt != "measeval":
        raise ImportRequestError("--text-dir is for --format measeval")
    if split_discontinuous and fmt != "brat":
        raise ImportRequestError("--split-discontinuous is for --format brat")
    mapping = _label_map(label_map, labels).over(default_map(fmt, labels))
    target = Target(layer, user or (layer if layer != "gold" else "cli"), fmt, replace, status)
    return _run(
        db,
        paths,
        labels,
        Options(fmt, text_dir, split_discontinuous, settle=settle),
        mapping,
        target,
        prehighlighter,
        on_total,
        progress,
        pool,
    )


def check_layer_name(name: str) -> str:
    """A layer is a person's (named as accounts are) or gold."""
    name = (name or "").strip()
    if name == SUGGESTIONS:
        raise ImportRequestError(
            "'suggestions' is reserved for the machine pre-highlights; name a person's layer or 'gold'"
        )
    if name != GOLD and (not PERSON_NAME.fullmatch(name) or name.lower() in RESERVED_LAYER_NAMES):
        raise ImportRequestError(
            f"layer name {name!r}: a person's name (1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit) or 'gold'"
        )
    return name


def _refuse_names_differing_in_case(db, layer: str) -> None:
    """`ANN1` beside `ann1` would be two layers of one person in every report."""
    with db.reading() as session:
        for column in (Layer.name, User.name):
            taken = session.exec(
                select(column).where(func.lower(column) == layer.lower(), column != layer).limit(1)
            ).scalar()
            if taken:
                raise ImportRequestError(f"layer name {layer!r}: {taken!r} exists already (names ignore case)")


def _label_map(path: str | None, labels: LabelConfig) -> LabelMap:
    try:
        return load_label_map(path, labels)
    except LabelMapError as exc:
        raise ImportRequestError(str(exc)) from exc


def default_map(fmt: str, labels: LabelConfig) -> LabelMap:
    """MeasEval's names (Quantity, MeasuredEntity, HasQuantity, ...) for MeasEval TSV and
    for brat, where MeasEval-style annotation uses them too."""
    return measeval.default_map(labels) if fmt in ("measeval", "brat") else LabelMap()


def settling_ahead(url, paths, settle: bool = True, prehighlighted: bool = False):
    """The settling workers of an import of `paths` into the database at `url`, forked as
    early as the caller asks (the command line: before it opens that database, whose
    creation or migration the workers then spend loading spaCy's tokenizer): a context
    giving first_use.Workers, or None where the import would fork none before reading."""
    if not settle or prehighlighted or input_bytes(paths) < EARLY_POOL_BYTES:
        return nullcontext()
    return settling_pool(url)


def _run(
    db,
    paths,
    labels,
    options: Options,
    mapping: LabelMap,
    target: Target | None,
    prehighlighter,
    on_total,
    progress,
    pool=DECIDE_HERE,
) -> ImportReport:
    report = ImportReport(target.layer if target else None, options.fmt)
    unknowns = Unknowns(labels, mapping)
    if pool is DECIDE_HERE:
        ahead = settling_ahead(db.engine.url, paths, options.settle, prehighlighter is not None)
    else:  # the caller's decision, taken before it opened the database: the paths are not walked again
        ahead = nullcontext(pool)
    if target is None:  # a document import reads texts again as it stores them (HELD_CHARS)
        options.held = Held(0 if prehighlighter is not None else HELD_CHARS)
    # pre-highlighting workers, too, fork before the files are read (workers_ahead)
    highlighting = (
        prehighlighter.workers_ahead(input_bytes(paths))
        if prehighlighter and prehighlighter.processes > 1
        else nullcontext()
    )
    with gc_paused(), ahead as pool, highlighting as highlighters:
        files, problems = read_files(paths, labels, unknowns, options)
        report.files = len(files)
        report.skipped_files = options.skipped
        report.problems += problems
        report.skipped = sum(f.skipped for f in files)
        if unknowns.seen:  # one list of every missing name; storing part of a corpus would mislead
            report.problems += unknowns.problems()
            report.refused_files = [f.path for f in files]
            return report
        if options.skip_invalid:
            _set_aside_rejects(files, report)
        docs, report.refused_files = accepted(files, report.problems)
        docs = _refuse_clashing_ids(db, docs, report)
        report.documents = len(docs)
        if target is None:  # the same text twice in one import is one document, stored once
            report.stored.present += sum(len(f.docs) for f in files if f.path not in report.refused_files) - len(docs)
        if on_total:
            on_total(len(docs))
        try:
            stored, store_problems = store(
                db, docs, labels, target, prehighlighter, progress, options.settle, pool, highlighters
            )
        except Interrupted as stop:  # Ctrl+C: what the finished groups stored stays, and is told
            stored, store_problems, report.interrupted = stop.stored, stop.problems, True
    report.stored.add(stored)
    report.problems += store_problems
    return report


def input_bytes(paths) -> int:
    """The size of every file the paths name or hold (folders walked), without reading any;
    what cannot be looked at counts nothing (the readers report it)."""
    files = (
        (os.path.join(top, name) for top, _, names in os.walk(raw) for name in names) if os.path.isdir(raw) else [raw]
        for raw in paths
    )
    total = 0
    for path in (path for group in files for path in group):
        with suppress(OSError):
            total += os.stat(path).st_size
    return total


def read_files(
    paths, labels: LabelConfig, unknowns: Unknowns, options: Options
) -> tuple[list[FileRead], list[Problem]]:
    """Every file read by its format's reader."""
    if options.fmt == "brat":
        return brat.read_brat(paths, labels, unknowns, options.split_discontinuous)
    if options.fmt == "measeval":
        return measeval.read_measeval(paths, labels, unknowns, options.text_dir)
    suffixes = jsonl.SUFFIXES if options.fmt == "jsonl" else DOCUMENT_SUFFIXES
    what = "annotations as JSONL" if options.fmt == "jsonl" else "documents"
    found, problems = collect(paths, suffixes, what)
    options.skipped = skipped_files(paths, suffixes)
    held = options.held.take if options.held else None
    return [read_guarded(path, _read_document_file, path, labels, unknowns, held) for path in found], problems


def _read_document_file(path: Path, labels: LabelConfig, unknowns: Unknowns, held) -> FileRead:
    if path.suffix.lower() in jsonl.SUFFIXES:
        return jsonl.read_jsonl_file(path, labels, unknowns, held)
    read = text.read_plain(path)
    for doc in read.docs if held else ():
        held(doc)
    return read


def _refuse_clashing_ids(db, docs: list[Incoming], report: ImportReport) -> list[Incoming]:
    """Documents whose id clashes are refused, and so is everything from their files."""
    problems = source_id_problems(db, docs)
    if not problems:
        return docs
    report.problems += problems
    clashing = {p.path for p in problems}
    refused = {_file_of(w) for d in docs if d.where in clashing for w in d.sources}
    report.refused_files += sorted(refused - set(report.refused_files))
    return [d for d in docs if not refused & {_file_of(w) for w in d.sources}]


def _file_of(where: str) -> str:
    """The file of a "file" or "file:line" a document came from."""
    return _LINE.sub("", where)


def _set_aside_rejects(files: list[FileRead], report: ImportReport) -> None:
    """--skip-invalid: a file's bad records are listed and left out, its good ones kept."""
    for f in files:
        if f.problems and f.docs:
            report.skipped_records += len(f.problems)
            report.problems += f.problems
            report.rejected += f.problems
            f.problems = []
