"""Accounts: users and their passwords, browser sessions, personal API tokens, sign-in limits.

State lives in the database so that every worker and replica sees the same sessions, tokens
and attempt counters. Tokens are random; only their SHA-256 is stored.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from app.i18n import N_
from app.models import (
    ApiToken,
    LoginThrottle,
    Role,
    User,
    UserSession,
    UTCDateTime,
    character_problem,
    utcnow,
)
from app.settings import PasswordHashing, Settings

SESSION_IDLE = dt.timedelta(hours=8)
SESSION_TOUCH_EVERY = dt.timedelta(minutes=1)
ATTEMPT_WINDOW = dt.timedelta(minutes=15)
MAX_ATTEMPTS_PER_ACCOUNT = 5  # from browsers the account never signed in on
MAX_ATTEMPTS_PER_DEVICE = 5  # from each browser it did (its device cookie)
MAX_ATTEMPTS_PER_CLIENT = 20
DEVICE_LIFETIME = dt.timedelta(days=365)
TOKEN_PREFIX = "st_"
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000
MAX_EMAIL_LENGTH = 320


# argon2id's cheapest, for the test suite's apps: each hash still takes a salt and verifies.
CHEAPEST_HASHER = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class _Hashing:
    hasher: PasswordHash | None = None  # chosen on first use, from the settings
    dummy_hash: str = ""  # verifying against it keeps a wrong email as slow as a wrong password

    def use(self, hasher: PasswordHash) -> None:
        self.hasher = hasher
        self.dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    def current(self) -> PasswordHash:
        if self.hasher is None:
            self.use(hasher_for(Settings().password_hashing))
        assert self.hasher is not None
        return self.hasher


_hashing = _Hashing()


def hasher_for(password_hashing: PasswordHashing) -> PasswordHash:
    """argon2id with the library's recommended parameters, or (PASSWORD_HASHING=cheapest, which
    production refuses) with its cheapest."""
    if password_hashing == "cheapest":
        return PasswordHash((CHEAPEST_HASHER,))
    return PasswordHash.recommended()


def password_hasher() -> PasswordHash:
    """The hasher new passwords get: the settings' unless `use_password_hasher` chose another."""
    return _hashing.current()


def use_password_hasher(hasher: PasswordHash) -> None:
    """Hash passwords with `hasher` from now on (the test suite's cheap argon2id). Each hash
    carries its own parameters, so hashes made either way still verify."""
    _hashing.use(hasher)


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
    if "@" not in email or len(email) > MAX_EMAIL_LENGTH or character_problem(email):
        raise AccountError("email", "enter an email address")
    password_hash = _password_hash(password, "password")
    if session.scalar(select(col(User.id)).where(col(User.email) == email)) is not None:
        raise AccountError("email", "a user with this email exists already")
    user = User(email=email, password_hash=password_hash, role=role)
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


def throttle_key(kind: str, value: str) -> str:
    """The counter's key: a digest, so that no email or address is too long for the column."""
    return _digest(f"{kind}:{value}")


def _take_attempt(session: Session, key: str, now: dt.datetime) -> int:
    """Count one attempt against `key` and return how many its window holds now.

    One statement (an upsert that returns the row), so two workers can never both read 4 and
    both go on: the database hands out 5 and 6. A window older than ATTEMPT_WINDOW starts over.
    """
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    expired = table.c.window_started_at <= now - ATTEMPT_WINDOW
    upsert = (
        insert.values(key=key, attempts=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "attempts": case((expired, 1), else_=table.c.attempts + 1),
                "window_started_at": case(
                    (expired, literal(now, UTCDateTime())), else_=table.c.window_started_at
                ),
            },
        )
        .returning(table.c.attempts)
    )
    return int(session.execute(upsert).scalar_one())


def _forget_expired(session: Session, now: dt.datetime) -> None:
    session.execute(
        delete(LoginThrottle).where(col(LoginThrottle.window_started_at) <= now - ATTEMPT_WINDOW)
    )


def new_device_token(user: User) -> str:
    """What the device cookie holds (signed by the caller): whose it is, and which device."""
    return f"{user.id}:{secrets.token_urlsafe(16)}"


