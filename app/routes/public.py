"""Pages for journalists and readers: dashboard, exchange pages, the timeline."""

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from app import citing, crud, embed, home, i18n, revisions
from app.caching import CachedPageRoute
from app.chart import cumulative_chart
from app.deps import SessionDep, TodayDep
from app.models import STAGE_STATUSES
from app.templating import localized_in, query_url, render
from app.timeline import FilterError, TimelineFilters, count_stages, timeline_page

router = APIRouter(default_response_class=HTMLResponse, route_class=CachedPageRoute)
LATEST_STAGES = 6


@router.get("/")
def dashboard(request: Request, session: SessionDep) -> Response:
    params, clean, redirect = _clean_query(request, "/")
    if redirect:
        return redirect
    locale, _ = i18n.negotiate(request)
    error: home.TableError | None = None
    try:
        query = home.TableQuery.from_query(params)
    except home.TableError as bad:
        error, query = bad, home.TableQuery()
    localized = localized_in(locale)
    latest = timeline_page(session, TimelineFilters(), size=LATEST_STAGES).stages
    context = {
        "query": query,
        "error": error,
        "table": home.table(session, query, locale),
        "shown_date": home.shown_date,
        "updated": crud.last_change(session),
        "totals": crud.totals(session),
        "latest": latest,
        "titles": {
            slug: localized(titles, "title")
            for slug, titles in crud.exchange_titles(
                session, slugs={stage.exchange for stage in latest}
            ).items()
        },
        "side_names": crud.side_names(
            session, slugs={stage.exchange for stage in latest}, locale=locale
        ),
        "party_labels": crud.party_names(session, locale),
    }
    return _filtered(
        request, "public/dashboard.html", "public/_exchange_table.html", context, clean, error
    )


@router.get("/exchanges/{slug}")
def show_exchange(slug: str, request: Request, session: SessionDep, today: TodayDep) -> Response:
    found = crud.exchange_page(session, slug=slug)
    if found is None:
        raise HTTPException(status_code=404, detail=f"No exchange with slug {slug!r}")
    exchange, history = found.exchange, found.history
    base_url = request.app.state.settings.base_url.rstrip("/")
    locale = i18n.negotiate(request)[0]
    wording = request.app.state.templates[locale].env.globals["wording"]
    words = citing.Words(wording.translations, wording.formats)
    title = (exchange.title_uk if locale == "uk" else None) or exchange.title
    citation, citations = citing.cite_exchange(
        words, exchange, title=title, base_url=base_url, accessed=today
    )
    context = {
        "citation": citation,
        "citations": citations,
        "exchange": exchange,
        "chart": cumulative_chart(exchange),
        "corrections": {
            stage_id: [revisions.Correction.of(revision) for revision in found]
            for stage_id, found in history.stage_corrections.items()
        },
        "party_names": {party.slug: party for party in exchange.parties},
        "side_names": {side.key: side.name for side in exchange.sides},
        "base_url": base_url,
        "embed": embed.builder(
            session,
            request.app.state.templates,
            slug=slug,
            params=request.query_params,
            locale=locale,
            base_url=base_url,
            exchange=exchange,
            history=history,
        ),
    }
    return render(request, "public/exchange.html", context)


@dataclass(frozen=True)
class ActiveFilter:
    """A timeline filter in use: its value as the page says it, and the address without it."""

    name: str
    value: Any
    without: str


def _active_filters(
    session: SessionDep, filters: TimelineFilters, locale: str
) -> list[ActiveFilter]:
    params = filters.query_params()
    titles = dict(crud.exchange_choices(session, locale))
    parties = {party.slug: party for party in crud.party_choices(session)}
    shown: dict[str, Any] = {  # a party is named in the page's language by the template
        "exchange": titles.get(filters.exchange or "", filters.exchange),
        "party": parties.get(filters.party or "", filters.party),
        "from": filters.date_from,
        "to": filters.date_to,
    }
    return [
        ActiveFilter(
            name,
            shown.get(name, value),
            query_url("/timeline", {k: v for k, v in params.items() if k != name}),
        )
        for name, value in params.items()
    ]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _filtered(
    request: Request, page: str, fragment: str, context: dict[str, Any], clean: str, errors: Any
) -> Response:
    """A page of filtered results (htmx gets just the results), 400 on a bad filter; the
    address bar shows the clean permalink."""
    status_code = 400 if errors else 200
    response = render(request, page, context, fragment=fragment, status_code=status_code)
    if is_htmx(request):
        response.headers["HX-Push-Url"] = clean
    return response


def _clean_query(
    request: Request, path: str
) -> tuple[dict[str, str], str, RedirectResponse | None]:
    """The query's non-empty parameters, the clean permalink they make, and a 303 to it when a
    form sent empty fields too (htmx requests keep their answer and push the clean address)."""
    given = request.query_params.multi_items()
    params = {name: value for name, value in given if value}
    clean = query_url(path, params)
    if len(params) < len(given) and not is_htmx(request):
        return params, clean, RedirectResponse(clean, status_code=303)
    return params, clean, None


@router.get("/timeline")
def show_timeline(request: Request, session: SessionDep) -> Response:
    params, clean, redirect = _clean_query(request, "/timeline")
    if redirect:
        return redirect
    errors: dict[str, str] = {}
    try:
        filters = TimelineFilters.from_query(params)
    except FilterError as error:
        errors[error.field] = str(error)
        filters = TimelineFilters()
    page = timeline_page(session, filters) if not errors else None
    locale, _ = i18n.negotiate(request)
    exchange_choices = crud.exchange_choices(session, locale)
    context = {
        "filters": filters,
        "form": params,
        "errors": errors,
        "page": page,
        "matching": count_stages(session, filters) if page else 0,
        "active_filters": _active_filters(session, filters, locale) if page else [],
        "downloads": {
            "csv": query_url("/api/v1/stages.csv", filters.query_params()),
            "json": query_url("/api/v1/stages", filters.query_params(page=filters.page)),
        },
        "exchange_choices": exchange_choices,
        "party_choices": crud.party_choices(session),
        "statuses": STAGE_STATUSES,
        "next_query": filters.query_params(page=page.next) if page and page.next else None,
        "side_names": crud.side_names(
            session, slugs={s.exchange for s in page.stages} if page else (), locale=locale
        ),
        "titles": dict(exchange_choices),
        "party_labels": crud.party_names(session, locale),
    }
    return _filtered(
        request, "public/timeline.html", "public/_timeline_results.html", context, clean, errors
    )
