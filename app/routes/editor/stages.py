"""Stages: entered, corrected (with a reason once published), previewed, deleted, restored."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from app import crud, forms, tally, writes
from app.deps import CurrentEditor, RowId, SessionDep
from app.models import MAX_STORED_INT, Exchange, ReleaseIn, Revision, Stage, StageCreate, User
from app.revisions import history_entries
from app.routes.editor.common import (
    Submitted,
    changed_meanwhile_is_409,
    exchange_or_404,
    form_version,
    party_choices,
    stage_or_404,
    today,
)
from app.templating import render

router = APIRouter(default_response_class=HTMLResponse)


def _saved(exchange: Exchange, stage: Stage, kept: Sequence[str] = ()) -> Response:
    """Back to the exchange; `kept` names the fields others changed meanwhile (merged)."""
    merged = f"&kept={','.join(kept)}" if kept else ""
    return RedirectResponse(
        f"/editor/exchanges/{exchange.slug}?saved=1&stage={stage.id}{merged}#stage-{stage.id}",
        status_code=303,
    )


@router.get("/exchanges/{slug}/stages/new")
def new_stage_form(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    exchange = exchange_or_404(session, slug)
    parties = [slug for slug, _ in party_choices(session, exchange)]
    state = forms.blank_stage_form(today=today(), parties=parties)
    return _stage_page(request, session, user, state, exchange=exchange, stage=None)


@router.post("/exchanges/{slug}/stages/new")
def create_stage(
    slug: str, request: Request, session: SessionDep, user: CurrentEditor, form: Submitted
) -> Response:
    exchange = exchange_or_404(session, slug)
    state = forms.parse_stage_form(form)
    if state.data is None or not state.valid:
        return _stage_page(
            request, session, user, state, exchange=exchange, stage=None, status_code=400
        )
    waiting = _unconfirmed(request, session, exchange, state)
    try:
        stage = writes.create_stage(
            session,
            exchange=exchange,
            data=state.data,
            actor=user.email,
            user_id=user.id,
            reason=state.reason,
        )
    except writes.Invalid as invalid:
        session.rollback()
        forms.location_error(invalid.loc, str(invalid), forms.stage_field, state.errors)
        return _stage_page(
            request, session, user, state, exchange=exchange, stage=None, status_code=400
        )
    if waiting:  # only once the stage could be saved: hard errors are told first
        session.rollback()
        _ask_to_confirm(state, waiting)
        return _stage_page(
            request, session, user, state, exchange=exchange, stage=None, status_code=400
        )
    session.commit()
    return _saved(exchange, stage)


@router.get("/stages/{stage_id}")
def edit_stage_form(
    stage_id: RowId, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    stage = stage_or_404(session, stage_id)
    exchange = session.get(Exchange, stage.exchange_id)
    assert exchange is not None
    state = forms.stage_form_from(writes.stage_snapshot(session, stage, with_sides=False))
    state.values["version"] = str(stage.version)
    return _stage_page(request, session, user, state, exchange=exchange, stage=stage)


@router.post("/stages/{stage_id}")
def update_stage(
    stage_id: RowId, request: Request, session: SessionDep, user: CurrentEditor, form: Submitted
) -> Response:
    stage = stage_or_404(session, stage_id)
    exchange = session.get(Exchange, stage.exchange_id)
    assert exchange is not None
    state = forms.parse_stage_form(form)

    # After a clash, the editor chose for each field both changed: theirs, or their own. A
    # form refused for another reason carries the choices on, so none is lost.
    clashed = [name for name in form.getlist("clash") if name in writes.MERGED]
    choices = {name: str(form.get(f"keep_{name}") or "") for name in clashed}

    def again(status_code: int, conflict: writes.Conflict | None = None) -> Response:
        return _stage_page(
            request, session, user, state, exchange=exchange, stage=stage, conflict=conflict,
            status_code=status_code, carried={} if conflict else choices,
        )  # fmt: skip

    if state.data is None or not state.valid:
        return again(400)
    waiting = _unconfirmed(request, session, exchange, state, stage)
    try:
        merged = writes.save_stage_edit(
            session,
            stage=stage,
            data=state.data,
            based_on=form_version(state.values["version"]),
            actor=user.email,
            user_id=user.id,
            reason=state.reason,
            keep_theirs={name for name, choice in choices.items() if choice == "theirs"},
            must_choose={name for name, choice in choices.items() if choice != "mine"},
        )
    except writes.ReasonRequired as missing:
        forms.location_error(("reason",), str(missing), forms.stage_field, state.errors)
        return again(400)
    except writes.Invalid as invalid:
        session.rollback()
        forms.location_error(invalid.loc, str(invalid), forms.stage_field, state.errors)
        return again(400)
    except writes.Conflict as conflict:
        session.rollback()
        if conflict.merged is not None:  # the form shows the merge: theirs where only they changed
            merged_state = forms.stage_form_from(conflict.merged)
            merged_state.values["reason"] = state.values.get("reason", "")
            state = merged_state
        return again(409, conflict)
    if waiting:  # only once the edit could be saved: conflicts and hard errors come first
        session.rollback()
        _ask_to_confirm(state, waiting)
        return again(400)
    session.commit()
    return _saved(exchange, stage, kept=merged.theirs)


@router.post("/exchanges/{slug}/stages/preview")
def preview_stage(
    slug: str, request: Request, session: SessionDep, form: Submitted, stage: int | None = None
) -> Response:
    """The live preview beside the stage form: each party's tally after this stage, the status
    it will have, and warnings."""
    exchange = exchange_or_404(session, slug)
    editing = stage_or_404(session, stage) if stage is not None else None
    state = forms.parse_stage_form(form)
    context = {"form": state, **_preview(session, exchange, state, editing, request)}
    return render(request, "editor/_stage_preview.html", context)


def _unconfirmed(
    request: Request,
    session: Session,
    exchange: Exchange,
    state: forms.StageForm,
    editing: Stage | None = None,
) -> list[forms.Caution]:
    """The warnings publishing waits on: those the editor has not confirmed, worked out before
    the stage is written. A draft waits on none, and a published stage being corrected only on
    warnings its stored version did not already have (a typo fixed asks nothing again)."""
    if state.data is None or not state.data.published:
        return []
    cautions = _preview(session, exchange, state, editing, request)["warnings"]
    known = set(state.confirmed)
    if editing is not None and editing.published:
        stored = writes.stage_snapshot(session, editing, with_sides=False)
        data = StageCreate.model_validate(stored | {"published": False})
        before = forms.StageForm(values={}, releases=1, figures=[0], data=data)
        known |= {c.code for c in _preview(session, exchange, before, editing, request)["warnings"]}
    return [c for c in cautions if c.code not in known]


def _ask_to_confirm(state: forms.StageForm, waiting: list[forms.Caution]) -> None:
    """Publishing waits on `waiting`, shown to confirm; a box shown and sent unticked is an
    error beside it."""
    state.waiting = waiting
    if state.values.get("confirming"):
        state.errors["confirmed"] = forms.Message(forms.NOT_CONFIRMED)


@dataclass(frozen=True)
class DisputedCount:
    """A source's count that another source's contradicts, as the status line words it."""

    who: str
    party: str
    figures: tally.Figures


@dataclass(frozen=True)
class PreviewLine:
    slug: str
    name: str
    figure: tally.HeadlineFigure
    outside_people: int
    outside_remains: int


def _get(release: ReleaseIn | dict[str, Any], name: str) -> Any:
    return release.get(name) if isinstance(release, dict) else getattr(release, name)


def _with_release(
    sums: tally.StageSums, release: ReleaseIn | dict[str, Any], sign: int
) -> tally.StageSums:
    """The aggregates after adding (sign 1) or taking away (-1) one release, counted as the
    SQL of `crud.release_sums` counts it (`tally.with_stage` counts a first-API side, whose
    remains are beside its people: here a remains release is a release of its own)."""
    military, civilian, people, remains = (_get(release, name) for name in forms.COUNTS)
    if _get(release, "kind") == "remains":
        added = tally.StageSums(
            **vars(sums)
            | {
                "remains": sums.remains + sign * (remains or 0),
                "remains_releases": sums.remains_releases + sign,
                "remains_known": sums.remains_known + sign * (remains is not None),
            }
        )
    else:
        counts = tally.Counts(people=people, military=military, civilian=civilian)
        added = tally.with_stage(sums, counts, sign=sign)
    qualifier, remains_row = _get(release, "qualifier"), _get(release, "kind") == "remains"
    return tally.StageSums(
        **vars(added)
        | {
            "at_least": added.at_least + sign * (qualifier == "at_least"),
            "about": added.about + sign * (qualifier == "about"),
            "at_least_remains": added.at_least_remains
            + sign * (remains_row and qualifier == "at_least"),
            "about_remains": added.about_remains + sign * (remains_row and qualifier == "about"),
        }
    )


def _preview(
    session: Session,
    exchange: Exchange,
    state: forms.StageForm,
    editing: Stage | None,
    request: Request,
) -> dict[str, Any]:
    """Each party's tally after saving this stage, computed with the tally's own rules."""
    assert exchange.id is not None
    detail = crud.get_exchange(session, slug=exchange.slug, include_drafts=True)
    assert detail is not None
    sums = crud.release_sums(session, exchange_ids=[exchange.id])
    parties = writes.exchange_parties(session, exchange.id)
    deal: dict[str, tally.StageSums] = {}
    outside: dict[str, tally.StageSums] = {}
    for party in parties:
        assert party.id is not None
        found = sums.get((exchange.id, party.id))
        deal[party.slug] = found.deal if found else tally.StageSums()
        outside[party.slug] = found.outside if found else tally.StageSums()

    def count(releases: Sequence[ReleaseIn | dict[str, Any]], sign: int) -> None:
        for release in releases:
            counted = outside if _get(release, "outside_deal") else deal
            party = _get(release, "received_by")
            if party in counted:
                counted[party] = _with_release(counted[party], release, sign)

    if editing is not None and editing.published:
        count(writes.stage_snapshot(session, editing, with_sides=False)["releases"], -1)
    # The preview shows the tally once this stage is published, whether it is yet or not.
    releases: list[ReleaseIn] | None = state.data.releases if state.data else state.typed_releases
    if releases is not None:
        count(releases, 1)

    in_force = crud.terms_in_force(detail.terms, None)
    counted = {
        party.slug: tally.party_tally(
            deal[party.slug], outside[party.slug], _target(in_force, party.slug)
        )
        for party in parties
    }
    headline = tally.headline_measure(
        [c.target for c in counted.values()], [c.counts for c in counted.values()]
    )
    names = dict(party_choices(session, exchange, request))
    lines = []
    for party in parties:
        result = counted[party.slug]
        figure = tally.headline_figure(
            headline, result.counts, undisclosed=result.undisclosed,
            qualifier=result.qualifiers[headline], target=result.target,
            percent=result.percent,
        )  # fmt: skip
        apart = (result.outside_people, result.outside_remains)
        lines.append(PreviewLine(party.slug, names[party.slug], figure, *apart))
    if state.data is None:
        return {"preview": lines, "warnings": [], "derived_status": None, "disputed": []}
    status = writes.derived_status(state.data.releases or [], state.data)
    claims = writes.stage_claims(state.data)
    disputed = [
        DisputedCount(
            source.announcer or source.publisher,
            names.get(claim.figures.received_by, claim.figures.received_by),
            claim.figures,
        )
        for source, claim in (claims[i] for i in tally.disputed_claims([c for _, c in claims]))
    ]
    return {
        "preview": lines,
        "warnings": _warnings(state.data, exchange, detail, counted, editing, status, names),
        "derived_status": status,
        "disputed": disputed,
    }


def _target(terms: Any, party: str) -> tally.Counts:
    for target in terms.targets if terms else []:
        if target.received_by == party:
            return tally.Counts(
                people=target.people,
                military=target.military,
                civilian=target.civilian,
                remains=target.remains,
            )
    return tally.Counts()


def _warnings(
    data: StageCreate,
    exchange: Exchange,
    detail: Any,
    counted: dict[str, tally.PartyTally],
    editing: Stage | None,
    status: str,
    names: dict[str, str],
) -> list[forms.Caution]:
    over = any(
        (t.target.people is not None and (t.counts.people or 0) > t.target.people)
        or (t.target.remains is not None and (t.counts.remains or 0) > t.target.remains)
        for t in counted.values()
    )
    earlier = [
        release.people
        for stage in detail.stages
        if editing is None or stage.id != editing.id
        for release in stage.releases
        if release.kind == "living" and not release.outside_deal and release.people is not None
    ]
    return forms.warnings(
        data, agreed_on=exchange.agreed_on, today=today(), over_target=over,
        earlier_people=earlier, status=status, names=names,
    )  # fmt: skip


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
    carried: dict[str, str] | None = None,
) -> Response:
    parties = party_choices(session, exchange, request)
    context = {
        "user": user,
        "form": state,
        "exchange": exchange,
        "stage": stage,
        "parties": parties,
        "conflict": conflict,
        "clashes": _clashes(conflict) if conflict else [],
        "party_words": dict(parties),
        "carried": carried or {},
        **_preview(session, exchange, state, stage, request),
    }
    return render(request, "editor/stage_form.html", context, status_code=status_code)


@dataclass(frozen=True)
class Clash:
    """A field two editors changed differently, each side's value ready to say in words."""

    name: str
    mine: Any
    theirs: Any


