"""Shared dependencies and their Annotated aliases."""

import datetime as dt
import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request
from itsdangerous import BadSignature, Signer
from pydantic import BeforeValidator
from sqlmodel import Session

from app import accounts
from app.db import iter_session
from app.models import MAX_STORED_INT, STAGE_STATUSES, User
from app.timeline import FilterError, TimelineFilters

SESSION_COOKIE = "swaptally_session"  # `__Host-swaptally_session` behind https
DEVICE_COOKIE = "swaptally_device"


def get_session(request: Request) -> Iterator[Session]:
    yield from iter_session(request.app.state.engine)


SessionDep = Annotated[Session, Depends(get_session)]


def today() -> dt.date:
    """The day in UTC: what a citation says it was accessed on (tests override it)."""
    return dt.datetime.now(dt.UTC).date()


TodayDep = Annotated[dt.date, Depends(today)]
# A row's id in a path: one the database can hold, else no such row (404 on pages, 422 in the
# API), never a query the database refuses.
RowId = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]


# The documented types of the timeline's text filters; the parsing (and its 422 naming the
# parameter) is TimelineFilters', which also takes an empty value as no filter (as a form sends
# a field left empty).
EMPTY = {"type": "string", "maxLength": 0}
DAY: dict[str, Any] = {
    "description": "YYYY-MM-DD, or empty for none",
    "json_schema_extra": {"anyOf": [{"type": "string", "format": "date"}, EMPTY]},
}


def timeline_filters(
    exchange: Annotated[str | None, Query(description="Exchange slug")] = None,
    side: Annotated[
        str | None, Query(description="A party's name or slug (Ukraine), or the first API's a, b")
    ] = None,
    party: Annotated[str | None, Query(description="A party's slug (ukraine)")] = None,
    date_from: Annotated[str | None, Query(alias="from", **DAY)] = None,
    date_to: Annotated[str | None, Query(alias="to", **DAY)] = None,
    status: Annotated[
        str | None,
        Query(
            description="reported, confirmed or disputed",
            json_schema_extra={"enum": ["", *STAGE_STATUSES]},
        ),
    ] = None,
    q: Annotated[str | None, Query(description="Text in notes and sources")] = None,
    page: Annotated[
        str | None,
        Query(
            description="The page token of a `next` link (the last stage's date and id)",
            # Only a token of ours is valid, which a pattern cannot say (2025-02-30~1 fits it):
            # a format of our own says it.
            json_schema_extra={
                "anyOf": [
                    {
                        "type": "string",
                        "format": "swaptally-page",
                        "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}~[0-9]{1,18}$",
                    },
                    EMPTY,
                ]
            },
        ),
    ] = None,
) -> TimelineFilters:
    """The timeline's filters from the query string; a bad value is a 422 naming its parameter."""
    raw = {"exchange": exchange, "side": side, "party": party, "from": date_from, "to": date_to}
    raw |= {"status": status, "q": q, "page": page}
    try:
        return TimelineFilters.from_query({k: v for k, v in raw.items() if v is not None})
    except FilterError as error:
        detail = [{"loc": ["query", error.field], "msg": str(error), "type": "value_error"}]
        raise HTTPException(status_code=422, detail=detail) from None


TimelineFiltersDep = Annotated[TimelineFilters, Depends(timeline_filters)]


def _iso_day(value: object) -> object:
    """Only YYYY-MM-DD: pydantic would also take `0` (a Unix time, 1 January 1970) as a day."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


# A day in a query string, as documented (format date).
QueryDay = Annotated[dt.date, BeforeValidator(_iso_day)]


# ---- who is asking -----------------------------------------------------------------------


class SignInRequired(Exception):
    """Raised for an anonymous request to an editor page; answered with a redirect to /login."""


def session_signer(request: Request) -> Signer:
    signer: Signer = request.app.state.session_signer
    return signer


def device_signer(request: Request) -> Signer:
    """Signs device cookies, with a salt of their own: a session cookie is never a device's."""
    secret = request.app.state.settings.signing_secret()
    return Signer(secret, salt="swaptally.device")


def current_device(request: Request) -> str | None:
    """This browser's device cookie (accounts.new_device_token), if it carries our signature."""
    try:
        return (
            device_signer(request)
            .unsign(request.cookies.get(request.app.state.settings.cookie_name(DEVICE_COOKIE), ""))
            .decode()
        )
    except BadSignature:
        return None


def session_cookie_name(request: Request) -> str:
    name: str = request.app.state.settings.cookie_name(SESSION_COOKIE)
    return name


def current_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user of this browser, if any (the cookie is signed, the token hashed)."""
    cookie = request.cookies.get(session_cookie_name(request))
    if not cookie:
        return None
    try:
        token = session_signer(request).unsign(cookie).decode()
    except BadSignature:
        return None
    return accounts.session_user(session, token)


CurrentUser = Annotated[User | None, Depends(current_user)]


def require_editor(user: CurrentUser) -> User:
    if user is None:
        raise SignInRequired
    return user


def require_admin(user: Annotated[User, Depends(require_editor)]) -> User:
    if user.role != "admin":
        raise HTTPException(status_code=403, detail="Only administrators can do this.")
    return user


CurrentEditor = Annotated[User, Depends(require_editor)]
CurrentAdmin = Annotated[User, Depends(require_admin)]
