"""The editors' side, /editor: exchanges and stages entered, corrected, previewed and recorded.

Every route needs a signed-in editor (the router's dependency); admins may do everything editors do.
"""

import base64
import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.types import Scope

from app import accounts, crud, forms, importer, tally, writes
from app.deps import CurrentEditor, SessionDep, require_editor
from app.i18n import N_
from app.models import (
    EXCHANGE_STATUSES,
    STAGE_STATUSES,
    Exchange,
    Revision,
    Stage,
    StageCreate,
    User,
)
from app.templating import render

router = APIRouter(
    prefix="/editor",
    default_response_class=HTMLResponse,
    dependencies=[Depends(require_editor)],
    tags=["editors"],
)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _exchange(session: Session, slug: str) -> Exchange:
    exchange = crud.get_exchange_row(session, slug=slug, include_drafts=True)
    if exchange is None:
        raise HTTPException(status_code=404, detail=f"No exchange with slug {slug!r}")
    return exchange


def _stage(session: Session, stage_id: int) -> Stage:
    stage = session.get(Stage, stage_id)
    if stage is None or stage.deleted_at is not None:
        raise HTTPException(status_code=404, detail=f"No stage {stage_id}")
    return stage


def _version(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise HTTPException(
            status_code=400, detail="The form lost its version; reload it."
        ) from None


# ---- exchanges ---------------------------------------------------------------------------


@router.get("")
def editor_home(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    context = {"exchanges": crud.editor_exchanges(session), "user": user}
    return render(request, "editor/index.html", context)


@router.get("/exchanges/new")
def new_exchange_form(request: Request, user: CurrentEditor) -> Response:
    return _exchange_page(request, user, forms.blank_exchange_form(), exchange=None)


@router.post("/exchanges/new")
async def create_exchange(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    state = forms.parse_exchange_form(await request.form())
    if state.data is not None and state.data.slug in crud.exchange_slugs(session):
        state.errors["slug"] = N_("this slug is taken; slugs are permanent")
    if state.data is None or state.errors:
        return _exchange_page(request, user, state, exchange=None, status_code=400)
    exchange = writes.create_exchange(
        session, data=state.data, actor=user.email, user_id=user.id, reason=None
    )
    session.commit()
    return RedirectResponse(f"/editor/exchanges/{exchange.slug}", status_code=303)


@router.get("/exchanges/{slug}")
def edit_exchange_form(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    exchange = _exchange(session, slug)
    state = forms.exchange_form_from(writes.exchange_snapshot(session, exchange))
    state.values["version"] = str(exchange.version)
    return _exchange_page(request, user, state, exchange=exchange, session=session)


@router.post("/exchanges/{slug}")
async def update_exchange(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    exchange = _exchange(session, slug)
    state = forms.parse_exchange_form(await request.form(), slug=exchange.slug)
    if state.data is None or state.errors:
        return _exchange_page(
            request, user, state, exchange=exchange, session=session, status_code=400
        )
    try:
        writes.update_exchange(
            session,
            exchange=exchange,
            data=state.data,
            expected_version=_version(state.values["version"]),
            actor=user.email,
            user_id=user.id,
            reason=state.values["reason"].strip() or None,
        )
    except writes.ReasonRequired as missing:
        state.errors["reason"] = str(missing)
        return _exchange_page(
            request, user, state, exchange=exchange, session=session, status_code=400
        )
    except writes.Conflict as conflict:
        session.rollback()
        return _exchange_page(
            request,
            user,
            state,
            exchange=exchange,
            session=session,
            conflict=conflict,
            status_code=409,
        )
    session.commit()
    return RedirectResponse(f"/editor/exchanges/{exchange.slug}?saved=1", status_code=303)


def _exchange_page(
    request: Request,
    user: User,
    state: forms.ExchangeForm,
    *,
    exchange: Exchange | None,
    session: Session | None = None,
    conflict: writes.Conflict | None = None,
    status_code: int = 200,
) -> Response:
    stages = crud.list_stage_rows(session, exchange_id=exchange.id) if exchange and session else []
    context = {
        "user": user,
        "form": state,
        "exchange": exchange,
        "stages": stages,
        "statuses": EXCHANGE_STATUSES,
        "conflict": conflict,
        "saved": request.query_params.get("saved") == "1",
    }
    return render(request, "editor/exchange_form.html", context, status_code=status_code)


@router.get("/exchanges/{slug}/history")
def exchange_history(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    exchange = _exchange(session, slug)
    assert exchange.id is not None
    revisions = writes.history(session, entity="exchange", entity_id=exchange.id)
    context = {"user": user, "title": exchange.title, "revisions": revisions, "restore_url": None}
    return render(request, "editor/history.html", context)


# ---- stages ------------------------------------------------------------------------------


@router.get("/exchanges/{slug}/stages/new")
def new_stage_form(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    exchange = _exchange(session, slug)
    state = forms.blank_stage_form(today=_today())
    return _stage_page(request, session, user, state, exchange=exchange, stage=None)


@router.post("/exchanges/{slug}/stages/new")
async def create_stage(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    exchange = _exchange(session, slug)
    state = forms.parse_stage_form(await request.form(), today=_today())
    if state.data is None or not state.valid:
        return _stage_page(
            request, session, user, state, exchange=exchange, stage=None, status_code=400
        )
    stage = writes.create_stage(
        session, exchange=exchange, data=state.data, actor=user.email, user_id=user.id
    )
    session.commit()
    return RedirectResponse(
        f"/editor/exchanges/{exchange.slug}?saved=1#stage-{stage.id}", status_code=303
    )


@router.get("/stages/{stage_id}")
def edit_stage_form(
    stage_id: int, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    stage = _stage(session, stage_id)
    exchange = session.get(Exchange, stage.exchange_id)
    assert exchange is not None
    state = forms.stage_form_from(writes.stage_snapshot(session, stage))
    state.values["version"] = str(stage.version)
    return _stage_page(request, session, user, state, exchange=exchange, stage=stage)


@router.post("/stages/{stage_id}")
async def update_stage(
    stage_id: int, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    stage = _stage(session, stage_id)
    exchange = session.get(Exchange, stage.exchange_id)
    assert exchange is not None
    state = forms.parse_stage_form(await request.form(), today=_today())
    if state.data is None or not state.valid:
        return _stage_page(
            request, session, user, state, exchange=exchange, stage=stage, status_code=400
        )
    try:
        writes.update_stage(
            session,
            stage=stage,
            data=state.data,
            expected_version=_version(state.values["version"]),
            actor=user.email,
            user_id=user.id,
            reason=state.values["reason"].strip() or None,
        )
    except writes.ReasonRequired as missing:
        state.errors["reason"] = str(missing)
        return _stage_page(
            request, session, user, state, exchange=exchange, stage=stage, status_code=400
        )
    except writes.Conflict as conflict:
        session.rollback()
        return _stage_page(
            request, session, user, state, exchange=exchange, stage=stage, conflict=conflict,
            status_code=409,
        )  # fmt: skip
    session.commit()
    return RedirectResponse(
        f"/editor/exchanges/{exchange.slug}?saved=1#stage-{stage.id}", status_code=303
    )


@router.post("/exchanges/{slug}/stages/preview")
async def preview_stage(
    slug: str, request: Request, session: SessionDep, stage: int | None = None
) -> Response:
    """The live preview beside the stage form: the tally after this stage, and warnings."""
    exchange = _exchange(session, slug)
    editing = _stage(session, stage) if stage is not None else None
    state = forms.parse_stage_form(await request.form(), today=_today())
    context = {"form": state, **_preview(session, exchange, state, editing)}
    return render(request, "editor/_stage_preview.html", context)


def _preview(
    session: Session, exchange: Exchange, state: forms.StageForm, editing: Stage | None
) -> dict[str, Any]:
    """Each side's tally after saving this stage, computed with the tally's own rules."""
    assert exchange.id is not None
    detail = crud.get_exchange(session, slug=exchange.slug, include_drafts=True)
    assert detail is not None
    sums = crud.stage_sums_by_exchange(session, exchange_ids=[exchange.id])
    previous = writes.stage_snapshot(session, editing) if editing else None
    sides: list[dict[str, Any]] = []
    after: dict[str, int | None] = {}
    for side in detail.sides:
        current = sums.get((exchange.id, side.key), tally.StageSums())
        if previous and previous["published"] and editing and editing.deleted_at is None:
            [old] = [s for s in previous["sides"] if s["key"] == side.key]
            current = tally.with_stage(
                current, tally.Counts(**{k: old[k] for k in writes.FIGURES}), sign=-1
            )
        if state.data is not None and state.data.published:
            current = tally.with_stage(current, forms.side_counts(state.data, side.key))
        elif state.data is None and state.counts is not None and state.values.get("published"):
            current = tally.with_stage(current, state.counts[side.key])
        target = tally.Counts(**side.target.model_dump())
        result = tally.side_tally(current, target)
        after[side.key] = result.returned.people
        figure = tally.people_figure(result.returned.people, result.undisclosed)
        percent = tally.shown_percent(result.percent, figure)
        sides.append(
            {"name": side.name, "target": side.target.people, "figure": figure, "percent": percent}
        )
    earlier = [
        s.sides[0].people
        for s in detail.stages
        if s.sides and s.sides[0].people is not None and (editing is None or s.id != editing.id)
    ]
    warnings = (
        forms.warnings(
            state.data,
            agreed_on=exchange.agreed_on,
            targets={side.key: side.target.people for side in detail.sides},
            after=after,
            earlier_people=earlier,
        )
        if state.data is not None
        else []
    )
    return {"preview_sides": sides, "warnings": warnings}


def _stage_page(
    request: Request,
    session: Session,
    user: User,
    state: forms.StageForm,
    *,
    exchange: Exchange,
    stage: Stage | None,
    conflict: writes.Conflict | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "user": user,
        "form": state,
        "exchange": exchange,
        "stage": stage,
        "statuses": STAGE_STATUSES,
        "conflict": conflict,
        **_preview(session, exchange, state, stage),
    }
    return render(request, "editor/stage_form.html", context, status_code=status_code)


@router.get("/sources/row")
def source_row(request: Request, index: int = 0) -> Response:
    """One more empty source row for the stage form (htmx)."""
    row = dict.fromkeys(forms.SOURCE_FIELDS, "")
    context = {"index": max(0, min(index, 99)), "source": row, "errors": {}}
    return render(request, "editor/_source_row.html", context)


@router.post("/stages/{stage_id}/delete")
def delete_stage(
    stage_id: int,
    session: SessionDep,
    user: CurrentEditor,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    stage = _stage(session, stage_id)
    exchange = session.get(Exchange, stage.exchange_id)
    assert exchange is not None
    writes.delete_stage(
        session, stage=stage, actor=user.email, user_id=user.id, reason=reason or None
    )
    session.commit()
    return RedirectResponse(f"/editor/exchanges/{exchange.slug}?saved=1", status_code=303)


@router.get("/stages/{stage_id}/history")
def stage_history(
    stage_id: int, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    stage = _stage(session, stage_id)
    revisions = writes.history(session, entity="stage", entity_id=stage_id)
    context = {
        "user": user,
        "title": f"{stage.date.isoformat()}",
        "revisions": revisions,
        "restore_url": f"/editor/stages/{stage_id}/restore",
        "version": stage.version,
    }
    return render(request, "editor/history.html", context)


@router.post("/stages/{stage_id}/restore")
def restore_revision(
    stage_id: int,
    session: SessionDep,
    user: CurrentEditor,
    revision: Annotated[int, Form()],
    version: Annotated[int, Form()],
) -> Response:
    """Bring back a stage as an earlier revision left it; this is itself a new revision."""
    stage = _stage(session, stage_id)
    found = session.get(Revision, revision)
    if found is None or found.entity != "stage" or found.entity_id != stage_id or not found.after:
        raise HTTPException(status_code=404, detail="No such revision of this stage")
    data = StageCreate.model_validate(found.after | {"published": False}).model_copy(
        update={"published": bool(found.after.get("published"))}
    )
    try:
        writes.update_stage(
            session, stage=stage, data=data, expected_version=version, actor=user.email,
            user_id=user.id, reason=f"restored revision {revision}",
        )  # fmt: skip
    except writes.Conflict:
        raise HTTPException(
            status_code=409, detail="The stage changed since you opened its history; reload it."
        ) from None
    session.commit()
    return RedirectResponse(f"/editor/stages/{stage_id}/history", status_code=303)


# ---- CSV import --------------------------------------------------------------------------

MAX_IMPORT_BYTES = 5 * 1024 * 1024


@router.get("/import")
def import_page(request: Request, user: CurrentEditor) -> Response:
    return render(request, "editor/import.html", {"user": user})


def checks_own_csrf(scope: Scope) -> bool:
    """The upload's multipart form, whose CSRF field this route checks itself: asgi-csrf 0.11
    cannot parse multipart bodies with the python-multipart releases that have security fixes."""
    headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
    multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
    return multipart and scope["path"] == "/editor/import"


@router.post("/import")
async def import_upload(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    """A dry run of an uploaded file, or, with `checked`, the import of the exact bytes a dry run
    checked (sent back base64-encoded: form encoding would turn the newlines inside quoted cells
    into CRLF and make the import differ from its check)."""
    async with request.form() as form:
        return await _import(request, session, user, form)


async def _import(request: Request, session: Session, user: User, form: FormData) -> Response:
    expected = request.scope["csrftoken"]()  # the signed cookie's token, as asgi-csrf compares
    if not secrets.compare_digest(str(form.get("csrftoken", "")), expected):
        raise HTTPException(status_code=403, detail="The form's CSRF token is missing or stale.")
    upload, checked = form.get("file"), form.get("checked")
    apply = isinstance(checked, str) and bool(checked)
    context: dict[str, Any] = {"user": user}
    try:
        if apply:
            data = _unbase64(str(checked))
        elif upload is not None and not isinstance(upload, str):
            data = await upload.read(MAX_IMPORT_BYTES + 1)
        else:
            data = b""
        text = importer.decode(_import_checked(data))
        report = importer.import_csv(
            session, text, actor=user.email, user_id=user.id, dry_run=not apply
        )
    except importer.UnreadableFile as error:
        context["errors"] = {"file": str(error)}
        return render(request, "editor/import.html", context, status_code=400)
    except importer.ImportConflict:
        conflict = N_("someone saved a stage while the import ran; nothing was imported, try again")
        context["errors"] = {"file": conflict}
        return render(request, "editor/import.html", context, status_code=409)
    checked_bytes = base64.b64encode(data).decode() if not apply else ""
    context.update(report=report, checked=checked_bytes, applied=apply)
    return render(request, "editor/import.html", context)


def _unbase64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise importer.UnreadableFile(N_("the checked file was damaged; upload it again")) from None


def _import_checked(data: bytes) -> bytes:
    if not data:
        raise importer.UnreadableFile(N_("choose a CSV file to import"))
    if len(data) > MAX_IMPORT_BYTES:
        raise importer.UnreadableFile(N_("the file is larger than 5 MB; split it into several"))
    return data


# ---- personal API tokens -----------------------------------------------------------------


@router.get("/tokens")
def tokens_page(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    context = {"user": user, "tokens": accounts.list_tokens(session, user=user), "new_token": None}
    return render(request, "editor/tokens.html", context)


@router.post("/tokens")
def create_token(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    errors: dict[str, str] = {}
    plain = None
    try:
        _, plain = accounts.create_token(session, user=user, name=name)
        session.commit()
    except accounts.AccountError as refused:
        errors[refused.field] = str(refused)
    context = {
        "user": user,
        "tokens": accounts.list_tokens(session, user=user),
        "new_token": plain,
        "errors": errors,
        "name": name,
    }
    return render(request, "editor/tokens.html", context, status_code=400 if errors else 200)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: int, session: SessionDep, user: CurrentEditor) -> Response:
    accounts.revoke_token(session, user=user, token_id=token_id)
    session.commit()
    return RedirectResponse("/editor/tokens", status_code=303)
