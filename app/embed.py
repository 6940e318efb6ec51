"""What newsrooms embed: the widget's options, its data and page, the embed codes, and oEmbed.

The widget is a pure function of the data and its options (theme, lang, side or party, view,
as_of), so it is rendered once per data revision and served from the cache (app/caching.py). Its
inline CSS and script never change with the options: their hashes make its
Content-Security-Policy. Every figure it shows is a party's `tally` entry and its headline figure
(`PartyTallyPublic.figure`), worded in templates/embed/_macros.html.
"""

import base64
import datetime as dt
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import rcssmin  # type: ignore[import-untyped]
import rjsmin  # type: ignore[import-untyped]
from markupsafe import Markup
from sqlmodel import Session
from starlette.datastructures import ImmutableMultiDict

from app import citing, crud, embed_fit, i18n, images, tally
from app.caching import Rendered
from app.chart import PAGE, Chart, tally_chart
from app.i18n import N_
from app.models import (
    SLUG_PATTERN,
    ExchangeDetail,
    FigurePublic,
    MeasureRange,
    PartyTallyPublic,
    StagePublic,
)
from app.settings import PROJECT_ROOT
from app.tally import HeadlineFigure
from app.templating import LocalizedTemplates, translated_in

THEMES = ("auto", "light", "dark")
SIDES = ("both", "a", "b")
VIEWS = ("bar", "compact", "chart")
COLOR_SCHEMES = {"auto": "light dark", "light": "light", "dark": "dark"}
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# Heights before the widget measures itself: the iframe's first size, close to the real one
# (a title and a meta line, then a block per party; a chart adds its own height).
FIRST_HEIGHT = {"bar": 70, "compact": 70, "chart": 310}
PARTY_HEIGHT = {"bar": 90, "compact": 30, "chart": 45}
# The colour each party of an exchange is drawn in, by its place (the first API's a and b first).
COLOURS = ("a", "b", "c", "d")
IMAGE_ROWS = 4  # parties an image draws; past that, the first three and "and N more"
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


def _party_slugs(value: str | None, side: str | None) -> tuple[str, ...]:
    """`party=SLUG[,SLUG]`: which receiving parties to show, in that order (not with `side`)."""
    if value is None:
        return ()
    if side is not None:
        raise OptionError("party", N_("Give party or side, not both."))
    slugs = tuple(slug.strip() for slug in value.split(","))
    if not all(SLUG_PATTERN.fullmatch(slug) for slug in slugs):
        raise OptionError("party", N_("Give party slugs separated by commas."))
    if len(set(slugs)) != len(slugs):
        raise OptionError("party", N_("Name each party once."))
    return slugs


def default_height(view: str, parties: int) -> int:
    """The iframe's first height for a view showing that many parties."""
    return FIRST_HEIGHT[view] + PARTY_HEIGHT[view] * parties


def query_string(pairs: Sequence[tuple[str, str]]) -> str:
    """A query string that keeps the commas of `party=ukraine,russia` readable."""
    return urlencode(pairs, safe=",")


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
    parties: tuple[str, ...] = ()  # `party`: these receiving parties, in this order

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
            parties=_party_slugs(given("party"), given("side")),
        )

    def query(self) -> list[tuple[str, str]]:
        """The options that differ from the defaults, in a fixed order (one URL per widget)."""
        default = WidgetOptions()

        def changed(*names: str) -> list[tuple[str, str]]:
            pairs = [(name, getattr(self, name)) for name in names]
            return [(name, value) for name, value in pairs if value != getattr(default, name)]

        items = changed("view", "side")
        if self.parties:
            items.append(("party", ",".join(self.parties)))
        items += changed("theme", "lang")
        if self.transparent:
            items.append(("transparent", "1"))
        if self.as_of is not None:
            items.append(("as_of", self.as_of.isoformat()))
        return items

    @property
    def color_scheme(self) -> str:
        return COLOR_SCHEMES[self.theme]


# ---- the widget's data -------------------------------------------------------------------


DISPUTES_SHOWN = 2  # a party's disputed stages worded in full; past that, "and N more"


@dataclass(frozen=True)
class Claimed:
    """What one announcer said a party received: "Russian Defence Ministry: 84 soldiers"."""

    announcer: str
    figures: FigurePublic


