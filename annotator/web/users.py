"""Accounts in the browser, for admins: the list, a new account, deactivate and activate,
a new password and a new role (the same rules as `annotator users`). A new password,
deactivation and a role change end every session of that user."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from annotator.db import get_db
from annotator.models import ROLES
from annotator.team.accounts import (
    AccountError,
    NoSuchUser,
    create_user,
    discard_setup_token,
    list_users,
    set_active,
    set_password,
    set_role,
)
from annotator.web.auth import Account, roles_required

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
    if role == "admin":
        discard_setup_token(current_app.instance_path)
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


@bp.post("/<name>/password")
@admin_required
def password(name: str):
    """A new password: every session of the user ends (the admin's own one here goes on)."""
    new = request.form.get("password", "")
    try:
        if new != request.form.get("confirm", ""):
            raise AccountError("the two passwords differ")
        with get_db().writing() as s:
            user = set_password(s, name, new)
            own = Account(user) if user.name == current_user.name else None
    except AccountError as exc:
        return _page(error=str(exc).capitalize() + "."), 404 if isinstance(exc, NoSuchUser) else 422
    if own is not None:
        login_user(own)  # this session under the new generation; every other one has ended
    flash(f"Password of {name} changed.")
    return redirect(url_for(".index"), 303)


@bp.post("/<name>/role")
@admin_required
def role(name: str):
    """A new role: every session of the user ends."""
    new = request.form.get("role", "")
    if name == current_user.name:
        return _page(error="You cannot change your own role."), 422
    try:
        with get_db().writing() as s:
            set_role(s, name, new)
    except AccountError as exc:
        return _page(error=str(exc).capitalize() + "."), 404 if isinstance(exc, NoSuchUser) else 422
    if new == "admin":
        discard_setup_token(current_app.instance_path)
    flash(f"{name} is now {new}.")
    return redirect(url_for(".index"), 303)


def _page(error: str | None = None, name: str = "", role: str = "annotator"):
    with get_db().reading() as s:
        users = list_users(s)
    return render_template("users/index.html", users=users, roles=ROLES, error=error, name=name, role=role)
