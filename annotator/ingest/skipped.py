"""Files a folder import passes over, and why: a folder of a corpus often holds .csv
tables, READMEs without an extension or images beside the texts, and an import that
leaves them out without a word reads as if they were imported."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path


def skipped_files(paths: list[str], suffixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(path, reason) of every file or linked folder under the folders in `paths` that a
    reader looking for `suffixes` does not read, as paths sort."""
    found = []
    for raw in paths:
        if Path(raw).is_dir():
            found.extend(_walk(Path(raw), suffixes))
    return sorted(found, key=lambda item: Path(item[0]).parts)


def _walk(folder: Path, suffixes: tuple[str, ...]):
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path), suffixes)
            elif entry.is_dir():  # the readers do not follow linked folders either
                yield entry.path, "a linked folder (not followed)"
            elif entry.is_file():
                suffix = os.path.splitext(entry.name)[1].lower()
                if suffix not in suffixes:
                    yield entry.path, _reason(suffix, suffixes)


def _reason(suffix: str, suffixes: tuple[str, ...]) -> str:
    wanted = ", ".join(suffixes)
    if not suffix:
        return f"no file extension (read: {wanted})"
    return f"{suffix} is not a format read here (read: {wanted})"


def skipped_summary(skipped: list[tuple[str, str]]) -> str:
    """'3 files skipped (2 .csv, 1 without an extension)'."""
    kinds = Counter(os.path.splitext(path)[1].lower() or "without an extension" for path, _ in skipped)
    listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{len(skipped)} file{'s' * (len(skipped) != 1)} skipped ({listed})"
