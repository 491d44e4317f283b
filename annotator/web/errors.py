"""Error pages in the app's own layout instead of Flask's bare defaults."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

bp = Blueprint("errors", __name__)
# No database stores U+0000 in text (PostgreSQL refuses it outright), and no field here needs it.
NUL_MESSAGE = "a field holds a NUL character (U+0000), which is not text and cannot be stored: remove it and send again"
OWN_MESSAGES = {"workspace", "gold"}  # blueprints that answer a refusal in their own message area

DEFAULT_MESSAGES = {
    404: "There is nothing at this address. The link may be mistyped, or the document may have been removed.",
}


def too_large_message() -> str:
    """What a 413 says: the limits that refused the request (MAX_CONTENT_LENGTH for the body,
    MAX_FORM_MEMORY_SIZE for a form's fields, MAX_FORM_PARTS for their number)."""
    config = current_app.config
    limits = [
        f"{_size(config[key])} {what}"
        for key, what in (("MAX_CONTENT_LENGTH", "in all"), ("MAX_FORM_MEMORY_SIZE", "of form fields"))
        if config.get(key)
    ]
    if config.get("MAX_FORM_PARTS"):
        limits.append(f"{config['MAX_FORM_PARTS']:,} form fields")
    return (
        "The request is too large for this server"
        + (f" (at most {', '.join(limits)})" if limits else "")
        + ". Nothing was stored: send less at a time."
    )


def _size(n: int) -> str:
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:g} {unit}"
    return f"{n} bytes"


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    # Werkzeug's stock descriptions are generic; our own abort(…, description=…) is kept.
    stock = type(error).description
    if error.description != stock:
        message = error.description
    elif error.code == 413:
        message = too_large_message()
    else:
        message = DEFAULT_MESSAGES.get(error.code)
    return render_template(
        "errors/error.html", code=error.code, name=error.name, message=message or error.description
    ), error.code


@bp.app_errorhandler(InternalServerError)
def server_error(error: InternalServerError):
    # Never show the exception to the user; it is in the server log.
    return render_template(
        "errors/error.html",
        code=500,
        name="Something went wrong",
        message="The server could not finish this request. Try again; "
        "if it keeps failing, tell whoever runs this installation.",
    ), 500


def holds_nul() -> bool:
    """Whether the request's form has a NUL character in any value."""
    return request.method == "POST" and any("\x00" in value for _, values in request.form.lists() for value in values)


@bp.before_app_request
def refuse_nul_characters():
    """Refuse such a form before any view reads it (the workspace does so in its message
    area, workspace.py): 422 and the reason, never a database error."""
    if request.blueprint not in OWN_MESSAGES and holds_nul():
        abort(422, description=NUL_MESSAGE[:1].upper() + NUL_MESSAGE[1:] + ".")
