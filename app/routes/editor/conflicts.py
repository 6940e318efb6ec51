"""Conflicts: the official running totals their parties publish, shown beside our own sums."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.responses import Response

from app import forms, writes
from app.deps import CurrentEditor, SessionDep
from app.models import Conflict, OfficialTotal, Party, User
from app.routes.editor.common import Submitted, conflict_parties, today
from app.templating import render

router = APIRouter(default_response_class=HTMLResponse)


def _conflict_or_404(session: Session, slug: str) -> Conflict:
    conflict = session.scalars(select(Conflict).where(col(Conflict.slug) == slug)).one_or_none()
    if conflict is None:
        raise HTTPException(status_code=404, detail=f"No conflict with slug {slug!r}")
    return conflict


def _totals(session: Session, conflict: Conflict) -> list[tuple[OfficialTotal, str]]:
    """Every official total recorded for the conflict, newest first, with its party's name."""
    query = (
        select(OfficialTotal, col(Party.name))
        .join(Party, col(Party.id) == OfficialTotal.party_id)
        .where(col(OfficialTotal.conflict_id) == conflict.id)
        .order_by(col(OfficialTotal.as_of).desc(), col(OfficialTotal.id).desc())
    )
    return [(total, name) for total, name in session.execute(query)]


@router.get("/conflicts/{slug}")
def conflict_page(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    conflict = _conflict_or_404(session, slug)
    state = forms.blank_total_form(today=today())
    return _page(request, session, user, conflict, state)


@router.post("/conflicts/{slug}/official-totals")
def add_official_total(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor, form: Submitted
) -> Response:
    conflict = _conflict_or_404(session, slug)
    state = forms.parse_total_form(form)
    if state.data is None or state.errors:
        return _page(request, session, user, conflict, state, status_code=400)
    try:
        writes.add_official_total(
            session, conflict=conflict, data=state.data, actor=user.email, user_id=user.id
        )
    except writes.Invalid as invalid:
        session.rollback()
        forms.location_error(invalid.loc, str(invalid), forms.total_field, state.errors)
        return _page(request, session, user, conflict, state, status_code=400)
    session.commit()
    return RedirectResponse(f"/editor/conflicts/{conflict.slug}?saved=1", status_code=303)


def _page(
    request: Request,
    session: Session,
    user: User,
    conflict: Conflict,
    state: forms.SimpleForm | forms.TotalForm,
    *,
    status_code: int = 200,
) -> Response:
    context = {
        "user": user,
        "form": state,
        "conflict_row": conflict,
        "parties": [(party.slug, party.name) for party in conflict_parties(session, conflict)],
        "totals": _totals(session, conflict),
        "saved": request.query_params.get("saved") == "1",
    }
    return render(request, "editor/conflict.html", context, status_code=status_code)
