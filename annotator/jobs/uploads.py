"""Files for an import job travel as one zip in the job's row, so a worker on any host
reads them. Uploaded archives are checked member by member before anything is queued:
no path outside the archive, no links, no zip bombs (a ratio and a total size limit)."""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

DOCUMENT_SUFFIXES = (".txt", ".md", ".jsonl")


@dataclass
class Limits:
    max_total: int = 200 * 1024 * 1024  # bytes of all members once uncompressed
    max_ratio: float = 100.0  # uncompressed / compressed, per member
    max_members: int = 20_000


class UploadError(ValueError):
    """The upload is refused whole; the message says why and which member."""


def check_archive(data: bytes, name: str, limits: Limits) -> zipfile.ZipFile:
    """The archive, if every member is safe to extract; else UploadError naming the first bad one."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UploadError(f"{name}: not a readable .zip archive ({exc})") from exc
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise UploadError(f"{name}: {len(members):,} members, more than the limit of {limits.max_members:,}")
    total = 0
    for info in members:
        _check_member(name, info, limits)
        total += info.file_size
        if total > limits.max_total:
            raise UploadError(
                f"{name}: more than {limits.max_total:,} bytes once uncompressed (the limit); "
                "upload it in smaller archives"
            )
    return archive


def _check_member(name: str, info: zipfile.ZipInfo, limits: Limits) -> None:
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or info.filename.startswith(("/", "\\")) or (path.parts and ":" in path.parts[0]):
        raise UploadError(f"{name}: member {info.filename!r} has an absolute path; only relative paths are taken")
    if ".." in path.parts:
        raise UploadError(f"{name}: member {info.filename!r} points outside the archive ('..')")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UploadError(f"{name}: member {info.filename!r} is a symbolic link; links are not taken")
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        raise UploadError(
            f"{name}: member {info.filename!r} expands {info.file_size / info.compress_size:,.0f} times "
            f"(more than {limits.max_ratio:g}); this looks like a zip bomb"
        )


def pack(files: list[tuple[str, bytes]], archives: list[tuple[str, bytes]], limits: Limits) -> bytes:
    """One zip of plain files (kept under their names) and of checked archives (each under a
    folder of its own name), ready for an import job."""
    out = io.BytesIO()
    total = sum(len(data) for _, data in files)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as packed:
        for name, data in files:
            packed.writestr(_safe_name(name), data)
        for name, data in archives:
            archive = check_archive(data, name, limits)
            folder = Path(_safe_name(name)).stem
            for info in archive.infolist():
                if info.is_dir():
                    continue
                total += info.file_size
                if total > limits.max_total:
                    raise UploadError(f"the upload holds more than {limits.max_total:,} bytes once uncompressed")
                packed.writestr(f"{folder}/{info.filename}", archive.read(info))
    return out.getvalue()


def pack_paths(paths: list[str], limits: Limits | None = None) -> bytes:
    """The files under `paths` (as the import command reads them) as one zip, with their
    paths relative to what was named."""
    files = []
    for given in paths:
        root = Path(given)
        if root.is_dir():
            files += [
                (f"{root.name}/{p.relative_to(root).as_posix()}", p.read_bytes())
                for p in sorted(root.rglob("*"))
                if p.is_file()
            ]
        elif root.is_file():
            files.append((root.name, root.read_bytes()))
        else:
            raise UploadError(f"{given}: no such file or folder")
    return pack(files, [], limits or Limits())


def _safe_name(name: str) -> str:
    """A browser's file name as a plain relative name (never a path of the server)."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
    if not parts:
        raise UploadError(f"file name {name!r} names no file")
    return "/".join(parts)


UPLOAD_FORMATS = ("jsonl", "brat", "measeval")  # what a layer upload may be (as `import --layer --format`)