@dataclass(frozen=True)
class StageDispute:
    """A stage where the announcers' figures for one receiving party disagree, and theirs."""

    date: dt.date
    claims: tuple[Claimed, ...]


def party_disputes(stages: Sequence[StagePublic], received_by: str) -> tuple[StageDispute, ...]:
    """The stages whose sources' figures for this party contradict each other (tally's rule),
    with each announcer's figures once, as they gave them."""
    found = []
    for stage in stages:
        shown: dict[tuple[str, str], Claimed] = {}
        for announcer, figures in citing.disputed_figures(stage, {received_by}):
            shown.setdefault((announcer, figures.model_dump_json()), Claimed(announcer, figures))
        if shown:
            found.append(StageDispute(date=stage.date, claims=tuple(shown.values())))
    return tuple(found)


@dataclass(frozen=True)
class ShownParty:
    """One receiving party as a widget or image shows it: its tally and headline figure, the
    colour of its place in the exchange, and its first-API side key (a, b) if it has one."""

    tally: PartyTallyPublic
    position: int  # in the exchange's parties
    disputes: tuple[StageDispute, ...] = ()  # who said what, where announcers disagree

    @property
    def slug(self) -> str:
        return self.tally.received_by

    @property
    def name(self) -> str:
        return self.tally.name

    @property
    def name_uk(self) -> str | None:
        return self.tally.name_uk

    @property
    def figure(self) -> HeadlineFigure:
        return self.tally.figure

    @property
    def side(self) -> str | None:
        """The first API's side key for the first two parties ("a", "b"), else None."""
        return SIDES[self.position + 1] if self.position < len(SIDES) - 1 else None

    @property
    def key(self) -> str:
        """Its name in `data-figures`: its side key, else its slug."""
        return self.side or self.slug

    @property
    def colour(self) -> str:
        return COLOURS[self.position % len(COLOURS)]

    @property
    def outside(self) -> bool:
        """Whether releases beside the deal reached it (shown beside its total, never in it)."""
        return bool(self.tally.outside_deal.people or self.tally.outside_deal.remains)

    @property
    def range(self) -> MeasureRange | None:
        """The lowest and highest totals the announcers' figures give for its headline figure,
        when they disagree."""
        return (self.tally.range or {}).get(self.figure.measure)

    @property
    def signature(self) -> str:
        """Its figures in one string, to tell whether they changed."""
        tally, figure = self.tally, self.figure
        count = tally.remains if figure.measure == "remains" else tally.people
        parts = [self.key, str(count), str(tally.undisclosed)]
        if tally.qualifier != "exact":
            parts.append(tally.qualifier)
        if self.outside:
            parts.append(f"+{tally.outside_deal.people}/{tally.outside_deal.remains}")
        if self.range is not None:
            parts.append(f"{self.range.min}-{self.range.max}")
        elif tally.disputed:
            parts.append("disputed")
        if self.disputes:
            parts.append(str(len(self.disputes)))
        return ":".join(parts)


def shown_parties(exchange: ExchangeDetail, options: WidgetOptions) -> list[ShownParty]:
    """The receiving parties the options ask for: `party` in its order, else `side` (a and b
    are the first two parties, both is every party). Raises OptionError for a party that is not
    one of the exchange's."""
    parties = [
        ShownParty(tally=t, position=i, disputes=party_disputes(exchange.stages, t.received_by))
        for i, t in enumerate(exchange.tally)
    ]
    if options.parties:
        by_slug = {party.slug: party for party in parties}
        for slug in options.parties:
            if slug not in by_slug:
                raise OptionError(
                    "party",
                    N_("%(party)s is not a party of this exchange; choose from: %(choices)s."),
                    party=slug,
                    choices=", ".join(by_slug),
                )
        return [by_slug[slug] for slug in options.parties]
    return [party for party in parties if options.side in ("both", party.side)]


