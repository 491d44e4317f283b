"""Who is annotating: a name kept in the Flask session until accounts arrive.

Everything else asks current_annotator() only, so the accounts issue replaces this module's
insides (Flask-Login's current_user) without touching the workspace.
"""
from __future__ import annotations

import re
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for

from .. import htmx
from ..models import RESERVED_LAYER_NAMES

bp = Blueprint("identity", __name__)
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
SESSION_KEY = "annotator"


def current_annotator() -> str | None:
    """The annotator's name (also their layer's name), or None when nobody said who they are."""
    name = session.get(SESSION_KEY)
    return name if isinstance(name, str) and check_name(name) is None else None


def check_name(name: str) -> str | None:
    """Why `name` cannot be an annotator's name, or None if it can."""
    if not name:
        return "Type a name."
    if not NAME.fullmatch(name):
        return "Use 1 to 64 letters, digits, dots, underscores or hyphens (no spaces)."
    if name.lower() in RESERVED_LAYER_NAMES:
        return f"“{name}” is reserved for the {name.lower()} layer; choose your own name."
    return None


def annotator_required(view):
    """Send a visitor without a name to the "Who is annotating?" page and back afterwards.

    An htmx request cannot follow a redirect into a full page, so it is told to navigate.
    """
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_annotator() is None:
            target = url_for("identity.who", next=request.full_path.rstrip("?") if request.method == "GET" else request.referrer)
            if htmx:
                return "", 401, {"HX-Redirect": target}
            return redirect(target)
        return view(*args, **kwargs)
    return wrapped


def safe_next(value: str | None) -> str | None:
    """A same-site path to return to (never another host: no open redirect)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return None
    return value


@bp.route("/who", methods=["GET", "POST"])
def who():
    back = safe_next(request.values.get("next"))
    error, name = None, current_annotator() or ""
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        error = check_name(name)
        if error is None:
            session[SESSION_KEY] = name
            session.permanent = True
            return redirect(back or url_for("workspace.start"))
    return render_template("workspace/who.html", name=name, error=error, back=back,
                           current=current_annotator()), 422 if error else 200


@bp.post("/who/forget")
def forget():
    session.pop(SESSION_KEY, None)
    return redirect(url_for("identity.who"))


@bp.app_context_processor
def inject_annotator():
    return {"annotator_name": current_annotator()}
