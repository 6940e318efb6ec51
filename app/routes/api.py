"""The public JSON API, /api/v1: exchanges with their tallies, and all-time totals."""

from fastapi import APIRouter, HTTPException

from app import crud
from app.deps import SessionDep
from app.models import ExchangeDetail, ExchangePublic, TotalsPublic

router = APIRouter(prefix="/api/v1", tags=["public"])


@router.get("/exchanges")
def list_exchanges(session: SessionDep) -> list[ExchangePublic]:
    """Every published exchange with its running tally, most recent first."""
    return crud.list_exchanges(session)


@router.get("/exchanges/{slug}", responses={404: {"description": "No published exchange"}})
def get_exchange(slug: str, session: SessionDep) -> ExchangeDetail:
    """One exchange with its tally, its sources and its published stages, oldest first."""
    exchange = crud.get_exchange(session, slug=slug)
    if exchange is None:
        raise HTTPException(status_code=404, detail=f"No exchange with slug {slug!r}")
    return exchange


@router.get("/totals")
def totals(session: SessionDep) -> TotalsPublic:
    """All-time totals over every published exchange, one entry per side name."""
    return crud.totals(session)
