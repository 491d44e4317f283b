"""Whether an export's latest version still holds the project's data, told without
building a record.

An export of unchanged data mints no version, but to find that out it built, validated and
hashed every record (10,000 documents: about a second on two cores) to compare them with
the latest version's. Beside its versions, an export folder now keeps what its latest
version was last found to hold (CHECKED_FILE): the database's data mark (data_changes.py),
the tool's version, the label configuration, the record schema, the layer and the split.
An export that finds every one of them as it is now, and its format in that version, is
unchanged at once. Anything else (a save, an import, another labels file, a newer tool, a
folder written by another project) builds and compares every record, as always, and then
records what it found. A file that is missing, unreadable or from another version of the
tool only costs that full check.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from annotator import __version__

CHECKED_FILE = ".checked.json"


def checked_state(mark: str | None, labels, schema_sha256: str, layer: str, shares: dict | None) -> dict | None:
    """What a version is found to hold the data of (None: the database keeps no mark)."""
    if mark is None:
        return None
    return {
        "data": mark,
        "generator": f"claim-annotator {__version__}",
        "labels": labels.sha256,
        "schema": schema_sha256,
        "layer": layer,
        "split": shares,
    }


def still_holds(folder: Path, version: str, state: dict | None) -> bool:
    """True when `version` was last found to hold the data of exactly this state."""
    if state is None:
        return False
    try:
        found = orjson.loads((folder / CHECKED_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return found == {**state, "version": version}


def remember(folder: Path, version: str, state: dict | None) -> None:
    """Record that `version` holds the data of `state`: replaced in one rename, so a crash
    leaves the old record or the new one (and an old record names an older version, or an
    older mark, and is never taken)."""
    target = folder / CHECKED_FILE
    if state is None:
        target.unlink(missing_ok=True)
        return
    staged = folder / f"{CHECKED_FILE}.new"
    staged.write_bytes(orjson.dumps({**state, "version": version}, option=orjson.OPT_SORT_KEYS) + b"\n")
    os.replace(staged, target)
