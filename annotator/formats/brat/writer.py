"""The files of a brat export: a .txt and an .ann per document (per annotation set).

    brat/<name>.txt, brat/<name>.ann     (brat/train/, brat/dev/, brat/test/ with --split)

Files are written a chunk of records at a time (BratPart), in whichever process built the
chunk, straight into the export's folder: created read-only (a published version is never
edited) and hashed from the bytes as they are written, so nothing is read back to list
them. A file's name depends on the names every earlier record took (see `pick_name`), which
a chunk cannot know: it names its files as if it were alone, and the export (BratWriter)
then settles the names in record order, renaming the rare file whose name an earlier chunk
had taken. The result is what writing every record in order in one process gives.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from annotator.formats.brat.lines import ClaimWords, ann_files

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,150}$")  # never a dot first: see BratPart
SUFFIXES = (".txt", ".ann")


class FilePair(NamedTuple):
    """The .txt and .ann of one annotation set of one record, as a chunk wrote them."""

    folder: str  # "" or the split part
    set_name: str | None
    uid: str
    n_files: int  # file pairs the record has
    written: str  # the name the chunk gave them
    sums: tuple[tuple[str, int], tuple[str, int]]  # (sha256, bytes) of the .txt and the .ann


def pick_name(used: set[str], set_name: str | None, uid: str, n_files: int) -> str:
    """The annotation set's name if it is free in the folder, else the document id (with the
    set's name when the document has several), else the id and a count."""
    for name in (set_name, uid if n_files == 1 else f"{uid}.{set_name}", f"{uid}.{len(used)}"):
        if name and _SAFE_NAME.match(name) and name not in used:
            used.add(name)
            return name
    raise ValueError(f"no free file name for document {uid}")  # pragma: no cover - uids are unique


def write_new(path: str, data: bytes) -> tuple[str, int]:
    """A new read-only file in three system calls (open, write, close; Path.write_bytes makes
    six, and a chmod after would be a seventh); its sha256 and size."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return hashlib.sha256(data).hexdigest(), len(data)


class BratPart:
    """Writes the files of a run of records under the names they take in that run alone.

    A name another chunk has taken on disk meanwhile is left for the export to settle: the
    pair is written under a name starting with a dot, which no chosen name does.
    """

    def __init__(self, root: Path, words: ClaimWords, tag: str):
        self.root, self.words, self.tag = root, words, tag
        self.used: dict[str, set[str]] = {}
        self.bases: dict[str, str] = {}  # folder -> its path and a slash, to put names after
        self.pairs: list[FilePair] = []
        self.stats: Counter = Counter()

    def add(self, record: dict, part: str | None) -> None:
        folder = part or ""
        if folder not in self.used:
            (self.root / folder).mkdir(exist_ok=True)
            self.used[folder], self.bases[folder] = set(), f"{self.root / folder}/"
        text = record["text"].encode("utf-8")
        files = ann_files(record, self.stats, self.words)
        for set_name, lines in files:
            name = pick_name(self.used[folder], set_name, record["id"], len(files))
            ann = "".join(f"{line}\n" for line in lines).encode("utf-8")
            name, sums = self._write(folder, name, text, ann)
            self.pairs.append(FilePair(folder, set_name, record["id"], len(files), name, sums))
            self.stats["files"] += 1
        self.stats["documents"] += 1

    def _write(self, folder: str, name: str, text: bytes, ann: bytes) -> tuple[str, tuple]:
        base = self.bases[folder]
        try:
            txt = write_new(f"{base}{name}.txt", text)
        except FileExistsError:  # another chunk's: the export renames this pair
            name = f".{self.tag}.{len(self.pairs)}"
            txt = write_new(f"{base}{name}.txt", text)
        return name, (txt, write_new(f"{base}{name}.ann", ann))

    def report(self) -> tuple[list[FilePair], Counter]:
        return self.pairs, self.stats


class BratWriter:
    """An export's brat folder: its chunks' files, named as in one pass over the records."""

    def __init__(self, labels, folder: Path):
        self.root = folder / "brat"
        self.root.mkdir()
        self.words = ClaimWords(labels.claims, frozenset(labels.modifiers))
        self.used: dict[str, set[str]] = {}
        self.stats: Counter = Counter()
        self.sums: dict[str, tuple[str, int]] = {}  # by path in the version
        self.moves: list[tuple[str, str, str]] = []  # (folder, written, final)

    def part(self, tag: str) -> BratPart:
        return BratPart(self.root, self.words, tag)

    def merge(self, written: tuple[list[FilePair], Counter]) -> None:
        """A chunk's files, chunk after chunk in record order: each takes the name it would
        have taken in one pass, and is renamed (in write()) if its chunk gave it another."""
        pairs, stats = written
        self.stats.update(stats)
        for pair in pairs:
            used = self.used.setdefault(pair.folder, set())
            final = pick_name(used, pair.set_name, pair.uid, pair.n_files)
            if final != pair.written:
                self.moves.append((pair.folder, pair.written, final))
            for suffix, sums in zip(SUFFIXES, pair.sums):
                self.sums[self._path(pair.folder, final + suffix)] = sums

    @staticmethod
    def _path(folder: str, name: str) -> str:
        return f"brat/{folder}/{name}" if folder else f"brat/{name}"

    def write(self, folder: Path) -> None:
        """Renames in two steps, so a file never lands on a name another still holds."""
        for i, (part, written, _) in enumerate(self.moves):
            for suffix in SUFFIXES:
                os.rename(self.root / part / f"{written}{suffix}", self.root / part / f".move-{i}{suffix}")
        for i, (part, _, final) in enumerate(self.moves):
            for suffix in SUFFIXES:
                target = self.root / part / f"{final}{suffix}"
                if target.exists():  # pragma: no cover - final names are distinct by construction
                    raise FileExistsError(target)
                os.rename(self.root / part / f".move-{i}{suffix}", target)

    def checksums(self) -> dict[str, tuple[str, int]]:
        return self.sums

    def report(self) -> dict:
        return {
            "documents": self.stats["documents"],
            "files": self.stats["files"] * 2,
            "annotation_sets": self.stats["sets"],
            "spans_split_at_line_breaks": self.stats["split"],
            "claim_links_written_as_relations": self.stats["claim_links"],
            "modifiers_written_as_attributes": self.stats["modifiers"],
            "spans_without_text_left_out": self.stats["empty"],
        }