@dataclass(frozen=True)
class Widget:
    """An exchange as one widget shows it: pinned to `as_of` when asked, with today's figures
    beside it (`now`) when they differ."""

    exchange: ExchangeDetail
    options: WidgetOptions
    corrected: bool
    parties: list[ShownParty]
    now: list[ShownParty] = field(default_factory=list)
    edited_at: dt.datetime | None = None  # an editor's last change to its figures or terms

    @property
    def updated(self) -> dt.datetime | dt.date | None:
        """When the figures it shows last changed: an editor's last change, else the latest day
        its own record gives (a stage or release, a terms version), never the moment the
        database was loaded (the bundled history was entered long after it happened)."""
        exchange, as_of = self.exchange, self.options.as_of
        days = [stage.date for stage in exchange.stages]
        days += [r.date for stage in exchange.stages for r in stage.releases if r.date]
        # Terms count from the day they took effect; a pinned widget, only those then in force.
        agreed = [terms.effective for terms in exchange.terms if terms.effective]
        agreed += [exchange.agreed_on] if exchange.agreed_on else []
        days += [day for day in agreed if as_of is None or day <= as_of]
        latest = max(days, default=None)
        if self.edited_at is not None and (latest is None or self.edited_at.date() >= latest):
            return self.edited_at
        return latest

    @property
    def updated_time(self) -> bool:
        """Whether `updated` has a time of day (an editor's change) or is a day alone."""
        return isinstance(self.updated, dt.datetime)

    @property
    def chart(self) -> Chart | None:
        if self.options.view != "chart":
            return None
        # The exchange page's frame: x in percent of the width, y and text in CSS px.
        parties = [(party.colour, party.tally) for party in self.parties]
        return tally_chart(self.exchange, parties, PAGE)

    @property
    def chart_dots(self) -> bool:
        return len(self.exchange.stages) <= CHART_DOTS_UP_TO

    @property
    def figures(self) -> str:
        """The numbers alone: the widget's script announces a change only when these differ."""
        return ";".join(party.signature for party in self.parties)

    @property
    def height(self) -> int:
        return default_height(self.options.view, len(self.parties))


def load_widget(
    session: Session,
    *,
    slug: str,
    options: WidgetOptions,
    current: ExchangeDetail | None = None,
    history: crud.FigureHistory | None = None,
) -> Widget | None:
    """The widget's data, or None for an exchange that is not published. Raises OptionError
    (naming `party`) when the options ask for a party the exchange does not have. `current`:
    the published exchange, where the caller has just read it, and `history` its stages'
    (crud.figure_history), used unless the widget is pinned to a day."""
    current = current or crud.get_exchange(session, slug=slug)
    if current is None:
        return None
    shown, parties, now = current, shown_parties(current, options), []
    if options.as_of is not None:
        pinned = crud.get_exchange_as_of(session, slug=slug, as_of=options.as_of)
        if pinned is None:  # unpublished between the two reads
            return None
        shown, today, parties = pinned, parties, shown_parties(pinned, options)
        if [p.signature for p in today] != [p.signature for p in parties]:
            now = today
    if history is None or options.as_of is not None:
        stage_ids = [stage.id for stage in shown.stages]
        history = crud.figure_history(session, slug=slug, stage_ids=stage_ids, as_of=options.as_of)
    return Widget(
        exchange=shown,
        options=options,
        corrected=history.corrected,
        parties=parties,
        now=now,
        edited_at=history.changed,
    )


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
    """Read and minified once per process (they change only with a deploy): a widget inlines
    them in every answer, so their comments and indentation would be bytes of every article."""
    folder = PROJECT_ROOT / "templates" / "embed"
    css = rcssmin.cssmin((folder / "widget.css").read_text(encoding="utf-8")).strip()
    js = rjsmin.jsmin((folder / "widget.js").read_text(encoding="utf-8")).strip()
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


@dataclass(frozen=True)
class Unavailable:
    """Why a widget address shows no tally: no such published exchange (never one, renamed,
    unpublished or deleted: 404), or an option it cannot use (`error`: 422). Its frame gets a
    small widget saying so, never the site's error page or JSON."""

    slug: str
    error: OptionError | None = None

    @property
    def status_code(self) -> int:
        return 404 if self.error is None else 422


def lenient_options(params: Mapping[str, str]) -> WidgetOptions:
    """The looks an error widget can still honour (theme, lang, transparent), each left at its
    default when it is the bad one."""
    chosen = {}
    for name in ("theme", "lang", "transparent"):
        try:
            WidgetOptions.from_query({name: params.get(name, "")})
        except OptionError:
            continue
        chosen[name] = params.get(name, "")
    return WidgetOptions.from_query(chosen)


