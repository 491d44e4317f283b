"""Error pages in the app's own layout instead of Flask's bare defaults."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

bp = Blueprint("errors", __name__)
# No database stores U+0000 in text (PostgreSQL refuses it outright), and no field here needs it.
NUL_MESSAGE = "a field holds a NUL character (U+0000), which is not text and cannot be stored: remove it and send again"
OWN_MESSAGES = {"workspace", "gold"}  # blueprints that answer a refusal in their own message area

DEFAULT_MESSAGES = {
    404: "There is nothing at this address. The link may be mistyped, or the document may have been removed.",
}


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    # Werkzeug's stock descriptions are generic; our own abort(…, description=…) is kept.
    stock = type(error).description
    message = DEFAULT_MESSAGES.get(error.code) if error.description == stock else error.description
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
