"""Templates, their filters, and the one helper that decides page or fragment."""

from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from starlette.responses import Response

from app import citing, i18n, revisions, tally
from app.settings import PROJECT_ROOT

LocalizedTemplates = dict[str, Jinja2Templates]


@cache
def make_templates() -> LocalizedTemplates:
    """One template environment per language, each with its catalogue and formats installed;
    built once per process, so every app in it (the test suite makes thousands) shares the
    compiled catalogues and templates."""
    translations = i18n.load_translations(PROJECT_ROOT / "locale")
    localized = {}
    for locale in i18n.LOCALES:
        env = Environment(
            loader=FileSystemLoader(PROJECT_ROOT / "templates"),
            autoescape=True,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations[locale], newstyle=True)  # type: ignore[attr-defined]
        formats = i18n.Formats(locale)
        env.filters["count"] = formats.count
        env.filters["percent"] = formats.percent
        env.filters["date"] = formats.date
        env.filters["datetime"] = formats.datetime
        env.globals["locale"] = locale
        env.globals["locales"] = i18n.LOCALES
        env.globals["bar_fraction"] = tally.bar_fraction
        env.globals["stage_people"] = tally.stage_people
        env.globals["figure_alternatives"] = citing.alternatives
        env.globals["lang_url"] = lang_url
        env.globals["query_url"] = query_url
        env.globals["translated"] = translated_in(locale)
        env.globals["localized"] = localized_in(locale)
        env.globals["wording"] = revisions.Wording(translations[locale], formats)
        localized[locale] = Jinja2Templates(env=env)
    return localized


def translated_in(locale: str) -> Any:
    """`translated(thing, "title")`: its Ukrainian `title_uk` on Ukrainian pages where it has
    one, else the English `title` (content falls back to English)."""

    def translated(thing: Any, field: str) -> Any:
        local = getattr(thing, f"{field}_{locale}", None) if locale != "en" else None
        return local or getattr(thing, field)

    return translated


def localized_in(locale: str) -> Any:
    """`localized(thing, "title")`: what `translated` shows, as text of the page; where an
    English text stands in on a page in another language, it is marked `lang="en"` so that a
    screen reader switches voice (for text only: never inside an attribute)."""
    translated = translated_in(locale)

    def localized(thing: Any, field: str) -> Markup:
        shown = translated(thing, field)
        if locale == "en" or getattr(thing, f"{field}_{locale}", None):
            return escape(shown)
        return Markup('<span lang="en">{}</span>').format(shown)

    return localized


def lang_url(request: Request, locale: str) -> str:
    """This page's address in another language (relative, so it works behind any proxy)."""
    query = request.query_params.multi_items()
    kept = [(k, v) for k, v in query if k != "lang"] + [("lang", locale)]
    return f"{request.url.path}?{urlencode(kept)}"


def query_url(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def render(
    request: Request,
    page: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status_code: int = 200,
) -> Response:
    """Render the page in the request's language, or only its partial for an htmx request.

    A history restore asks for the whole page even though it comes from htmx.
    """
    locale, _ = i18n.negotiate(request)
    templates: LocalizedTemplates = request.app.state.templates
    name = fragment if fragment is not None and wants_fragment(request) else page
    response = templates[locale].TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Vary"] = VARY
    response.headers["Content-Language"] = locale
    remember_language(request, response)
    return response


# The request headers a page's answer depends on besides its address (and each page's Vary).
HTMX_HEADERS = ("HX-Request", "HX-History-Restore-Request")  # a history restore wants the page
VARY = ", ".join((*HTMX_HEADERS, "Accept-Language", "Cookie"))


def wants_fragment(request: Request) -> bool:
    """Whether an htmx request asks for the partial alone (a history restore wants the page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def remember_language(request: Request, response: Response) -> bool:
    """Set the language cookie when `?lang=` chose another language than the cookie holds;
    whether it did (a response that sets it is for this browser only: app/caching.py)."""
    locale, chosen = i18n.negotiate(request)
    if not chosen or request.cookies.get(i18n.LANG_COOKIE) == locale:
        return False
    response.set_cookie(i18n.LANG_COOKIE, locale, max_age=i18n.LANG_COOKIE_MAX_AGE, samesite="lax")
    return True
