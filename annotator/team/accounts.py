"""User accounts: creation, passwords (werkzeug's salted PBKDF2/scrypt hashes), roles,
deactivation, throttling of repeated failed logins by account and by address, each user's
session generation (bumped to end all their sessions), and the file that holds the one-time
link for creating the first admin."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, func, select, text, update
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from annotator.models import PERSON_NAME, RESERVED_LAYER_NAMES, ROLES, LoginFailure, User, utcnow

MIN_PASSWORD = 8
WINDOW = timedelta(minutes=15)
# Failed logins within WINDOW that throttle further tries: of one account from one address
# (so a stranger cannot lock the owner out from elsewhere), of one address over all accounts,
# and of one account over all addresses (a guess from many addresses at once).
MAX_PER_ACCOUNT_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_ACCOUNT = 100
SETUP_TOKEN_FILE = "setup_token"  # in the instance folder, readable by its owner only
SETUP_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")


class AccountError(ValueError):
    pass


class Throttled(AccountError):
    pass


class NoSuchUser(AccountError):
    pass


def check_name(name: str) -> str:
    if not isinstance(name, str) or not PERSON_NAME.fullmatch(name) or name.lower() in RESERVED_LAYER_NAMES:
        raise AccountError(
            f"user name {name!r}: use 1-64 letters, digits, '.', '_' or '-' "
            f"(not {' or '.join(sorted(RESERVED_LAYER_NAMES))})"
        )
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"password too short: at least {MIN_PASSWORD} characters")
    return password


def find_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).scalars().first()


def create_user(session: Session, name: str, role: str, password: str) -> User:
    check_name(name)
    if role not in ROLES:
        raise AccountError(f"role {role!r}: choose {', '.join(ROLES)}")
    check_password(password)
    taken = session.exec(select(User.name).where(func.lower(User.name) == name.lower())).scalars().first()
    if taken:
        raise AccountError(
            f"user {name!r} already exists" if taken == name else f"user {taken!r} already exists (names ignore case)"
        )
    user = User(name=name, role=role, password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """A new password; every session of the user ends."""
    user = _existing(session, name)
    user.password_hash = generate_password_hash(check_password(password))
    _next_generation(user)
    session.add(user)
    return user


def set_active(session: Session, name: str, active: bool) -> User:
    """Deactivate (every session ends) or reactivate an account."""
    user = _existing(session, name)
    if user.active != active:
        user.active = active
        _next_generation(user)  # a reactivated account starts with no session either
    session.add(user)
    return user


def set_role(session: Session, name: str, role: str) -> User:
    """A new role; when it changes, every session of the user ends."""
    if role not in ROLES:
        raise AccountError(f"role {role!r}: choose {', '.join(ROLES)}")
    user = _existing(session, name)
    if user.role == "admin" and role != "admin":
        admins = session.exec(select(func.count()).select_from(User).where(User.role == "admin")).scalar_one()
        if admins == 1:
            # an admin row, active or not, is what keeps the setup link dead for good
            raise AccountError(f"{name!r} is the only admin account: make another admin before changing this one")
    if user.role != role:
        user.role = role
        _next_generation(user)
    session.add(user)
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of the user (logout): one update, so two at once both count."""
    session.execute(update(User).where(User.id == user_id).values(session_generation=User.session_generation + 1))


def _next_generation(user: User) -> None:
    user.session_generation = (user.session_generation or 0) + 1


def _existing(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise NoSuchUser(f"no user named {name!r}")
    return user


def list_users(session: Session) -> list[User]:
    return session.exec(select(User).order_by(User.name)).scalars().all()


def admin_ever_existed(session: Session) -> bool:
    """Whether any account is an admin, active or not: the setup link is then dead for good.
    Accounts are never deleted and the last admin cannot be demoted (set_role), so once an
    admin has existed an admin row always does."""
    return session.exec(select(User.id).where(User.role == "admin").limit(1)).first() is not None


# --- the one-time setup link ------------------------------------------------------------------


def setup_token_path(instance_path: str | Path) -> Path:
    return Path(instance_path) / SETUP_TOKEN_FILE


def stored_setup_token(instance_path: str | Path) -> str | None:
    """The unused setup token kept in the instance folder, if there is one."""
    try:
        token = setup_token_path(instance_path).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token if SETUP_TOKEN_RE.match(token) else None  # anything else (an old hash): none


def keep_setup_token(instance_path: str | Path) -> str:
    """The stored unused token, or a new one stored in its place: the same link across
    restarts until it is used."""
    token = stored_setup_token(instance_path)
    if token is None:
        token = secrets.token_urlsafe(24)
        path = setup_token_path(instance_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(token, encoding="utf-8")
    return token


def setup_token_matches(instance_path: str | Path, token: str) -> bool:
    stored = stored_setup_token(instance_path)
    return stored is not None and secrets.compare_digest(stored.encode(), token.encode())


def discard_setup_token(instance_path: str | Path) -> None:
    """Delete the setup link: an admin exists."""
    setup_token_path(instance_path).unlink(missing_ok=True)


def authenticate(session: Session, name: str, password: str, address: str) -> User:
    """The user if name and password match an active account; failures are counted and,
    past the limits, refused before the password is even checked. Attempts on one account
    are taken one at a time (so 40 at once cannot all be checked before the count says
    stop), and an unknown name costs what a wrong password costs (no telling which exist)."""
    _one_attempt_at_a_time(session, name)
    since = utcnow() - WINDOW
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.at >= since)
    tries = (
        (
            recent.where(LoginFailure.name == name, LoginFailure.address == address),
            MAX_PER_ACCOUNT_AND_ADDRESS,
        ),
        (recent.where(LoginFailure.address == address), MAX_FAILURES_PER_ADDRESS),
        (recent.where(LoginFailure.name == name), MAX_FAILURES_PER_ACCOUNT),
    )
    if any(session.exec(query).scalar_one() >= limit for query, limit in tries):
        raise Throttled(f"too many failed logins; try again in {int(WINDOW.total_seconds() // 60)} minutes")
    user = find_user(session, name)
    usable = user is not None and user.active and bool(user.password_hash)
    matches = check_password_hash(user.password_hash if usable else _decoy_hash(), password)
    if not (usable and matches):
        session.execute(delete(LoginFailure).where(LoginFailure.at < since))  # what no limit counts any more
        session.add(LoginFailure(name=name[:64], address=address[:64]))
        raise AccountError("unknown user or wrong password")
    session.execute(delete(LoginFailure).where(LoginFailure.name == name))
    user.last_login_at = utcnow()
    session.add(user)
    return user


def _one_attempt_at_a_time(session: Session, name: str) -> None:
    """Serialise the attempts on one account until the transaction ends. SQLite's write
    transactions are serial already; PostgreSQL takes a lock named by the account."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"login:{name}"})


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash of the same kind to check a password against when the account does not exist."""
    return generate_password_hash(secrets.token_urlsafe(16))