def render_unavailable(
    templates: LocalizedTemplates, unavailable: Unavailable, options: WidgetOptions
) -> Rendered:
    """The widget's place when it cannot be shown: a line in the article's frame, in the
    widget's language and theme, that still posts its height (the widget's own script)."""
    assets = inline_assets()
    template = templates[options.lang].env.get_template("embed/unavailable.html")
    body = template.render(unavailable=unavailable, options=options, assets=assets)
    headers = [
        ("content-security-policy", assets.csp("")),
        ("access-control-allow-origin", "*"),
    ]
    return Rendered.of(body.encode(), "text/html; charset=utf-8", headers)


# ---- the tally as an image ------------------------------------------------------------------

IMAGE_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


@dataclass(frozen=True)
class ImageOptions:
    """An image's own options beside the widget's: its size (`w`, `h`) and `og=1`, the social
    card (1200 x 630). Images cannot follow the reader's colours, so theme=auto draws light."""

    width: int
    height: int

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> "ImageOptions":
        og = params.get("og", "").strip().lower()
        if og and og not in TRUE + FALSE:
            raise OptionError("og", N_("Use 1 or 0."))
        width, height = images.OG_SIZE if og in TRUE else images.DEFAULT_SIZE
        return cls(
            width=_dimension(params, "w", width, images.MIN_SIZE[0], images.MAX_SIZE[0]),
            height=_dimension(params, "h", height, images.MIN_SIZE[1], images.MAX_SIZE[1]),
        )


def _dimension(params: Mapping[str, str], name: str, default: int, least: int, most: int) -> int:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or not least <= int(value) <= most:
        raise OptionError(
            name,
            N_("Give whole pixels from %(least)s to %(most)s."),
            least=str(least),
            most=str(most),
        )
    return int(value)


def _plain(markup: Markup) -> str:
    """A macro's words as plain text (the image escapes them for SVG itself)."""
    return Markup(markup).unescape()


def tally_image(
    templates: LocalizedTemplates, widget: Widget, *, base_url: str
) -> images.TallyImage:
    """The widget's figures, in its language, for app/images.py to draw: a row per party, or
    the first three and "and N more" past IMAGE_ROWS."""
    env = templates[widget.options.lang].env
    macros: Any = env.get_template("embed/_macros.html").module
    host = urlsplit(base_url).netloc or base_url
    rows = widget.parties
    if len(rows) > IMAGE_ROWS:
        rows = rows[: IMAGE_ROWS - 1]
    hidden = len(widget.parties) - len(rows)
    translated = translated_in(widget.options.lang)
    return images.TallyImage(
        title=translated(widget.exchange, "title"),
        sides=[
            images.SideLine(
                name=translated(party, "name"),
                figure=_plain(macros.image_figure(party)),
                fraction=tally.bar_fraction(party.figure.percent),
                note=_plain(macros.image_note(party)),
                colour=COLOURS.index(party.colour),
            )
            for party in rows
        ],
        status=_plain(macros.image_status(widget)),
        credit=f"Swap Tally · {host}/exchanges/{widget.exchange.slug}",
        corrected=widget.corrected,
        corrected_label=_plain(macros.corrected_label()),
        more=_plain(macros.more_parties(hidden)) if hidden else "",
    )


def render_image(
    templates: LocalizedTemplates,
    widget: Widget,
    size: ImageOptions,
    image_format: str,
    *,
    base_url: str,
) -> Rendered:
    picture = tally_image(templates, widget, base_url=base_url)
    theme: images.Theme = "dark" if widget.options.theme == "dark" else "light"
    svg = images.render_svg(
        picture,
        width=size.width,
        height=size.height,
        theme=theme,
        transparent=widget.options.transparent,
    )
    body = images.rasterise(svg) if image_format == "png" else svg.encode()
    headers = [("access-control-allow-origin", "*")]
    if image_format == "svg":  # opened on its own, an SVG is a document: it may run nothing
        headers.append(("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'"))
    return Rendered.of(body, IMAGE_FORMATS[image_format], headers)


# ---- embed codes and oEmbed ----------------------------------------------------------------


def widget_url(base_url: str, slug: str, options: WidgetOptions) -> str:
    query = query_string(options.query())
    return f"{base_url}/embed/{slug}" + (f"?{query}" if query else "")


def image_url(base_url: str, slug: str, options: WidgetOptions, **extra: str) -> str:
    query = query_string(options.query() + list(extra.items()))
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


