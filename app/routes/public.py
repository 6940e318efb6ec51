"""Pages for journalists and readers: dashboard, exchange pages, the timeline."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app import crud, embed, i18n, revisions
from app.chart import cumulative_chart
from app.deps import SessionDep
from app.models import STAGE_STATUSES
from app.templating import render
from app.timeline import FilterError, TimelineFilters, timeline_page

router = APIRouter(default_response_class=HTMLResponse)
LATEST_STAGES = 6


@router.get("/")
def dashboard(request: Request, session: SessionDep) -> Response:
    exchanges = crud.list_exchanges(session, happening_first=True)
    latest = timeline_page(session, TimelineFilters(), size=LATEST_STAGES).stages
    context = {
        "exchanges": exchanges,
        "totals": crud.totals(session),
        "latest": latest,
        "titles": {exchange.slug: exchange.title for exchange in exchanges},
        "side_names": crud.side_names(session, slugs={stage.exchange for stage in latest}),
        "party_labels": crud.party_names(session),
    }
    return render(request, "public/dashboard.html", context)


@router.get("/exchanges/{slug}")
def show_exchange(slug: str, request: Request, session: SessionDep) -> Response:
    exchange = crud.get_exchange(session, slug=slug)
    if exchange is None:
        raise HTTPException(status_code=404, detail=f"No exchange with slug {slug!r}")
    base_url = request.app.state.settings.base_url.rstrip("/")
    context = {
        "exchange": exchange,
        "chart": cumulative_chart(exchange),
        "corrections": {
            stage_id: [revisions.Correction.of(revision) for revision in found]
            for stage_id, found in crud.corrections(
                session, stage_ids=[s.id for s in exchange.stages]
            ).items()
        },
        "party_names": {party.slug: party for party in exchange.parties},
        "side_names": {side.key: side.name for side in exchange.sides},
        "base_url": base_url,
        "embed": embed.builder(
            session,
            request.app.state.templates,
            slug=slug,
            params=request.query_params,
            locale=i18n.negotiate(request)[0],
            base_url=base_url,
        ),
    }
    return render(request, "public/exchange.html", context)


@router.get("/timeline")
def show_timeline(request: Request, session: SessionDep) -> Response:
    params = dict(request.query_params)
    errors: dict[str, str] = {}
    try:
        filters = TimelineFilters.from_query(params)
    except FilterError as error:
        errors[error.field] = str(error)
        filters = TimelineFilters()
    page = timeline_page(session, filters) if not errors else None
    exchange_choices = crud.exchange_choices(session)
    context = {
        "filters": filters,
        "form": params,
        "errors": errors,
        "page": page,
        "exchange_choices": exchange_choices,
        "side_choices": crud.side_name_choices(session),
        "statuses": STAGE_STATUSES,
        "next_query": filters.query_params(page=page.next) if page and page.next else None,
        "side_names": crud.side_names(
            session, slugs={s.exchange for s in page.stages} if page else ()
        ),
        "titles": dict(exchange_choices),
        "party_labels": crud.party_names(session),
    }
    return render(
        request,
        "public/timeline.html",
        context,
        fragment="public/_timeline_results.html",
        status_code=400 if errors else 200,
    )
