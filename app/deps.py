"""Shared dependencies and their Annotated aliases."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from sqlmodel import Session

from app.db import iter_session
from app.timeline import FilterError, TimelineFilters


def get_session(request: Request) -> Iterator[Session]:
    yield from iter_session(request.app.state.engine)


SessionDep = Annotated[Session, Depends(get_session)]


def timeline_filters(
    exchange: Annotated[str | None, Query(description="Exchange slug")] = None,
    side: Annotated[str | None, Query(description="Side name (Ukraine) or key (a, b)")] = None,
    date_from: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD")] = None,
    status: Annotated[str | None, Query(description="reported, confirmed or disputed")] = None,
    q: Annotated[str | None, Query(description="Text in notes and sources")] = None,
    page: Annotated[str | None, Query(description="The page token of a `next` link")] = None,
) -> TimelineFilters:
    """The timeline's filters from the query string; a bad value is a 422 naming its parameter."""
    raw = {"exchange": exchange, "side": side, "from": date_from, "to": date_to}
    raw |= {"status": status, "q": q, "page": page}
    try:
        return TimelineFilters.from_query({k: v for k, v in raw.items() if v is not None})
    except FilterError as error:
        detail = [{"loc": ["query", error.field], "msg": str(error), "type": "value_error"}]
        raise HTTPException(status_code=422, detail=detail) from None


TimelineFiltersDep = Annotated[TimelineFilters, Depends(timeline_filters)]
