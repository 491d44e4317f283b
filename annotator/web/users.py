"""Accounts in the browser, for admins: the list, a new account, deactivate and activate
(the same rules as `annotator users`; passwords are set by the admin and changed with
`annotator users password`)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from annotator.db import get_db
from annotator.models import ROLES
from annotator.team.accounts import AccountError, create_user, list_users, set_active
from annotator.web.auth import roles_required

bp = Blueprint("users", __name__, url_prefix="/users")
admin_required = roles_required("admin")


@bp.get("/")
@admin_required
def index():
    return _page()


@bp.post("/")
@admin_required
def add():
    form = request.form
    name, role, password = form.get("name", "").strip(), form.get("role", ""), form.get("password", "")
    try:
        if password != form.get("confirm", ""):
            raise AccountError("the two passwords differ")
        with get_db().writing() as s:
            create_user(s, name, role, password)
    except AccountError as exc:
        return _page(error=str(exc).capitalize() + ".", name=name, role=role), 422
    flash(f"Created {role} {name}.")
    return redirect(url_for(".index"), 303)


@bp.post("/<name>/active")
@admin_required
def toggle(name: str):
    active = request.form.get("active") == "1"
    if name == current_user.name and not active:
        return _page(error="You cannot deactivate your own account."), 422
    try:
        with get_db().writing() as s:
            set_active(s, name, active)
    except AccountError as exc:
        return _page(error=str(exc).capitalize() + "."), 404
    flash(f"{'Activated' if active else 'Deactivated'} {name}.")
    return redirect(url_for(".index"), 303)


def _page(error: str | None = None, name: str = "", role: str = "annotator"):
    with get_db().reading() as s:
        users = list_users(s)
    return render_template("users/index.html", users=users, roles=ROLES, error=error, name=name, role=role)
