"""Exchanges (and the editors' home page, listing them): created with their conflict, parties
and original terms; edited; their deal changed by new terms versions (amendments are news,
never corrections)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from app import crud, forms, writes
from app.deps import CurrentEditor, SessionDep
from app.models import EXCHANGE_STATUSES, Conflict, Exchange, User
from app.revisions import history_entries
from app.routes.editor.common import (
    Submitted,
    conflicts,
    exchange_or_404,
    form_version,
    party_choices,
    party_slugs,
    today,
)
from app.templating import render

router = APIRouter(default_response_class=HTMLResponse)


def editor_home(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    context = {
        "exchanges": crud.editor_exchanges(session),
        "conflicts": conflicts(session),
        "user": user,
    }
    return render(request, "editor/index.html", context)


@router.get("/exchanges/new")
def new_exchange_form(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    return _exchange_page(request, session, user, forms.blank_exchange_form(), exchange=None)


@router.post("/exchanges/new")
def create_exchange(
    request: Request, session: SessionDep, user: CurrentEditor, form: Submitted
) -> Response:
    known = {conflict.slug: conflict.name for conflict in conflicts(session)}
    state = forms.parse_new_exchange_form(form, conflicts=known)
    if state.data is not None and state.data.slug in crud.exchange_slugs(session):
        state.errors["slug"] = forms.Message(forms.SLUG_TAKEN)
    if state.data is None or state.errors:
        return _exchange_page(request, session, user, state, exchange=None, status_code=400)
    exchange = writes.create_exchange(
        session, data=state.data, actor=user.email, user_id=user.id, reason=state.reason
    )
    session.commit()
    return RedirectResponse(f"/editor/exchanges/{exchange.slug}", status_code=303)


@router.get("/exchanges/{slug}")
def edit_exchange_form(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    exchange = exchange_or_404(session, slug)
    snapshot = writes.exchange_snapshot(session, exchange)
    state = forms.exchange_form_from(snapshot, version=exchange.version)
    return _exchange_page(request, session, user, state, exchange=exchange)


@router.post("/exchanges/{slug}")
def update_exchange(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor, form: Submitted
) -> Response:
    exchange = exchange_or_404(session, slug)
    state = forms.parse_exchange_form(form, snapshot=writes.exchange_snapshot(session, exchange))

    def again(status_code: int, conflict: writes.Conflict | None = None) -> Response:
        return _exchange_page(
            request, session, user, state, exchange=exchange, conflict=conflict,
            status_code=status_code,
        )  # fmt: skip

    if state.data is None or state.errors:
        return again(400)
    try:
        writes.update_exchange(
            session,
            exchange=exchange,
            data=state.data,
            expected_version=form_version(state.values["version"]),
            actor=user.email,
            user_id=user.id,
            reason=state.reason,
        )
    except writes.ReasonRequired as missing:
        forms.location_error(("reason",), str(missing), forms.exchange_field([]), state.errors)
        return again(400)
    except writes.Conflict as conflict:
        session.rollback()
        return again(409, conflict)
    session.commit()
    return RedirectResponse(f"/editor/exchanges/{exchange.slug}?saved=1", status_code=303)


def _exchange_page(
    request: Request,
    session: Session,
    user: User,
    state: forms.ExchangeForm,
    *,
    exchange: Exchange | None,
    conflict: writes.Conflict | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "user": user,
        "form": state,
        "exchange": exchange,
        "statuses": EXCHANGE_STATUSES,
        "conflict": conflict,
        "saved": request.query_params.get("saved") == "1",
        "known_conflicts": conflicts(session),
        "known_parties": party_slugs(session),
        # For whom a source on the agreement speaks: the parties typed so far, for a new one.
        "parties": [
            (slug, state.values.get(f"party_{i}_name") or slug)
            for i in range(state.parties)
            if (slug := state.values.get(f"party_{i}_slug", "").strip())
        ],
    }
    if exchange is not None:
        detail = crud.get_exchange(session, slug=exchange.slug, include_drafts=True)
        assert detail is not None
        stages = crud.list_stage_rows(session, exchange_id=exchange.id)
        context |= {
            "detail": detail,
            "stages": stages,
            "parties": party_choices(session, exchange, request),
            "exchange_conflict": session.get(Conflict, exchange.conflict_id),
            "saved_stage": _saved_stage(request, stages),
            # What others changed meanwhile in the stage just saved, kept by the merge.
            "kept": [
                name
                for name in request.query_params.get("kept", "").split(",")
                if name in writes.MERGED
            ],
        }
    return render(request, "editor/exchange_form.html", context, status_code=status_code)


def _saved_stage(request: Request, stages: list[Any]) -> Any:
    """The stage just saved (?stage=ID), whose derived status the page then says."""
    wanted = request.query_params.get("stage", "")
    return next((stage for stage in stages if str(stage.id) == wanted), None)


@router.get("/exchanges/{slug}/history")
def exchange_history(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    exchange = exchange_or_404(session, slug)
    assert exchange.id is not None
    revisions = writes.history(session, entity="exchange", entity_id=exchange.id)
    parties = writes.exchange_parties(session, exchange.id)
    context = {
        "user": user,
        "title": exchange.title,
        "entries": history_entries(revisions),
        "party_names": {party.slug: party for party in parties},
        "restore_url": None,
    }
    return render(request, "editor/history.html", context)


@router.get("/parties/row")
def party_row(request: Request, index: int = 0) -> Response:
    """One more empty party row for the new exchange form (htmx)."""
    context = {"form": forms.SimpleForm(), "index": max(0, min(index, forms.MAX_ROWS - 1))}
    return render(request, "editor/_party_row.html", context)


# ---- terms versions ----------------------------------------------------------------------


@router.get("/exchanges/{slug}/terms")
def new_terms_form(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    exchange = exchange_or_404(session, slug)
    detail = crud.get_exchange(session, slug=exchange.slug, include_drafts=True)
    assert detail is not None
    in_force = crud.terms_in_force(detail.terms, None)
    state = forms.blank_terms_form(
        today=today(), in_force=in_force.model_dump() if in_force else None
    )
    return _terms_page(request, session, user, state, exchange=exchange)


@router.post("/exchanges/{slug}/terms")
def add_terms(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor, form: Submitted
) -> Response:
    exchange = exchange_or_404(session, slug)
    parties = [party for party, _ in party_choices(session, exchange)]
    state = forms.parse_terms_form(form, parties=parties)
    if state.data is None or state.errors:
        return _terms_page(request, session, user, state, exchange=exchange, status_code=400)
    try:
        writes.add_terms(
            session,
            exchange=exchange,
            data=state.data,
            actor=user.email,
            user_id=user.id,
            reason=state.reason,
        )
    except writes.Invalid as invalid:
        session.rollback()
        field_of = forms.terms_field(state.target_parties)
        forms.location_error(invalid.loc, str(invalid), field_of, state.errors)
        return _terms_page(request, session, user, state, exchange=exchange, status_code=400)
    session.commit()
    return RedirectResponse(f"/editor/exchanges/{exchange.slug}?saved=1#terms", status_code=303)


def _terms_page(
    request: Request,
    session: Session,
    user: User,
    state: forms.TermsForm,
    *,
    exchange: Exchange,
    status_code: int = 200,
) -> Response:
    detail = crud.get_exchange(session, slug=exchange.slug, include_drafts=True)
    context = {
        "user": user,
        "form": state,
        "exchange": exchange,
        "detail": detail,
        "parties": party_choices(session, exchange, request),
    }
    return render(request, "editor/terms_form.html", context, status_code=status_code)