def _in_words(name: str, snapshot: dict[str, Any]) -> Any:
    """A stage field's value as the conflict screen says it (parties named by the template)."""
    value = snapshot.get(name)
    return dt.date.fromisoformat(str(value)) if name == "date" else value


def _clashes(conflict: writes.Conflict) -> list[Clash]:
    mine = conflict.mine or {}
    return [
        Clash(name, _in_words(name, mine), _in_words(name, conflict.current))
        for name in conflict.clashes
    ]


# ---- rows added in the browser (htmx); without a script, each group keeps a spare row ------


def _row_index(index: int) -> int:
    return max(0, min(index, forms.MAX_ROWS - 1))


@router.get("/exchanges/{slug}/stages/release-row")
def release_row(slug: str, request: Request, session: SessionDep, index: int = 0) -> Response:
    """One more empty release row for the stage form."""
    exchange = exchange_or_404(session, slug)
    context = {
        "form": forms.SimpleForm(),
        "index": _row_index(index),
        "parties": party_choices(session, exchange, request),
    }
    return render(request, "editor/_release_row.html", context)


@router.get("/sources/row")
def source_row(
    request: Request,
    session: SessionDep,
    index: int = 0,
    exchange: str | None = None,
    figures: bool = True,
) -> Response:
    """One more empty source row: for a stage (with the exchange's parties, for whom its
    announcer speaks and the figures it gave), or for terms (`figures=false`)."""
    found = exchange_or_404(session, exchange) if exchange else None
    context = {
        "form": forms.SimpleForm(),
        "index": _row_index(index),
        "figures": 0,
        "added": True,
        "with_figures": figures and found is not None,
        "parties": party_choices(session, found, request) if found else [],
        "exchange": found,
    }
    return render(request, "editor/_source_row.html", context)


