"""Upload documents, or annotations into a layer, from the browser (curators and admins).

The files are checked here only for what the server must refuse before storing anything
(size, archive members); everything else is the import's own checks, run by a worker as a
background job whose partial (web/jobs.py) shows the progress, the file:line problems and
a cancel button. A refused upload stores nothing and queues nothing."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from annotator.db import get_db
from annotator.jobs.store import get_job
from annotator.jobs.uploads import DOCUMENT_SUFFIXES, UPLOAD_FORMATS, Limits, UploadError, pack
from annotator.models import GOLD, PERSON_NAME, RESERVED_LAYER_NAMES
from annotator.web.auth import curator_required
from annotator.web.errors import _size
from annotator.web.jobs import job_context, start_job

bp = Blueprint("upload", __name__, url_prefix="/upload")


def limits() -> Limits:
    config = current_app.config
    return Limits(
        max_total=int(config.get("UPLOAD_MAX_UNCOMPRESSED") or Limits.max_total),
        max_ratio=float(config.get("UPLOAD_MAX_RATIO") or Limits.max_ratio),
    )


def upload_limit() -> int:
    """The whole request, as for every request: MAX_CONTENT_LENGTH (docs/security.md)."""
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def _page(error: str | None = None, values: dict | None = None, status: int = 200, job=None):
    """The page; an htmx request takes only its #upload-answer (hx-select)."""
    return render_template(
        "upload/page.html",
        **(job_context(job) if job else {}),
        error=error,
        values=values or {},
        formats=UPLOAD_FORMATS,
        limit=_size(upload_limit()) if upload_limit() else None,
        max_total=_size(limits().max_total),
    ), status


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """Raised as the form is first read (the CSRF check does): the upload page, with the limit."""
    message = (
        f"The upload is larger than {_size(upload_limit())}, the limit of this server (MAX_CONTENT_LENGTH). "
        "Nothing was stored: upload fewer files at a time."
    )
    return _page(message, status=413)


@bp.get("/")
@curator_required
def page():
    return _page()


def _read_files() -> tuple[list, list]:
    """(plain files, archives) of the form, as (name, bytes)."""
    uploaded = request.files.getlist("files")
    files, archives = [], []
    for item in uploaded:
        if not item.filename:
            continue
        name, data = item.filename, item.read()
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if suffix == ".zip":
            archives.append((name, data))
        elif suffix in DOCUMENT_SUFFIXES or suffix == ".ann" or suffix == ".tsv":
            files.append((name, data))
        else:
            raise UploadError(f"{name}: not a .txt, .md, .jsonl or .zip file")
    if not files and not archives:
        raise UploadError("choose at least one file")
    return files, archives


def _params(form) -> dict:
    into = form.get("into", "corpus")
    params = {"prehighlight": form.get("prehighlight") == "on", "names": []}
    if into == "corpus":
        return params
    layer = form.get("layer", "").strip()
    if layer != GOLD and (not PERSON_NAME.fullmatch(layer) or layer.lower() in RESERVED_LAYER_NAMES):
        raise UploadError(f"layer {layer!r}: a person's name (letters, digits, '.', '_', '-') or 'gold'")
    fmt = form.get("fmt", "jsonl")
    if fmt not in UPLOAD_FORMATS:
        raise UploadError(f"format {fmt!r}: choose one of {', '.join(UPLOAD_FORMATS)}")
    return params | {"layer": layer, "fmt": fmt, "done": form.get("done") == "on"}


@bp.post("/")
@curator_required
def start():
    try:
        files, archives = _read_files()
        params = _params(request.form)
        upload = pack(files, archives, limits())
    except UploadError as exc:
        return _page(f"{str(exc)[:1].upper()}{str(exc)[1:]}. Nothing was stored.", dict(request.form), 422)
    params["names"] = [name for name, _ in files + archives]
    job_id = start_job("import", params, upload)
    return _page(values=dict(request.form), status=202, job=get_job(get_db(), job_id))
