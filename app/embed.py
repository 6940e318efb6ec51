"""What newsrooms embed: the widget's options, its data and page, the embed codes, and oEmbed.

The widget is a pure function of the data and its options (theme, lang, side, view, as_of), so it
is rendered once per data revision and served from the cache (app/caching.py). Its inline CSS and
script never change with the options: their hashes make its Content-Security-Policy.
"""

import base64
import datetime as dt
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from markupsafe import Markup
from sqlmodel import Session

from app import crud, i18n
from app.caching import Rendered
from app.chart import Chart, cumulative_chart
from app.i18n import N_
from app.models import SLUG_PATTERN, ExchangeDetail, SidePublic
from app.settings import PROJECT_ROOT
from app.templating import LocalizedTemplates

THEMES = ("auto", "light", "dark")
SIDES = ("both", "a", "b")
VIEWS = ("bar", "compact", "chart")
COLOR_SCHEMES = {"auto": "light dark", "light": "light", "dark": "dark"}
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# Heights before the widget measures itself: the iframe's first size, close to the real one.
DEFAULT_HEIGHTS = {("bar", 2): 250, ("bar", 1): 160, ("compact", 2): 130, ("compact", 1): 100}
CHART_HEIGHT = 400
DEFAULT_WIDTH = 600
THUMBNAIL_SIZE = (600, 315)
CHART_DOTS_UP_TO = 12  # stages; past that the line alone keeps the widget small


class OptionError(ValueError):
    """A widget option that cannot be used; `field` names the query parameter."""

    def __init__(self, field: str, message: str, **params: str) -> None:
        super().__init__(message % params)
        self.field = field
        self.message = message
        self.params = params


def _choice(field: str, value: str | None, choices: tuple[str, ...]) -> str:
    if value is None:
        return choices[0]
    if value not in choices:
        raise OptionError(field, N_("Choose one of: %(choices)s."), choices=", ".join(choices))
    return value


@dataclass(frozen=True)
class WidgetOptions:
    """The widget's options as its query string gives them; the first of each list is the
    default, and only options that differ from it appear in URLs."""

    theme: str = "auto"
    transparent: bool = False
    lang: str = i18n.DEFAULT_LOCALE
    side: str = "both"
    view: str = "bar"
    as_of: dt.date | None = None

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> "WidgetOptions":
        """Parse the options; raise OptionError for the first bad one.

        Other parameters are left alone: pym.js adds its own (childId, initialWidth, parentUrl,
        parentTitle) and the widget's script reads `poll` and `childId` itself.
        """

        def given(name: str) -> str | None:
            value = params.get(name, "").strip()
            return value or None

        transparent = (given("transparent") or "0").lower()
        if transparent not in TRUE + FALSE:
            raise OptionError("transparent", N_("Use 1 or 0."))
        as_of = None
        if (raw := given("as_of")) is not None:
            try:
                as_of = dt.date.fromisoformat(raw)
            except ValueError:
                raise OptionError("as_of", N_("Use a date as YYYY-MM-DD.")) from None
            if len(raw) != len("YYYY-MM-DD"):
                raise OptionError("as_of", N_("Use a date as YYYY-MM-DD."))
        return cls(
            theme=_choice("theme", given("theme"), THEMES),
            transparent=transparent in TRUE,
            lang=_choice("lang", given("lang"), i18n.LOCALES),
            side=_choice("side", given("side"), SIDES),
            view=_choice("view", given("view"), VIEWS),
            as_of=as_of,
        )

    def query(self) -> list[tuple[str, str]]:
        """The options that differ from the defaults, in a fixed order (one URL per widget)."""
        default = WidgetOptions()
        pairs = [(name, getattr(self, name)) for name in ("view", "side", "theme", "lang")]
        items = [(name, value) for name, value in pairs if value != getattr(default, name)]
        if self.transparent:
            items.append(("transparent", "1"))
        if self.as_of is not None:
            items.append(("as_of", self.as_of.isoformat()))
        return items

    @property
    def color_scheme(self) -> str:
        return COLOR_SCHEMES[self.theme]

    @property
    def height(self) -> int:
        sides = 2 if self.side == "both" else 1
        return DEFAULT_HEIGHTS.get((self.view, sides), CHART_HEIGHT)


# ---- the widget's data -------------------------------------------------------------------


@dataclass(frozen=True)
class Widget:
    """An exchange as one widget shows it: pinned to `as_of` when asked, with today's figures
    beside it (`now`) when they differ."""

    exchange: ExchangeDetail
    options: WidgetOptions
    corrected: bool
    now: list[SidePublic] = field(default_factory=list)

    @property
    def sides(self) -> list[SidePublic]:
        return _shown(self.exchange.sides, self.options.side)

    @property
    def chart(self) -> Chart | None:
        if self.options.view != "chart":
            return None
        chart = cumulative_chart(self.exchange)
        if chart is None or self.options.side == "both":
            return chart
        series = [s for s in chart.series if s.key == self.options.side]
        return Chart(**{**vars(chart), "series": series})

    @property
    def chart_dots(self) -> bool:
        return len(self.exchange.stages) <= CHART_DOTS_UP_TO

    @property
    def figures(self) -> str:
        """The numbers alone: the widget's script announces a change only when these differ."""
        return ";".join(f"{s.key}:{s.returned.people}:{s.undisclosed}" for s in self.sides)


