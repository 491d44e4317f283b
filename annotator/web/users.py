"""Accounts in the browser: for admins the list, a new account, deactivate and activate,
a new password and a new role (the same rules as `annotator users`); for everyone a change
of their own password (the current one required). A new password, deactivation and a role
change end every session of that user; each is an audit event (who, whom, before, after),
so the user's history shows it."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlmodel import Session
from werkzeug.security import check_password_hash

from annotator.db import get_db
from annotator.models import ROLES, AuditEvent
from annotator.team.accounts import (
    AccountError,
    NoSuchUser,
    create_user,
    discard_setup_token,
    find_user,
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
            _audit(s, "create_user", name, None, {"role": role, "active": True})
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
            was = set_active(s, name, active)
            _audit(s, "activate_user" if active else "deactivate_user", name, None, {"active": was.active})
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
            _audit(s, "reset_password", name, None, {"password": "changed"})
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
            old = find_user(s, name)
            before = {"role": old.role} if old else None
            set_role(s, name, new)
            _audit(s, "change_role", name, before, {"role": new})
    except AccountError as exc:
        return _page(error=str(exc).capitalize() + "."), 404 if isinstance(exc, NoSuchUser) else 422
    if new == "admin":
        discard_setup_token(current_app.instance_path)
    flash(f"{name} is now {new}.")
    return redirect(url_for(".index"), 303)


@bp.route("/account", methods=["GET", "POST"])
def account():
    """Anyone changes their own password: the current one first, the new one twice."""
    if request.method == "GET":
        return render_template("users/account.html")
    current, new = request.form.get("current", ""), request.form.get("password", "")
    try:
        with get_db().writing() as s:
            user = find_user(s, current_user.name)
            if user is None or not check_password_hash(user.password_hash or "", current):
                raise AccountError("the current password is wrong")
            if new != request.form.get("confirm", ""):
                raise AccountError("the two new passwords differ")
            user = set_password(s, user.name, new)
            _audit(s, "change_own_password", user.name, None, {"password": "changed"})
            account = Account(user)
    except AccountError as exc:
        return render_template("users/account.html", error=str(exc).capitalize() + "."), 422
    login_user(account)  # this session under the new generation; every other one has ended
    flash("Your password was changed. Other sessions of yours have ended.")
    return redirect(url_for(".account"), 303)


def _audit(session: Session, action: str, name: str, before: dict | None, after: dict | None) -> None:
    """An account change as an audit event: the actor, the account (target user:NAME), before
    and after (never a password, only that it changed)."""
    session.add(AuditEvent(user=current_user.name, action=action, target=f"user:{name}", before=before, after=after))


def _page(error: str | None = None, name: str = "", role: str = "annotator"):
    with get_db().reading() as s:
        users = list_users(s)
    return render_template("users/index.html", users=users, roles=ROLES, error=error, name=name, role=role)
