"""User accounts: creation, passwords (werkzeug's salted PBKDF2/scrypt hashes), roles,
deactivation, and throttling of repeated failed logins by account and by address."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from annotator.models import RESERVED_LAYER_NAMES, ROLES, LoginFailure, User, utcnow

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 8
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


class AccountError(ValueError):
    pass


class Throttled(AccountError):
    pass


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or name.lower() in RESERVED_LAYER_NAMES:
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
    if find_user(session, name):
        raise AccountError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    user = _existing(session, name)
    user.password_hash = generate_password_hash(check_password(password))
    session.add(user)
    return user


def set_active(session: Session, name: str, active: bool) -> User:
    user = _existing(session, name)
    user.active = active
    session.add(user)
    return user


def _existing(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise AccountError(f"no user named {name!r}")
    return user


def list_users(session: Session) -> list[User]:
    return session.exec(select(User).order_by(User.name)).scalars().all()


def has_admin(session: Session) -> bool:
    return session.exec(select(User.id).where(User.role == "admin", User.active.is_(True)).limit(1)).first() is not None


def authenticate(session: Session, name: str, password: str, address: str) -> User:
    """The user if name and password match an active account; failures are counted and,
    past the limits, refused before the password is even checked."""
    since = utcnow() - WINDOW
    by_account = session.exec(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.name == name, LoginFailure.at >= since)
    ).scalar_one()
    by_address = session.exec(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.address == address, LoginFailure.at >= since)
    ).scalar_one()
    if by_account >= MAX_FAILURES_PER_ACCOUNT or by_address >= MAX_FAILURES_PER_ADDRESS:
        raise Throttled(f"too many failed logins; try again in {int(WINDOW.total_seconds() // 60)} minutes")
    user = find_user(session, name)
    if (
        user is None
        or not user.active
        or not user.password_hash
        or not check_password_hash(user.password_hash, password)
    ):
        session.add(LoginFailure(name=name[:64], address=address[:64]))
        raise AccountError("unknown user or wrong password")
    session.execute(delete(LoginFailure).where(LoginFailure.name == name))
    user.last_login_at = utcnow()
    session.add(user)
    return user