def _shown(sides: list[SidePublic], choice: str) -> list[SidePublic]:
    return [side for side in sides if choice in ("both", side.key)]


def _people(sides: list[SidePublic]) -> list[tuple[int | None, bool]]:
    return [(side.returned.people, side.undisclosed) for side in sides]


def load_widget(session: Session, *, slug: str, options: WidgetOptions) -> Widget | None:
    current = crud.get_exchange(session, slug=slug)
    if current is None:
        return None
    shown, now = current, []
    if options.as_of is not None:
        pinned = crud.get_exchange_as_of(session, slug=slug, as_of=options.as_of)
        if pinned is None:  # unpublished between the two reads
            return None
        shown = pinned
        today = _shown(current.sides, options.side)
        if _people(today) != _people(_shown(pinned.sides, options.side)):
            now = today
    corrected = crud.figures_corrected(
        session, slug=slug, stage_ids=[stage.id for stage in shown.stages]
    )
    return Widget(exchange=shown, options=options, corrected=corrected, now=now)


# ---- the widget's page ---------------------------------------------------------------------


@dataclass(frozen=True)
class InlineAssets:
    """The widget's own CSS and script, inlined, and the CSP hashes that allow exactly them."""

    css: Markup
    js: Markup
    style_hash: str
    script_hash: str

    def csp(self, base_url: str) -> str:
        parts = urlsplit(base_url)
        origin = f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
        return (
            f"default-src 'none'; style-src '{self.style_hash}'; script-src '{self.script_hash}'; "
            f"connect-src 'self'{origin}; img-src 'self' data:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors *"
        )


