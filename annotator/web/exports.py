"""The export page for curators: every export name with its versions and manifests, a
version downloaded as a streamed .zip, and the diff between two versions.

Names and versions in a URL are matched against the export's own patterns and must name a
folder directly inside the exports folder (no symlink, no '..'): anything else is 404.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from annotator.export.diff import DiffError, diff_versions
from annotator.export.publish import NAME_RE
from annotator.export.versions import LATEST, VERSION_DIR, formats_of, published_versions, version_name
from annotator.web.auth import curator_required

bp = Blueprint("exports", __name__, url_prefix="/exports")
CHUNK = 1 << 20  # bytes read from a file at a time into the zip stream


def exports_root() -> Path:
    return Path(current_app.config["EXPORTS_DIR"]).resolve()


def export_folder(name: str) -> Path:
    folder = exports_root() / name
    if not NAME_RE.match(name) or folder.is_symlink() or not folder.is_dir():
        abort(404, description=f"No export named {name!r}.")
    return folder


def newest(name: str) -> str:
    """The newest version's name, as exports/<name>/latest names it; 404 when there is none."""
    versions = published_versions(export_folder(name))
    if not versions:
        abort(404, description=f"Export {name!r} has no published version.")
    return version_name(versions[-1])


def version_folder(name: str, version: str) -> Path:
    folder = export_folder(name) / version
    if not VERSION_DIR.match(version) or folder.is_symlink() or not folder.is_dir():
        abort(404, description=f"Export {name!r} has no version {version!r}.")
    return folder


def read_manifest(version: Path) -> dict:
    try:
        return orjson.loads((version / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}  # a folder without a readable manifest is still listed, without figures


def versions_of(folder: Path) -> list[dict]:
    """Newest first, each with its manifest and the formats it holds."""
    found = []
    for number in reversed(published_versions(folder)):
        name = version_name(number)
        manifest = read_manifest(folder / name)
        formats = formats_of(manifest) if manifest.get("formats") or manifest.get("format") else []
        found.append({"name": name, "manifest": manifest, "formats": formats})
    return found


def export_names() -> list[str]:
    root = exports_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if NAME_RE.match(p.name) and p.is_dir() and not p.is_symlink())


@bp.get("/")
@curator_required
def index():
    exports = [{"name": n, "versions": versions_of(exports_root() / n)} for n in export_names()]
    return render_template("exports/index.html", exports=exports)


@bp.get("/<name>/<version>/")
@curator_required
def version(name: str, version: str):
    if version == LATEST:
        return redirect(url_for(".version", name=name, version=newest(name)))
    folder = version_folder(name, version)
    others = [v["name"] for v in versions_of(folder.parent)]
    manifest = read_manifest(folder)
    formats = formats_of(manifest) if manifest.get("formats") or manifest.get("format") else []
    return render_template(
        "exports/version.html", name=name, version=version, manifest=manifest, formats=formats, others=others
    )


@bp.get("/<name>/<version>.zip")
@curator_required
def download(name: str, version: str):
    if version == LATEST:
        return redirect(url_for(".download", name=name, version=newest(name)))
    folder = version_folder(name, version)
    headers = {"Content-Disposition": f'attachment; filename="{name}-{version}.zip"', "Cache-Control": "no-store"}
    return Response(zip_stream(folder, f"{name}-{version}"), mimetype="application/zip", headers=headers)


@bp.get("/<name>/diff")
@curator_required
def diff(name: str):
    old, new = request.args.get("old", ""), request.args.get("new", "")
    old_dir, new_dir = version_folder(name, old), version_folder(name, new)
    try:
        result, error = diff_versions(old_dir, new_dir), None
    except DiffError as exc:
        result, error = None, str(exc)
    others = [v["name"] for v in versions_of(old_dir.parent)]
    return render_template("exports/diff.html", name=name, diff=result, error=error, old=old, new=new, others=others)


# --- the streamed zip ------------------------------------------------------------------------


class _Sink:
    """A write-only file for ZipFile: what it is given waits here until the stream takes it.
    No tell() or seek(), so zipfile writes data descriptors and never goes back."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def zip_stream(folder: Path, top: str) -> Iterator[bytes]:
    """Every regular file of a version folder (symlinks skipped) under `top/` in a zip,
    produced a megabyte at a time: memory stays flat whatever the export's size."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in _files(folder):
            relative = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(f"{top}/{relative}", _zip_time(path))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(path, "rb") as source, archive.open(info, "w", force_zip64=True) as target:
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    target.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()  # the central directory


def _files(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _zip_time(path: Path) -> tuple[int, int, int, int, int, int]:
    stamp = datetime.fromtimestamp(max(path.stat().st_mtime, 315532800))  # zip dates start in 1980
    return stamp.timetuple()[:6]
