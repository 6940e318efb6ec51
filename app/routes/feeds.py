"""Atom feeds of published stages: every exchange at /feed.atom, one exchange at its own."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import crud, feeds
from app.deps import SessionDep
from app.models import StagePublic
from app.revisions import Correction
from app.settings import Settings
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


@router.get("/feed.atom", responses=ATOM_RESPONSE)
def site_feed(request: Request, session: SessionDep) -> Response:
    """The latest published stages across every exchange, newest first."""
    stages = timeline_page(session, TimelineFilters(), size=FEED_SIZE).stages
    names = feeds.Names(
        exchanges=crud.exchange_titles(session, slugs={stage.exchange for stage in stages}),
        sides=crud.side_names(session),
        parties=crud.party_names(session),
        corrections=_corrections(session, stages),
    )
    body = feeds.site_feed(stages, names, base_url=_base_url(request))
    return Response(body, media_type=feeds.MEDIA_TYPE)


@router.get(
    "/exchanges/{slug}/feed.atom",
    responses={**ATOM_RESPONSE, 404: {"description": "No published exchange"}},
)
def exchange_feed(slug: str, request: Request, session: SessionDep) -> Response:
    """One exchange's published stages, newest first."""
    exchange = crud.get_exchange_row(session, slug=slug)
    if exchange is None:
        raise HTTPException(status_code=404, detail=f"No exchange with slug {slug!r}")
    stages = crud.list_stages(session, exchange=exchange)[::-1]
    names = feeds.Names(
        exchanges={exchange.slug: exchange.title},
        sides=crud.side_names(session),
        parties=crud.party_names(session),
        corrections=_corrections(session, stages),
    )
    body = feeds.exchange_feed(stages, names, slug=exchange.slug, base_url=_base_url(request))
    return Response(body, media_type=feeds.MEDIA_TYPE)