def _sha256(source: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


@functools.cache
def inline_assets() -> InlineAssets:
    """Read once per process: they change only with a deploy."""
    folder = PROJECT_ROOT / "templates" / "embed"
    css = (folder / "widget.css").read_text(encoding="utf-8").strip()
    js = (folder / "widget.js").read_text(encoding="utf-8").strip()
    return InlineAssets(Markup(css), Markup(js), _sha256(css), _sha256(js))


def render_widget(templates: LocalizedTemplates, widget: Widget, *, base_url: str) -> Rendered:
    assets = inline_assets()
    template = templates[widget.options.lang].env.get_template("embed/widget.html")
    body = template.render(widget=widget, options=widget.options, assets=assets).encode()
    headers = [
        ("content-security-policy", assets.csp(base_url)),
        # The script re-reads this page to stay live, from hosts that sandbox it too.
        ("access-control-allow-origin", "*"),
    ]
    return Rendered.of(body, "text/html; charset=utf-8", headers)


# ---- embed codes and oEmbed ----------------------------------------------------------------


def widget_url(base_url: str, slug: str, options: WidgetOptions) -> str:
    query = urlencode(options.query())
    return f"{base_url}/embed/{slug}" + (f"?{query}" if query else "")


def image_url(base_url: str, slug: str, options: WidgetOptions, **extra: str) -> str:
    query = urlencode(options.query() + list(extra.items()))
    return f"{base_url}/embed/{slug}.png" + (f"?{query}" if query else "")


def page_url(base_url: str, slug: str) -> str:
    return f"{base_url}/exchanges/{slug}"


def oembed_url(base_url: str, url: str) -> str:
    return f"{base_url}/oembed?url={quote(url, safe='')}&format=json"


@dataclass(frozen=True)
class EmbedCodes:
    """Everything the builder offers to copy, for one widget."""

    widget: str  # the widget's address (the builder's live preview)
    script: str  # blockquote + iframe + script: survives a CMS that strips scripts
    iframe: str
    image: str
    oembed: str


def embed_html(
    templates: LocalizedTemplates,
    widget: Widget,
    *,
    base_url: str,
    parts: tuple[str, ...] = ("quote", "iframe", "script"),
    width: int | None = None,
    height: int | None = None,
) -> str:
    """The HTML to paste: a blockquote with the tally as text and a link (what readers without
    iframes see), the iframe, the optional host script; in the widget's language."""
    template = templates[widget.options.lang].env.get_template("embed/code.html")
    context: dict[str, Any] = {
        "widget": widget,
        "parts": parts,
        "widget_url": widget_url(base_url, widget.exchange.slug, widget.options),
        "page_url": page_url(base_url, widget.exchange.slug),
        "image_url": image_url(base_url, widget.exchange.slug, widget.options),
        "script_url": f"{base_url}/embed.js",
        "width": width,
        "height": height or widget.options.height,
    }
    return template.render(context).strip()


def embed_codes(templates: LocalizedTemplates, widget: Widget, *, base_url: str) -> EmbedCodes:
    url = widget_url(base_url, widget.exchange.slug, widget.options)
    return EmbedCodes(
        widget=url,
        script=embed_html(templates, widget, base_url=base_url),
        iframe=embed_html(templates, widget, base_url=base_url, parts=("iframe",)),
        image=embed_html(templates, widget, base_url=base_url, parts=("image",)),
        oembed=oembed_url(base_url, url),
    )


class UnknownUrl(LookupError):
    """Not an address of an exchange or widget here: oEmbed answers 404."""


def embedded_slug(url: str, base_url: str) -> tuple[str, WidgetOptions]:
    """The exchange and options an exchange page or widget address names.

    Raises ValueError for something that is not an absolute http(s) address, OptionError for a
    widget option that cannot be used, and UnknownUrl for an address that is not ours.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in url.strip():
        raise ValueError("url must be an absolute http:// or https:// address")
    if parts.netloc.lower() != urlsplit(base_url).netloc.lower():
        raise UnknownUrl(url)
    path = parts.path.rstrip("/")
    for prefix in ("/exchanges/", "/embed/"):
        slug = path.removeprefix(prefix)
        if slug != path and SLUG_PATTERN.fullmatch(slug):
            query = parts.query if prefix == "/embed/" else ""
            params = dict(parse_qsl(query, keep_blank_values=True))
            return slug, WidgetOptions.from_query(params)
    raise UnknownUrl(url)


def oembed_response(
    templates: LocalizedTemplates,
    widget: Widget,
    *,
    base_url: str,
    cache_age: int,
    maxwidth: int | None,
    maxheight: int | None,
) -> dict[str, Any]:
    """A `rich` oEmbed answer (oembed.com, 2.3.4): the embed code without its script, sized to
    fit the consumer's maximum, and the widget's image as thumbnail."""
    width = min(DEFAULT_WIDTH, maxwidth or DEFAULT_WIDTH)
    height = min(widget.options.height, maxheight or widget.options.height)
    thumb_w, thumb_h = THUMBNAIL_SIZE
    scale = min(1.0, (maxwidth or thumb_w) / thumb_w, (maxheight or thumb_h) / thumb_h)
    thumb_w, thumb_h = max(1, int(thumb_w * scale)), max(1, int(thumb_h * scale))
    slug = widget.exchange.slug
    html = embed_html(
        templates,
        widget,
        base_url=base_url,
        parts=("quote", "iframe"),
        width=width,
        height=height,
    )
    return {
        "version": "1.0",
        "type": "rich",
        "title": widget.exchange.title,
        "provider_name": "Swap Tally",
        "provider_url": base_url + "/",
        "cache_age": cache_age,
        "html": html,
        "width": width,
        "height": height,
        "thumbnail_url": image_url(base_url, slug, widget.options, w=str(thumb_w), h=str(thumb_h)),
        "thumbnail_width": thumb_w,
        "thumbnail_height": thumb_h,
    }


# ---- the embed builder on exchange pages ---------------------------------------------------

BUILDER_PREFIX = "embed_"
OPTION_NAMES = ("view", "side", "theme", "lang", "transparent", "as_of")


@dataclass(frozen=True)
class Builder:
    """The exchange page's embed builder: the options chosen in its GET form (each bad one
    named in `errors` and left at its default), the codes to copy, the oEmbed discovery link."""

    options: WidgetOptions
    errors: dict[str, OptionError]
    codes: EmbedCodes
    preview: str  # the widget's address on this site, relative: the live preview
    discovery: str  # the exchange page's oEmbed address
    side_choices: list[tuple[str, str]]  # (key, name)


def builder(
    session: Session,
    templates: LocalizedTemplates,
    *,
    slug: str,
    params: Mapping[str, str],
    locale: str,
    base_url: str,
) -> Builder | None:
    """The builder for an exchange page; the widget's language defaults to the page's."""
    chosen: dict[str, str] = {"lang": locale}
    errors: dict[str, OptionError] = {}
    for name in OPTION_NAMES:
        value = params.get(BUILDER_PREFIX + name, "")
        try:
            WidgetOptions.from_query({name: value})
        except OptionError as error:
            errors[name] = error
            continue
        if value.strip():
            chosen[name] = value
    options = WidgetOptions.from_query(chosen)
    widget = load_widget(session, slug=slug, options=options)
    if widget is None:  # unpublished since the page read it
        return None
    query = urlencode(options.query())
    return Builder(
        options=options,
        errors=errors,
        codes=embed_codes(templates, widget, base_url=base_url),
        preview=f"/embed/{slug}" + (f"?{query}" if query else ""),
        discovery=oembed_url(base_url, page_url(base_url, slug)),
        side_choices=[(side.key, side.name) for side in widget.exchange.sides],
    )
