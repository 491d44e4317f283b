"""Error pages in the app's own layout instead of Flask's bare defaults."""
from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

bp = Blueprint("errors", __name__)

DEFAULT_MESSAGES = {
    404: "There is nothing at this address. The link may be mistyped, or the document may have been removed.",
}


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    # Werkzeug's stock descriptions are generic; our own abort(…, description=…) is kept.
    stock = type(error).description
    message = DEFAULT_MESSAGES.get(error.code) if error.description == stock else error.description
    return render_template("errors/error.html", code=error.code, name=error.name,
                           message=message or error.description), error.code


@bp.app_errorhandler(InternalServerError)
def server_error(error: InternalServerError):
    # Never show the exception to the user; it is in the server log.
    return render_template("errors/error.html", code=500, name="Something went wrong",
                           message="The server could not finish this request. Try again; "
                                   "if it keeps failing, tell whoever runs this installation."), 500

