"""Login, logout, the one-time setup of the first admin, and the rule that every page
needs a login (Flask-Login sessions, Flask-WTF CSRF on every state-changing request; htmx
requests carry the token in the X-CSRFToken header that base.html sets on <body>).

A session names the user's session generation (Flask-Login's alternative id,
"<id>:<generation>"): logout, a new password, deactivation and a role change bump it, and a
cookie from an older generation, a saved copy included, loads no user."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import bindparam, select

from annotator.db import get_db
from annotator.models import User, utcnow
from annotator.team.accounts import (
    AccountError,
    Throttled,
    admin_ever_existed,
    authenticate,
    check_name,
    check_password,
    create_user,
    discard_setup_token,
    end_sessions,
    keep_setup_token,
    setup_token_matches,
)
from annotator.web.extensions import htmx
from annotator.web.identity import safe_next

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()
PUBLIC_ENDPOINTS = {"auth.login", "auth.setup", "static", "htmx_js.static"}
DEAD_SETUP_LINK = (
    "This setup link is no longer valid: an admin account exists, or the link was never issued. "
    "Log in, or ask an admin for an account."
)

ACCOUNT_BY_ID = select(User.id, User.name, User.role, User.active, User.session_generation).where(
    User.id == bindparam("id")
)


class Account(UserMixin):
    """The logged-in user as Flask-Login sees it: a detached copy, no session attached."""

    def __init__(self, user):
        self.id, self.name, self.role, self.active = user.id, user.name, user.role, user.active
        self.generation = user.session_generation or 0

    def get_id(self) -> str:
        """What the session stores: the id and the session generation it was issued under."""
        return f"{self.id}:{self.generation}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_curator(self) -> bool:
        return self.role in ("curator", "admin")


class SecureWhenHttps(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS (or config says so)."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def init_app(app) -> None:
    # Flask ships these keys set to None, so setdefault would keep None: fill the gaps
    for key, value in (
        ("SESSION_COOKIE_HTTPONLY", True),
        ("SESSION_COOKIE_SAMESITE", "Lax"),
        ("REMEMBER_COOKIE_HTTPONLY", True),
        ("REMEMBER_COOKIE_SAMESITE", "Lax"),
    ):
        if app.config.get(key) is None:
            app.config[key] = value
    app.session_interface = SecureWhenHttps()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    app.before_request(require_login)  # first, so an anonymous request gets 401, not a CSRF error
    csrf.init_app(app)
    app.register_blueprint(bp)


@login_manager.user_loader
def load_user(session_id: str) -> Account | None:
    """The account a session names, if it is active and the session's generation is its
    current one (an older one ended at logout, a new password, deactivation or a role change)."""
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()):
        return None  # a cookie from before generations existed names no generation: ended too
    with get_db().autocommit() as conn:  # every request asks: one plain select, no ORM session
        user = conn.execute(ACCOUNT_BY_ID, {"id": int(user_id)}).first()
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return Account(user)


def require_login():
    """Every endpoint but login, setup and static files needs a logged-in user."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if htmx:
        return "", 401, {"HX-Redirect": target}
    if request.method != "GET":
        abort(401)
    return redirect(target)


def roles_required(*roles: str):
    """Refuse (403) users whose role is not among `roles`."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or current_user.role not in roles:
                abort(403, description="Your role does not allow this page.")
            return view(*args, **kwargs)

        return wrapped

    return decorate


curator_required = roles_required("curator", "admin")


@bp.route("/login", methods=["GET", "POST"])
def login():
    back = safe_next(request.values.get("next"))
    error, name, status = None, "", 200
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        with get_db().writing() as session:  # a failure is recorded even though login fails
            try:
                user = authenticate(session, name, request.form.get("password", ""), request.remote_addr or "-")
                account = Account(user)
            except Throttled as exc:
                error, status = str(exc).capitalize() + ".", 429
            except AccountError as exc:
                error, status = str(exc).capitalize() + ".", 401
        if error is None:
            login_user(account)
            return redirect(back or url_for("documents.index"))
    if current_app.extensions.get("annotator.setup_token") and not _admin_exists():
        error = error or "No admin account yet: use the setup link printed by `annotator serve`."
    return render_template("auth/login.html", error=error, name=name, back=back), status


@bp.post("/logout")
def logout():
    """End every session of the user, saved copies of this one's cookie included, and empty
    this session (its CSRF token with it)."""
    if current_user.is_authenticated:
        with get_db().writing() as s:
            end_sessions(s, current_user.id)
    session.clear()
    logout_user()
    return redirect(url_for("auth.login"))


# --- first admin --------------------------------------------------------------------------


def _admin_exists() -> bool:
    with get_db().reading() as s:
        return admin_ever_existed(s)


def issue_setup_token(app) -> str | None:
    """The one-time token for creating the first admin in the browser, while no admin has
    ever existed: the unused one from an earlier start if there is one (the printed link
    stays the same), else a new one. None once an admin exists (the token file is deleted)."""
    with get_db(app).reading() as s:
        if admin_ever_existed(s):
            discard_setup_token(app.instance_path)
            return None
    return keep_setup_token(app.instance_path)


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str):
    if _admin_exists():
        discard_setup_token(current_app.instance_path)
        abort(404, description=DEAD_SETUP_LINK)
    if not setup_token_matches(current_app.instance_path, token):
        abort(404, description=DEAD_SETUP_LINK)
    error, name = None, ""
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        password = request.form.get("password", "")
        try:
            check_name(name)
            check_password(password)
            if password != request.form.get("confirm", ""):
                raise AccountError("the two passwords differ")
            with get_db().writing() as s:
                user = create_user(s, name, "admin", password)
                user.last_login_at = utcnow()  # setting up logs the admin in: the accounts page says when
                account = Account(user)
        except AccountError as exc:
            error = str(exc).capitalize() + "."
        else:
            discard_setup_token(current_app.instance_path)
            login_user(account)
            return redirect(url_for("users.index"))  # the admin's next step: accounts for the team
    return render_template("auth/setup.html", error=error, name=name, token=token), 422 if error else 200