def device_is_known(device: str | None, user: User | None) -> bool:
    """Whether `device` (an unsigned device cookie) is one this user signed in on before."""
    return user is not None and device is not None and device.split(":", 1)[0] == str(user.id)


def sign_in(
    session: Session, *, email: str, password: str, client: str, device: str | None = None
) -> SignInResult:
    """Check a password within the limits, counting each attempt before it is checked.

    A browser the account signed in on before (`device`, its unsigned device cookie) has an
    allowance of its own, as OWASP's device cookies do: strangers' failures against the account
    never lock its editor out there. Every attempt also counts against the client's address.
    The counters are committed before the (slow) password check, so every worker sees them.
    """
    if character_problem(email) or character_problem(password):
        # No account has such an email or password (they are refused when set), and the
        # database could not even be asked (PostgreSQL refuses NUL).
        return SignInResult(None, N_("wrong email or password"))
    now = utcnow()
    email = normalise_email(email)
    user = get_user_by_email(session, email) if len(email) <= MAX_EMAIL_LENGTH else None
    first_key, first_limit = (
        (throttle_key("device", device or ""), MAX_ATTEMPTS_PER_DEVICE)
        if device_is_known(device, user)
        else (throttle_key("account", email), MAX_ATTEMPTS_PER_ACCOUNT)
    )
    client_key = throttle_key("client", client)
    # End the read, so the counting starts a write transaction of its own: SQLite cannot turn
    # a read that another worker's write has overtaken into a write (it fails at once).
    session.commit()
    counts = (_take_attempt(session, first_key, now), _take_attempt(session, client_key, now))
    session.commit()
    if counts[0] > first_limit or counts[1] > MAX_ATTEMPTS_PER_CLIENT:
        return SignInResult(None, N_("too many attempts; try again in 15 minutes"), limited=True)
    hasher = _hashing.current()
    valid = hasher.verify(password, user.password_hash if user else _hashing.dummy_hash)
    if user is None or not valid or not user.is_active:
        _forget_expired(session, now)
        session.commit()
        return SignInResult(None, N_("wrong email or password"))
    # A success forgives the account's (or device's) failures, and gives the client back its try.
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == first_key))
    session.execute(
        update(LoginThrottle)
        .where(col(LoginThrottle.key) == client_key, col(LoginThrottle.attempts) > 0)
        .values(attempts=col(LoginThrottle.attempts) - 1)
    )
    return SignInResult(user)


# ---- changing passwords ------------------------------------------------------------------


def _password_hash(password: str, field: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(field, f"use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(field, f"use at most {MAX_PASSWORD_LENGTH} characters")
    if (problem := character_problem(password)) is not None:
        raise AccountError(field, problem)
    return _hashing.current().hash(password)


def change_password(
    session: Session, *, user: User, current: str, new: str, again: str, keep_session: str
) -> None:
    """A signed-in user's new password; every other session of theirs ends.

    The current password is required (a borrowed, unlocked browser must not be enough) and its
    checks are limited like sign-ins, so a session cannot be used to guess it.
    """
    new_hash = _password_hash(new, "new_password")
    if again != new:
        raise AccountError("new_password_again", "the two new passwords differ")
    now = utcnow()
    attempts = _take_attempt(session, throttle_key("password", str(user.id)), now)
    session.commit()
    if attempts > MAX_ATTEMPTS_PER_ACCOUNT:
        raise AccountError("current_password", "too many attempts; try again in 15 minutes")
    if not _hashing.current().verify(current, user.password_hash):
        raise AccountError("current_password", "wrong password")
    session.execute(
        delete(LoginThrottle).where(
            col(LoginThrottle.key) == throttle_key("password", str(user.id))
        )
    )
    user.password_hash = new_hash
    session.add(user)
    session.execute(
        delete(UserSession).where(
            col(UserSession.user_id) == user.id,
            col(UserSession.token_hash) != _digest(keep_session),
        )
    )


def set_password(session: Session, *, user: User, password: str) -> None:
    """An administrator's (or the CLI's) reset: the new password, every session of the user
    ended, and the account's sign-in limit lifted so they can use it at once."""
    user.password_hash = _password_hash(password, "password")
    session.add(user)
    session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id))
    session.execute(
        delete(LoginThrottle).where(
            col(LoginThrottle.key) == throttle_key("account", normalise_email(user.email))
        )
    )


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
