"""The public JSON API, /api/v1: exchanges with their tallies, totals, the stage timeline, CSV."""

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from app import crud, exports
from app.caching import CachedRoute, HttpCache, etag_matches
from app.deps import QueryDay, SessionDep, TimelineFiltersDep
from app.models import ExchangeDetail, ExchangePublic, StagePublic, TotalsPublic
from app.timeline import MAX_PAGE_SIZE, PAGE_SIZE, TimelineFilters, timeline_page

# Answers depend only on the data and the URL: cached per data revision, with ETag and 304.
router = APIRouter(prefix="/api/v1", tags=["public"], route_class=CachedRoute)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
EXPORT_PAGE_SIZE = 250


class StagesPage(BaseModel):
    stages: list[StagePublic]
    next: str | None


def _csv_pages(engine: Engine, filters: TimelineFilters) -> Iterator[str]:
    """The CSV of every stage the filters find, a page of stages at a time, each exchange's
    names read once: a worker holds one page, never the whole export (29 MB at 20,000
    stages), and the first bytes leave at once. Its own session: the request's is closed once
    the route returns, before the body is sent."""
    yield exports.csv_header()
    names: dict[str, exports.ExchangeNames] = {}
    with Session(engine) as session:
        while True:
            page = timeline_page(session, filters, size=EXPORT_PAGE_SIZE)
            new = {stage.exchange for stage in page.stages} - names.keys()
            if new:
                names |= exports.exchange_names(session, slugs=new)
            yield exports.csv_rows(page.stages, names)
            if page.next is None:
                return
            filters = TimelineFilters(**{**vars(filters), "page": page.next})


def _csv(body: str, filename: str) -> Response:
    return Response(body, media_type=CSV_MEDIA_TYPE, headers=_attachment(filename))


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _exchange_or_404(
    session: SessionDep, slug: str, as_of: dt.date | None = None
) -> ExchangeDetail:
    exchange = crud.get_exchange(session, slug=slug, as_of=as_of)
    if exchange is None:
        raise HTTPException(status_code=404, detail=f"No exchange with slug {slug!r}")
    return exchange


@router.get("/exchanges")
def list_exchanges(session: SessionDep) -> list[ExchangePublic]:
    """Every published exchange with its running tally, most recent first."""
    return crud.list_exchanges(session)


@router.get("/exchanges/{slug}", responses={404: {"description": "No published exchange"}})
def get_exchange(
    slug: str,
    session: SessionDep,
    as_of: Annotated[
        QueryDay | None,
        Query(description="The tally, terms and stages as they stood that day (YYYY-MM-DD)"),
    ] = None,
) -> ExchangeDetail:
    """One exchange with its tally, its terms, its sources and its published stages, oldest
    first; with `as_of`, only the stages dated up to that day, against the terms then in force."""
    return _exchange_or_404(session, slug, as_of)


@router.get(
    "/exchanges/{slug}/stages.csv",
    response_class=Response,
    responses={404: {"description": "No published exchange"}},
)
def exchange_stages_csv(slug: str, session: SessionDep) -> Response:
    """The exchange's published stages as CSV, one row per release, oldest first."""
    exchange = _exchange_or_404(session, slug)
    return _csv(_stages_csv(session, exchange.stages), f"{slug}-stages.csv")


@router.get("/totals")
def totals(session: SessionDep) -> TotalsPublic:
    """All-time totals over every published exchange, one entry per side name."""
    return crud.totals(session)


@router.get("/stages")
def list_stages(
    request: Request,
    session: SessionDep,
    filters: TimelineFiltersDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Stages per page")] = PAGE_SIZE,
) -> StagesPage:
    """Published stages across exchanges, newest first, with the timeline's filters."""
    result = timeline_page(session, filters, size=limit)
    next_url = None
    if result.next is not None:
        # From BASE_URL, never the Host header: a client sets that, and a cache would keep it.
        url = request.url.include_query_params(page=str(result.next))
        base = request.app.state.settings.base_url.rstrip("/")
        next_url = f"{base}{url.path}?{url.query}"
    return StagesPage(stages=result.stages, next=next_url)


@router.get("/stages.csv", response_class=Response)
async def stages_csv(request: Request, filters: TimelineFiltersDep) -> Response:
    """Every published stage matching the filters as CSV, one row per release."""
    # Too large to keep rendered, so revalidated by what it is made of: the data revision
    # (read before the stages, so never newer than they are), the address and the columns.
    cache: HttpCache = request.app.state.http_cache
    revision = await cache.revision.current()
    made_of = f"{revision} {request.url} {exports.CSV_HEADER}".encode()
    tag = f'"{hashlib.sha256(made_of).hexdigest()[:32]}"'
    headers: dict[str, str] = {}
    if revision is not None:  # else nothing may be cached (app/data_revision.py)
        headers = {"etag": f"W/{tag}", "cache-control": cache.cache_control}  # weak: not bytes
        if etag_matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=headers)
    return StreamingResponse(
        _csv_pages(request.app.state.engine, filters),
        media_type=CSV_MEDIA_TYPE,
        headers=headers | _attachment("swaptally-stages.csv"),
    )


def _stages_csv(session: Session, stages: Sequence[StagePublic]) -> str:
    slugs = {stage.exchange for stage in stages}
    return exports.stages_csv(stages, exports.exchange_names(session, slugs=slugs))
