"""Templates, their filters, and the one helper that decides page or fragment."""

from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from app import tally
from app.settings import PROJECT_ROOT


def format_count(value: int | None) -> str:
    """1000 -> "1,000"; unknown -> "undisclosed"."""
    return "undisclosed" if value is None else f"{value:,}"


def format_percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} %"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=PROJECT_ROOT / "templates")
    templates.env.filters["count"] = format_count
    templates.env.filters["percent"] = format_percent
    templates.env.globals["bar_fraction"] = tally.bar_fraction
    templates.env.globals["day_label"] = tally.day_label
    return templates


def render(
    request: Request,
    page: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status_code: int = 200,
) -> Response:
    """Render the page, or only its partial for an htmx request (not a history restore)."""
    templates: Jinja2Templates = request.app.state.templates
    wants_fragment = (
        fragment is not None
        and request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
    response = templates.TemplateResponse(
        request, fragment if wants_fragment and fragment else page, context, status_code=status_code
    )
    response.headers["Vary"] = "HX-Request"
    return response
