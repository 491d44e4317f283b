"""Finding and reading input files: every reader's files come through here.

Files are found in a stable order (directories walked recursively, as paths sort), read
whole (or, JSONL, a line at a time), and decoded as UTF-8 or refused with the line where
they stop being text.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from annotator.contents import Incoming, TextAt
from annotator.problems import Problem

log = logging.getLogger(__name__)


def collect(paths: list[str], suffixes: tuple[str, ...], what: str) -> tuple[list[Path], list[Problem]]:
    """Files whose name ends in one of `suffixes` (any case), directories walked recursively."""
    files, problems = [], []
    wanted = " or ".join(suffixes)
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(_walk(path, suffixes), key=lambda p: p.parts)  # Path order, keys made once
            if not found:
                problems.append(Problem(raw, None, f"no {wanted} files in this directory ({what})"))
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() in suffixes:
                files.append(path)
            else:
                problems.append(
                    Problem(
                        raw,
                        None,
                        f"unsupported file type {path.suffix or '(none)'!r}: "
                        f"expected a {wanted} file ({what}) or a directory",
                    )
                )
        else:
            problems.append(Problem(raw, None, "no such file or directory"))
    return files, problems


def _walk(folder: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Files with one of `suffixes` under folder (not following linked folders, as Path.rglob):
    one scandir per folder tells files from folders without a stat per file."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path), suffixes)
            elif os.path.splitext(entry.name)[1].lower() in suffixes and entry.is_file():
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


def read_text(path: Path | str, bom: bool = False) -> tuple[str | None, Problem | None]:
    """A file's text; with bom=True a leading byte-order mark stays a character (offsets in
    brat and MeasEval count it), otherwise it is dropped."""
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


def decode(data: bytes, path: str) -> tuple[str, Problem | None]:
    """UTF-8 (a leading byte-order mark is dropped); anything else is refused with the line.
    So is text holding NUL (U+0000): valid UTF-8, but what UTF-16 or a binary file looks like
    read as UTF-8, and no database stores it in text (PostgreSQL refuses it)."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data  # offsets count after the mark
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "", _not_utf8(path, body[: exc.start].count(b"\n") + 1, body[exc.start], exc.start)
    nul = text.find("\x00")
    if nul >= 0:
        return "", _nul(path, text.count("\n", 0, nul) + 1, nul)
    return text, None


def _not_utf8(path: str, line: int, byte: int, offset: int) -> Problem:
    return Problem(path, line, f"not UTF-8: byte 0x{byte:02x} at offset {offset} (convert the file to UTF-8 first)")


def _nul(path: str, line: int, offset: int) -> Problem:
    return Problem(
        path,
        line,
        f"NUL character (U+0000) at offset {offset}: this looks "
        "like UTF-16 or a binary file (convert it to UTF-8 text)",
    )


class Unreadable(Exception):
    """A file that cannot be read as text: its one problem."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def text_lines(path: Path | str, at: dict[int, tuple[int, int]] | None = None) -> Iterator[tuple[int, str]]:
    """(line number, line) of a UTF-8 file split on "\n" alone, a line at a time, so a large
    file is never held whole (read whole, as bytes, text and lines, a file of 100,000
    seed-sized records held three times its size). The file is checked first, line by line,
    as decode() checks a whole file (the same messages), so a file that is not text yields
    nothing, however far in the problem sits: raises Unreadable. `at`, if given, is told
    where each line lies in the file, (byte offset, bytes), for it to be read again."""
    for _ in _lines(path):
        pass
    for number, line, start, size in _lines(path):
        if at is not None:
            at[number] = (start, size)
        yield number, line


def _lines(path: Path | str) -> Iterator[tuple[int, str, int, int]]:
    where = str(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, also when the reader stops early
    except OSError as exc:
        raise Unreadable(Problem(where, None, f"cannot read file: {exc.strerror or exc}")) from exc
    with handle:
        byte, char = 0, 0  # where the line starts, after any byte-order mark (as decode() counts)
        start = 0  # ...and in the file's bytes
        for number, raw in enumerate(handle, 1):
            size = len(raw)
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw, start, size = raw[3:], 3, size - 3
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise Unreadable(_not_utf8(where, number, raw[exc.start], byte + exc.start)) from None
            nul = line.find("\x00")
            if nul >= 0:
                raise Unreadable(_nul(where, number, char + nul))
            byte, char = byte + len(raw), char + len(line)
            yield number, line[:-1] if line.endswith("\n") else line, start, size
            start += size


def read_again(at: TextAt) -> str | None:
    """The text at `at`, as its reader found it (a text file decoded as read_text does, a
    JSONL record's "text"); None where it can no longer be read so. The caller checks that
    it is still the same text (its uid)."""
    if at.size is None:
        return read_text(at.path)[0]
    try:
        with open(at.path, "rb") as handle:
            handle.seek(at.offset)
            record = orjson.loads(handle.read(at.size))  # the line's newline is JSON whitespace
    except (OSError, orjson.JSONDecodeError):
        return None
    text = record.get("text") if isinstance(record, dict) else None
    return text if isinstance(text, str) else None


TITLE_MAX = 200


def first_line_title(text: str, markdown: bool = False) -> str:
    """A document's title when the file gives none: its first non-empty line."""
    for line in text.splitlines():
        line = line.strip()
        if markdown:
            line = line.lstrip("#").strip()
        if line:
            return line[:TITLE_MAX]
    return ""


@dataclass
class FileRead:
    """What a reader made of one file: its documents, or the problems that refuse it."""

    path: str
    docs: list[Incoming] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    uids: set[str] = field(default_factory=set)  # the texts it annotates, even when refused
    skipped: int = 0  # records left out on purpose (Prodigy tasks answered reject or ignore)


# Said of a file a reader failed on; the fuzz tests hold every reader to never needing it.
READER_BUG = "a reader failed on it; nothing was stored from it (please report this with the file)"


def read_guarded(path, read: Callable[..., FileRead], *args) -> FileRead:
    """`read(*args)`; should a reader fail on input nobody foresaw, the file is refused with
    the reason instead of the whole import ending in a traceback."""
    try:
        return read(*args)
    except Exception as exc:  # the net under every reader, logged in full
        log.debug("reading %s failed", path, exc_info=True)
        return FileRead(str(path), problems=[Problem(str(path), None, f"{READER_BUG} ({type(exc).__name__}: {exc})")])
