"""The versions of an export: which is the latest, what changed since, how the next is
numbered, and how a finished version folder is listed (manifest["files"], <folder>.sha256)
and made read-only before it is published."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from annotator.schema import schema_version

VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
CHANGED_IDS_LISTED = 50


def published_versions(folder: Path) -> list[tuple[int, int, int]]:
    if not folder.is_dir():
        return []
    found = (VERSION_DIR.match(p.name) for p in folder.iterdir() if p.is_dir())
    return sorted(tuple(int(x) for x in m.groups()) for m in found if m)


def version_name(version: tuple[int, int, int]) -> str:
    return "v{}.{}.{}".format(*version)


def next_version(
    previous: tuple[int, int, int] | None, prev_manifest: dict | None, manifest: dict
) -> tuple[int, int, int]:
    """major: the schema's major version changed; minor: documents added or removed, or the
    labels or split changed; patch: only annotations of existing documents changed. The
    format is not the data: a version holds every format asked for (formats_of)."""
    if previous is None or prev_manifest is None:
        return (1, 0, 0)
    major, minor, patch = previous
    old, new = (schema_version(m.get("schema", {}).get("id", "")) for m in (prev_manifest, manifest))
    if old is None or new is None or old[0] != new[0]:
        return (major + 1, 0, 0)
    changes = manifest["changes"]
    structural = (
        prev_manifest.get("split") != manifest.get("split")
        or prev_manifest.get("labels", {}).get("sha256") != manifest["labels"]["sha256"]
    )
    if changes["added"] or changes["removed"] or structural:
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One export of a name at a time, across processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# id and SHA-256 prefix of each record, a line each. Not named .tsv: tools that read every
# TSV of a folder (MeasEval's scorer) would take it for data. Versions before 1.1 of the
# record schema wrote it as index.tsv.
INDEX_FILE = "records.index"
OLD_INDEX_FILE = "index.tsv"


def read_index(version_dir: Path) -> dict[str, str]:
    path = next((p for p in (version_dir / INDEX_FILE, version_dir / OLD_INDEX_FILE) if p.exists()), None)
    if path is None:
        return {}
    rows = (line.split("\t") for line in path.read_text().splitlines() if line)
    return dict(rows)


def changes_since(old: dict[str, str], new: dict[str, str], previous: str | None) -> dict:
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    modified = sorted(k for k in set(new) & set(old) if new[k] != old[k])
    return {
        "previous": previous,
        "added": len(added),
        "removed": len(removed),
        "modified": len(modified),
        "added_ids": added[:CHANGED_IDS_LISTED],
        "removed_ids": removed[:CHANGED_IDS_LISTED],
        "modified_ids": modified[:CHANGED_IDS_LISTED],
    }


def formats_of(manifest: dict) -> list[str]:
    """The formats a version holds (manifests before "formats" held one, "format")."""
    return list(manifest.get("formats") or [manifest["format"]])


def same_content(old: dict, new: dict) -> bool:
    """The same data (whatever the format): a new format of it joins the version."""
    keys = ("records_sha256", "layer")
    return (
        all(old.get(k) == new.get(k) for k in keys)
        and old.get("schema", {}).get("sha256") == new["schema"]["sha256"]
        and old.get("labels", {}).get("sha256") == new["labels"]["sha256"]
        and (old.get("split") or {}).get("shares") == (new.get("split") or {}).get("shares")
    )


# --- a finished version folder ---------------------------------------------------------------


def list_files(version: Path, manifest: dict, known: dict[str, tuple[str, int]]) -> None:
    """manifest["files"]: each file's sha256 and size, and one entry per writer's folder,
    whose <name>.sha256 (sha256sum's format) lists every file in it, rather than thousands
    of manifest entries. `known`: (sha256, size) by path in the version, for files whose
    writer hashed them as it wrote them."""
    folders = {}
    for folder in sorted(p for p in version.iterdir() if p.is_dir()):
        files = sorted(_files_under(folder, version), key=_path_parts)  # as paths sort: part by part
        sums = [known.get(f) or (_file_sha(version / f), (version / f).stat().st_size) for f in files]
        listing = version / f"{folder.name}.sha256"
        listing.write_text("".join(f"{sha}  {f}\n" for f, (sha, _) in zip(files, sums)))
        folders[f"{folder.name}/"] = {
            "files": len(files),
            "bytes": sum(size for _, size in sums),
            "listing": listing.name,
        }
    manifest["files"] = {
        p.name: {"sha256": known[p.name][0] if p.name in known else _file_sha(p), "bytes": p.stat().st_size}
        for p in sorted(version.iterdir())
        if p.is_file()
    }
    manifest["files"].update(folders)
    if "data.jsonl" in manifest["files"]:
        manifest["data_sha256"] = manifest["files"]["data.jsonl"]["sha256"]


LATEST = "latest"


def point_latest(folder: Path, version: str) -> None:
    """<folder>/latest names the newest version: a relative symlink, or where links cannot
    be made a small file holding the version's name. Replaced atomically, so a reader sees
    the old pointer or the new one, never none."""
    staged = folder / ".latest.new"
    staged.unlink(missing_ok=True)  # left by a crash; we hold the lock
    try:
        staged.symlink_to(version, target_is_directory=True)
    except OSError:
        staged.write_text(version + "\n")
    os.replace(staged, folder / LATEST)


def _path_parts(path: str) -> list[str]:
    return path.split("/")


def _files_under(folder: Path, version: Path) -> Iterator[str]:
    """Paths (relative to the version, '/'-separated) of every file below `folder`, read
    from the directory entries alone (no stat per file)."""
    return (path for path, is_dir in _entries(folder, version) if not is_dir)


def _entries(folder: Path, version: Path) -> Iterator[tuple[str, bool]]:
    """(path relative to the version, is a folder) of everything below `folder`, depth first,
    each folder after its contents."""
    skip = len(str(version)) + 1
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _entries(Path(entry.path), version)
                yield entry.path[skip:], True
            elif entry.is_file(follow_symlinks=False):
                yield entry.path[skip:], False


def read_only(version: Path, done: set[str]) -> None:
    """Every file and folder in the version read-only, but for the files in `done` (paths
    relative to the version): their writer created them so."""
    for path, is_dir in _entries(version, version):
        if is_dir:
            os.chmod(version / path, 0o555)
        elif path not in done:
            os.chmod(version / path, 0o444)
    version.chmod(0o755)


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
