"""What the editors' routes share: today, the records they edit (404 when absent), the form
they were sent, and the lists their menus offer."""

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.datastructures import FormData

from app import crud, i18n, writes
from app.models import MAX_STORED_INT, Conflict, Exchange, ExchangeParty, Party, Stage

VERSION = re.compile(r"[0-9]{1,10}")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def exchange_or_404(session: Session, slug: str) -> Exchange:
    exchange = crud.get_exchange_row(session, slug=slug, include_drafts=True)
    if exchange is None:
        raise HTTPException(status_code=404, detail=f"No exchange with slug {slug!r}")
    return exchange


def stage_or_404(session: Session, stage_id: int) -> Stage:
    stage = session.get(Stage, stage_id) if 0 < stage_id <= MAX_STORED_INT else None
    if stage is None or stage.deleted_at is not None:
        raise HTTPException(status_code=404, detail=f"No stage {stage_id}")
    return stage


CHANGED_MEANWHILE = "The stage changed since you opened it; reload it to see what changed."


@contextmanager
def changed_meanwhile_is_409(detail: str = CHANGED_MEANWHILE) -> Iterator[None]:
    """A write of a stage that someone saved since the form was opened (writes.Conflict) is a
    409 saying so."""
    try:
        yield
    except writes.Conflict:
        raise HTTPException(status_code=409, detail=detail) from None


def form_version(raw: str) -> int:
    """The version the form was loaded at, in ASCII digits only (`int` also reads spaces,
    underscores and other scripts' digits)."""
    if not VERSION.fullmatch(raw) or not 0 < int(raw) <= MAX_STORED_INT:
        raise HTTPException(status_code=400, detail="The form lost its version; reload it.")
    return int(raw)


async def submitted_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form, read here so that the handler can be a plain `def` (run off the event
    loop): it does database work. Closed afterwards: a multipart post may carry files."""
    async with request.form() as form:
        yield form


Submitted = Annotated[FormData, Depends(submitted_form)]


def party_choices(
    session: Session, exchange: Exchange, request: Request | None = None
) -> list[tuple[str, str]]:
    """(slug, name) of an exchange's parties, in order: what its forms' party menus offer,
    named in the request's language where the party has a Ukrainian name."""
    ukrainian = request is not None and i18n.negotiate(request)[0] == "uk"
    return [
        (party.slug, party.name_uk if ukrainian and party.name_uk else party.name)
        for party in writes.exchange_parties(session, exchange.id)
    ]


# Reads the forms need that app/crud.py does not offer (yet): conflicts and their parties.


def conflicts(session: Session) -> list[Conflict]:
    return list(session.scalars(select(Conflict).order_by(col(Conflict.name))))


def conflict_parties(session: Session, conflict: Conflict) -> list[Party]:
    """The parties of a conflict's exchanges, by name."""
    query = (
        select(Party)
        .join(ExchangeParty, col(ExchangeParty.party_id) == Party.id)
        .join(Exchange, col(Exchange.id) == ExchangeParty.exchange_id)
        .where(col(Exchange.conflict_id) == conflict.id, col(Exchange.deleted_at).is_(None))
        .distinct()
        .order_by(col(Party.name))
    )
    return list(session.scalars(query))


def party_slugs(session: Session) -> list[str]:
    return list(session.scalars(select(col(Party.slug)).order_by(col(Party.slug))))