def fitting_height(templates: LocalizedTemplates, widget: Widget) -> int:
    """The height an embed code gives its iframe: the whole widget at every width from 300 px,
    for hosts where no script sizes it (app/embed_fit.py)."""
    page = render_widget(templates, widget, base_url="").body.decode()
    return embed_fit.fitting_height(page, view=widget.options.view)


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
    iframes see), the iframe, the optional host script; in the widget's language.

    With the blockquote, the iframe is hidden (`hidden` and `display:none`, for hosts that
    strip one of them) until /embed.js hears from it, as WordPress's embeds do: a host that
    strips scripts shows the text alone, never both. Alone, the iframe is shown at a height
    that holds the whole widget at any width from 300 px."""
    template = templates[widget.options.lang].env.get_template("embed/code.html")
    context: dict[str, Any] = {
        "widget": widget,
        "parts": parts,
        "widget_url": widget_url(base_url, widget.exchange.slug, widget.options),
        "page_url": page_url(base_url, widget.exchange.slug),
        "image_url": image_url(base_url, widget.exchange.slug, widget.options),
        "image_size": images.DEFAULT_SIZE,
        "script_url": f"{base_url}/embed.js",
        "width": width,
        "height": height or fitting_height(templates, widget),
    }
    return template.render(context).strip()


def embed_codes(templates: LocalizedTemplates, widget: Widget, *, base_url: str) -> EmbedCodes:
    url = widget_url(base_url, widget.exchange.slug, widget.options)
    height = fitting_height(templates, widget)  # the widget drawn once for the three codes
    return EmbedCodes(
        widget=url,
        script=embed_html(templates, widget, base_url=base_url, height=height),
        iframe=embed_html(templates, widget, base_url=base_url, parts=("iframe",), height=height),
        image=embed_html(templates, widget, base_url=base_url, parts=("image",), height=height),
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
    fits = fitting_height(templates, widget)
    height = min(fits, maxheight or fits)
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
    party_choices: list[tuple[str, str]]  # (slug, name) of every party, in order
    height: int  # the preview's first height


def _values(params: Mapping[str, str], name: str) -> list[str]:
    """Every value of a query parameter (ticked boxes repeat it), commas split."""
    given = params.getlist(name) if isinstance(params, ImmutableMultiDict) else [params.get(name)]
    return [part.strip() for value in given if value for part in value.split(",") if part.strip()]


def builder(
    session: Session,
    templates: LocalizedTemplates,
    *,
    slug: str,
    params: Mapping[str, str],
    locale: str,
    base_url: str,
    exchange: ExchangeDetail | None = None,
    history: crud.FigureHistory | None = None,
) -> Builder | None:
    """The builder for an exchange page; the widget's language defaults to the page's. Parties
    ticked (`embed_party`) show those alone: with a side other than both, that is an error.
    `exchange` and `history`: what the page has just read, not read again (load_widget)."""
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
    if parties := _values(params, BUILDER_PREFIX + "party"):
        # The form always sends its side menu: "both" there is no side at all.
        side = None if chosen.get("side", "both") == "both" else chosen["side"]
        try:
            WidgetOptions.from_query({"party": ",".join(parties), "side": side or ""})
        except OptionError as error:
            errors["party"] = error
        else:
            chosen.pop("side", None)
            chosen["party"] = ",".join(parties)
    options = WidgetOptions.from_query(chosen)
    try:
        widget = load_widget(session, slug=slug, options=options, current=exchange, history=history)
    except OptionError as error:  # a party this exchange does not have
        errors["party"] = error
        options = replace(options, parties=())
        widget = load_widget(session, slug=slug, options=options, current=exchange, history=history)
    if widget is None:  # unpublished since the page read it
        return None
    query = query_string(options.query())
    named = translated_in(locale)  # the page's language, whatever the widget's
    return Builder(
        options=options,
        errors=errors,
        codes=embed_codes(templates, widget, base_url=base_url),
        preview=f"/embed/{slug}" + (f"?{query}" if query else ""),
        discovery=oembed_url(base_url, page_url(base_url, slug)),
        side_choices=[
            (side.key, named(party, "name"))
            for side, party in zip(widget.exchange.sides, widget.exchange.parties, strict=False)
        ],
        party_choices=[(party.slug, named(party, "name")) for party in widget.exchange.parties],
        height=widget.height,
    )