@router.get("/exchanges/{slug}/stages/figure-row")
def figure_row(
    slug: str, request: Request, session: SessionDep, source: int = 0, index: int = 0
) -> Response:
    """One more empty row of figures an announcer gave, for source row `source`."""
    exchange = exchange_or_404(session, slug)
    context = {
        "form": forms.SimpleForm(),
        "source": _row_index(source),
        "number": _row_index(index),
        "parties": party_choices(session, exchange, request),
    }
    return render(request, "editor/_figure_row.html", context)


# ---- deleting, history -------------------------------------------------------------------


@router.post("/stages/{stage_id}/delete")
def delete_stage(
    stage_id: RowId,
    session: SessionDep,
    user: CurrentEditor,
    version: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Delete the version of the stage the editor saw: a stage corrected meanwhile is a 409."""
    stage = stage_or_404(session, stage_id)
    exchange = session.get(Exchange, stage.exchange_id)
    assert exchange is not None
    with changed_meanwhile_is_409():
        writes.delete_stage(
            session,
            stage=stage,
            expected_version=form_version(version),
            actor=user.email,
            user_id=user.id,
            reason=reason or None,
        )
    session.commit()
    return RedirectResponse(f"/editor/exchanges/{exchange.slug}?saved=1", status_code=303)


@router.get("/stages/{stage_id}/history")
def stage_history(
    stage_id: RowId, request: Request, session: SessionDep, user: CurrentEditor
) -> Response:
    stage = stage_or_404(session, stage_id)
    revisions = writes.history(session, entity="stage", entity_id=stage_id)
    parties = writes.exchange_parties(session, stage.exchange_id)
    context = {
        "user": user,
        "stage_date": stage.date,
        "entries": history_entries(revisions),
        "party_names": {party.slug: party for party in parties},
        "restore_url": f"/editor/stages/{stage_id}/restore",
        "version": stage.version,
    }
    return render(request, "editor/history.html", context)


@router.post("/stages/{stage_id}/restore")
def restore_revision(
    stage_id: RowId,
    session: SessionDep,
    user: CurrentEditor,
    revision: Annotated[int, Form(ge=1, le=MAX_STORED_INT)],
    version: Annotated[int, Form(ge=1, le=MAX_STORED_INT)],
) -> Response:
    """Bring back a stage as an earlier revision left it; this is itself a new revision."""
    stage = stage_or_404(session, stage_id)
    found = session.get(Revision, revision)
    if found is None or found.entity != "stage" or found.entity_id != stage_id or not found.after:
        raise HTTPException(status_code=404, detail="No such revision of this stage")
    data = StageCreate.model_validate(found.after | {"published": False}).model_copy(
        update={"published": bool(found.after.get("published"))}
    )
    with changed_meanwhile_is_409("The stage changed since you opened its history; reload it."):
        writes.update_stage(
            session, stage=stage, data=data, expected_version=version, actor=user.email,
            user_id=user.id, reason=f"restored revision {revision}",
        )  # fmt: skip
    session.commit()
    return RedirectResponse(f"/editor/stages/{stage_id}/history", status_code=303)
