"""The public JSON API, /api/v1: exchanges with their tallies, totals, the stage timeline, CSV."""

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from app import crud, exports
from app.caching import CachedRoute
from app.deps import QueryDay, SessionDep, TimelineFiltersDep
from app.models import ExchangeDetail, ExchangePublic, StagePublic, TotalsPublic
from app.timeline import MAX_PAGE_SIZE, PAGE_SIZE, TimelineFilters, timeline_page

# Answers depend only on the data and the URL: cached per data revision, with ETag and 304.
router = APIRouter(prefix="/api/v1", tags=["public"], route_class=CachedRoute)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
EXPORT_PAGE_SIZE = 1000


class StagesPage(BaseModel):
    stages: list[StagePublic]
    next: str | None


def _all_stages(session: SessionDep, filters: TimelineFilters) -> list[StagePublic]:
    stages: list[StagePublic] = []
    while True:
        page = timeline_page(session, filters, size=EXPORT_PAGE_SIZE)
        stages += page.stages
        if page.next is None:
            return stages
        filters = TimelineFilters(**{**vars(filters), "page": page.next})


def _csv(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


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
def stages_csv(session: SessionDep, filters: TimelineFiltersDep) -> Response:
    """Every published stage matching the filters as CSV, one row per release."""
    return _csv(_stages_csv(session, _all_stages(session, filters)), "swaptally-stages.csv")


def _stages_csv(session: Session, stages: Sequence[StagePublic]) -> str:
    slugs = {stage.exchange for stage in stages}
    return exports.stages_csv(stages, exports.exchange_names(session, slugs=slugs))
