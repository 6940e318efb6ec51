"""Accounts: users and their passwords, browser sessions, personal API tokens, sign-in limits.

State lives in the database so that every worker and replica sees the same sessions, tokens
and attempt counters. Tokens are random; only their SHA-256 is stored.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col

from app.i18n import N_
from app.models import (
    ApiToken,
    LoginAttempt,
    Role,
    User,
    UserSession,
    character_problem,
    utcnow,
)

SESSION_IDLE = dt.timedelta(hours=8)
SESSION_TOUCH_EVERY = dt.timedelta(minutes=1)
ATTEMPT_WINDOW = dt.timedelta(minutes=15)
MAX_ATTEMPTS_PER_ACCOUNT = 5
MAX_ATTEMPTS_PER_CLIENT = 20
TOKEN_PREFIX = "st_"
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHash.recommended()  # argon2id with the library's current parameters
# Verifying against this keeps a wrong email as slow as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A refused account operation; `field` names the form field or CLI argument."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


# ---- users -------------------------------------------------------------------------------


def create_user(session: Session, *, email: str, password: str, role: Role) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 320 or character_problem(email):
        raise AccountError("email", "enter an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"use at least {MIN_PASSWORD_LENGTH} characters")
    if (problem := character_problem(password)) is not None:
        raise AccountError("password", problem)
    if session.scalar(select(col(User.id)).where(col(User.email) == email)) is not None:
        raise AccountError("email", "a user with this email exists already")
    user = User(email=email, password_hash=_hasher.hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(col(User.email) == normalise_email(email))).first()


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(col(User.email))))


def set_role(session: Session, *, user: User, role: Role) -> None:
    user.role = role
    session.add(user)


def deactivate(session: Session, *, user: User) -> None:
    """Sign the user out everywhere and revoke their tokens, at once."""
    user.is_active = False
    session.add(user)
    session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id))
    session.execute(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def reactivate(session: Session, *, user: User) -> None:
    user.is_active = True
    session.add(user)


# ---- signing in --------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    error: str | None = None
    limited: bool = False


def _recent_failures(session: Session, key: str, now: dt.datetime) -> int:
    query = select(func.count()).where(
        col(LoginAttempt.key) == key, col(LoginAttempt.at) > now - ATTEMPT_WINDOW
    )
    return int(session.scalar(query) or 0)


def sign_in(session: Session, *, email: str, password: str, client: str) -> SignInResult:
    """Check a password, counting failures per account and per client address."""
    if character_problem(email) or character_problem(password):
        # No account has such an email or password (they are refused when set), and the
        # database could not even be asked (PostgreSQL refuses NUL).
        return SignInResult(None, N_("wrong email or password"))
    now = utcnow()
    account_key, client_key = f"account:{normalise_email(email)}", f"client:{client}"
    if (
        _recent_failures(session, account_key, now) >= MAX_ATTEMPTS_PER_ACCOUNT
        or _recent_failures(session, client_key, now) >= MAX_ATTEMPTS_PER_CLIENT
    ):
        return SignInResult(None, N_("too many attempts; try again in 15 minutes"), limited=True)
    user = get_user_by_email(session, email)
    valid = _hasher.verify(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not valid or not user.is_active:
        session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < now - ATTEMPT_WINDOW))
        session.add_all(
            [LoginAttempt(key=account_key, at=now), LoginAttempt(key=client_key, at=now)]
        )
        session.commit()
        return SignInResult(None, N_("wrong email or password"))
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.key) == account_key))
    return SignInResult(user)


# ---- browser sessions --------------------------------------------------------------------


def start_session(session: Session, *, user: User) -> str:
    """Open a browser session; returns the token for the cookie (never stored as is)."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_digest(token), user_id=user.id))
    return token


def session_user(session: Session, token: str) -> User | None:
    """The active user of a live session, or None; refreshes the idle timer."""
    now = utcnow()
    found = session.execute(
        select(UserSession, User)
        .join(User, col(User.id) == UserSession.user_id)
        .where(col(UserSession.token_hash) == _digest(token))
    ).first()
    if found is None:
        return None
    browser: UserSession = found[0]
    user: User = found[1]
    if not user.is_active or now - browser.last_seen_at > SESSION_IDLE:
        session.delete(browser)
        session.commit()
        return None
    if now - browser.last_seen_at > SESSION_TOUCH_EVERY:
        browser.last_seen_at = now
        session.add(browser)
        session.commit()
    return user


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(col(UserSession.token_hash) == _digest(token)))


# ---- API tokens --------------------------------------------------------------------------


def create_token(session: Session, *, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token; the plain value is returned once and never stored."""
    assert user.id is not None
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("name", "give the token a name of up to 100 characters")
    if (problem := character_problem(name)) is not None:
        raise AccountError("name", problem)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(plain))
    session.add(token)
    session.flush()
    return token, plain


def list_tokens(session: Session, *, user: User) -> list[ApiToken]:
    query = select(ApiToken).where(col(ApiToken.user_id) == user.id).order_by(col(ApiToken.id))
    return list(session.scalars(query))


def revoke_token(session: Session, *, user: User, token_id: int) -> bool:
    result = session.execute(
        update(ApiToken)
        .where(
            col(ApiToken.id) == token_id,
            col(ApiToken.user_id) == user.id,
            col(ApiToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def token_user(session: Session, plain: str) -> User | None:
    """The active owner of a live token, or None."""
    found = session.execute(
        select(ApiToken, User)
        .join(User, col(User.id) == ApiToken.user_id)
        .where(col(ApiToken.token_hash) == _digest(plain), col(ApiToken.revoked_at).is_(None))
    ).first()
    if found is None or not found[1].is_active:
        return None
    token: ApiToken = found[0]
    user: User = found[1]
    token.last_used_at = utcnow()
    session.add(token)
    session.commit()
    return user
