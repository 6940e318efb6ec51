"""Atom feeds of published stages, their corrections and changes to deals: every exchange at
/feed.atom, one exchange at its own."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import crud, feeds
from app.deps import SessionDep
from app.models import Exchange, StagePublic
from app.revisions import Correction
from app.settings import Settings
from app.templating import render
from app.timeline import TimelineFilters, timeline_page

router = APIRouter(tags=["feeds"], default_response_class=Response)
FEED_SIZE = 50
ATOM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/atom+xml": {}}, "description": "An Atom feed"}
}


def _corrections(session: Session, stages: list[StagePublic]) -> dict[int, list[Correction]]:
    """Each stage's corrections, oldest first: the entry says them and is dated by the last."""
    found = crud.corrections(session, stage_ids=[stage.id for stage in stages])
    return {stage_id: [Correction.of(r) for r in found[stage_id]] for stage_id in found}


def _base_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.base_url


def site_entries(session: Session) -> list[feeds.Entry]:
    """The latest published stages across every exchange, their corrections and changes to
    deals, last changed first."""
    stages = timeline_page(session, TimelineFilters(), size=FEED_SIZE).stages
    corrections = crud.recent_corrections(session, limit=FEED_SIZE)
    amendments = crud.recent_amendments(session, limit=FEED_SIZE)
    slugs = {stage.exchange for stage in stages} | {c.exchange for c in corrections}
    names = feeds.Names(
        exchanges={
            slug: titles.title
            for slug, titles in crud.exchange_titles(
                session, slugs=slugs | {a.exchange for a in amendments}
            ).items()
        },
        sides=crud.side_names(session),
        parties=crud.party_names(session),
        corrections=_corrections(session, stages),
    )
    return feeds.entries(stages, names, corrections, amendments)[:FEED_SIZE]


def exchange_entries(session: Session, exchange: Exchange) -> list[feeds.Entry]:
    """One exchange's published stages, their corrections and changes to its deal."""
    stages = crud.list_stages(session, exchange=exchange)[::-1]
    names = feeds.Names(
        exchanges={exchange.slug: exchange.title},
        sides=crud.side_names(session),
        parties=crud.party_names(session),
        corrections=_corrections(session, stages),
    )
    return feeds.entries(
        stages,
        names,
        crud.recent_corrections(session, limit=FEED_SIZE, exchange_id=exchange.id),
        crud.recent_amendments(session, limit=FEED_SIZE, exchange_id=exchange.id),
    )


def published_exchange(session: Session, slug: str) -> Exchange:
    exchange = crud.get_exchange_row(session, slug=slug)
    if exchange is None:
        raise HTTPException(status_code=404, detail=f"No exchange with slug {slug!r}")
    return exchange


@router.get("/feed.atom", responses=ATOM_RESPONSE)
def site_feed(request: Request, session: SessionDep) -> Response:
    """The latest published stages across every exchange, their corrections and changes to
    deals, last changed first."""
    body = feeds.site_feed(site_entries(session), base_url=_base_url(request))
    return Response(body, media_type=feeds.MEDIA_TYPE)


@router.get(
    "/exchanges/{slug}/feed.atom",
    responses={**ATOM_RESPONSE, 404: {"description": "No published exchange"}},
)
def exchange_feed(slug: str, request: Request, session: SessionDep) -> Response:
    """One exchange's published stages, their corrections and changes to its deal."""
    exchange = published_exchange(session, slug)
    body = feeds.exchange_feed(
        exchange_entries(session, exchange),
        slug=exchange.slug,
        title=exchange.title,
        base_url=_base_url(request),
    )
    return Response(body, media_type=feeds.MEDIA_TYPE)


def _twin(request: Request, entries: list[feeds.Entry], exchange: Exchange | None) -> Response:
    """The feed as a page, for a reader who opened it in a browser."""
    context = {
        "entries": entries,
        "exchange": exchange,
        "base_url": _base_url(request).rstrip("/"),
        "feed_path": f"/exchanges/{exchange.slug}/feed.atom" if exchange else "/feed.atom",
    }
    return render(request, "public/feed.html", context)


@router.get("/feed", response_class=HTMLResponse)
def site_feed_page(request: Request, session: SessionDep) -> Response:
    """The site's feed as a page: its address to follow and its latest entries."""
    return _twin(request, site_entries(session), None)


@router.get(
    "/exchanges/{slug}/feed",
    response_class=HTMLResponse,
    responses={404: {"description": "No published exchange"}},
)
def exchange_feed_page(slug: str, request: Request, session: SessionDep) -> Response:
    """One exchange's feed as a page."""
    exchange = published_exchange(session, slug)
    return _twin(request, exchange_entries(session, exchange), exchange)
