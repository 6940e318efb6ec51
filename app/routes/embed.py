"""Embeds for newsrooms: the widget, its host script /embed.js, and oEmbed; all cached per data
revision (app/caching.py), all free to be framed or fetched from any site."""

import dataclasses
import functools
import json
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import QueryParams, State
from starlette.responses import Response
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

from app import embed, images, metrics
from app.caching import HttpCache, Rendered, etag_matches
from app.embed import ImageOptions, OptionError, WidgetOptions
from app.models import SLUG_PATTERN
from app.settings import PROJECT_ROOT


class _Verbatim(Convertor[str]):
    """A path segment matching the subclass's `regex`, kept as it is."""

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class SlugConvertor(_Verbatim):
    """Only real slugs (no dots), so that /embed/{slug} leaves /embed/{slug}.png to its route."""

    regex = SLUG_PATTERN.pattern


class ImageFormatConvertor(_Verbatim):
    regex = "|".join(embed.IMAGE_FORMATS)


register_url_convertor("slug", SlugConvertor())
register_url_convertor("image_format", ImageFormatConvertor())

router = APIRouter(tags=["embeds"])
CORS = ("access-control-allow-origin", "*")


def _invalid(error: OptionError, value: str | None) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", error.field), "msg": str(error), "input": value}]
    )


def _base_url(state: State) -> str:
    return str(state.settings.base_url).rstrip("/")


def _cache(request: Request) -> HttpCache:
    cache: HttpCache = request.app.state.http_cache
    return cache


def _load(
    state: State, slug: str, options: WidgetOptions, headers: dict[str, str] | None = None
) -> embed.Widget:
    """The widget's data; 404 for an exchange that is not published. A party it does not have
    raises OptionError (each route answers it its way)."""
    with Session(state.engine) as session:
        widget = embed.load_widget(session, slug=slug, options=options)
    if widget is None:
        detail = f"No exchange with slug {slug!r}"
        raise HTTPException(status_code=404, detail=detail, headers=headers)
    return widget


def _load_or_422(state: State, slug: str, options: WidgetOptions) -> embed.Widget:
    try:
        return _load(state, slug, options)
    except OptionError as error:
        raise _invalid(error, ",".join(options.parties)) from None


def _unavailable(
    state: State, params: Mapping[str, str], unavailable: embed.Unavailable
) -> Response:
    """The small widget that stands in an article's frame for one that cannot be shown, with
    the status a script would expect (404, or 422 for a bad option); never cached."""
    options = embed.lenient_options(params)
    rendered = embed.render_unavailable(state.templates, unavailable, options)
    headers = dict(rendered.headers)
    return Response(rendered.body, status_code=unavailable.status_code, headers=headers)


def _render_widget(
    state: State, slug: str, options: WidgetOptions, params: Mapping[str, str]
) -> Rendered | Response:
    with Session(state.engine) as session:
        try:
            widget = embed.load_widget(session, slug=slug, options=options)
        except OptionError as error:  # a party the exchange does not have
            return _unavailable(state, params, embed.Unavailable(slug, error))
    if widget is None:
        return _unavailable(state, params, embed.Unavailable(slug))
    return embed.render_widget(state.templates, widget, base_url=_base_url(state))


async def widget(request: Request) -> Response:
    """The tally widget for an iframe: standalone, sizes itself, stays live (README, "Embedding").
    An exchange that is not published, or an option it cannot use, gets a small widget saying
    so (404, 422), sized like any other. Its route's CachedEmbed answers what the cache holds.
    """
    slug: str = request.path_params["slug"]
    params = request.query_params
    state = request.app.state
    try:
        options = WidgetOptions.from_query(params)
    except OptionError as error:
        unavailable = embed.Unavailable(slug, error)
        return await run_in_threadpool(_unavailable, state, params, unavailable)

    async def render() -> Rendered | Response:
        return await run_in_threadpool(_render_widget, state, slug, options, params)

    return await _cache(request).respond(request, ("widget", slug, options), render)  # _widget_key


@functools.lru_cache(maxsize=256)
def _cached_options(query_string: bytes) -> WidgetOptions | None:
    """The options of a query string, None when one is bad (`widget` answers that)."""
    try:
        return WidgetOptions.from_query(QueryParams(query_string))
    except OptionError:
        return None


def _if_none_match(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return str(value.decode("latin-1"))
    return None


@dataclasses.dataclass(frozen=True)
class _RawAnswers:
    """A cached widget's 200 and 304 as ASGI headers, made once by `HttpCache.answer` itself."""

    rendered: Rendered
    cache: HttpCache
    ok: list[tuple[bytes, bytes]]
    not_modified: list[tuple[bytes, bytes]]


class CachedEmbed:
    """An embed's route as an ASGI app: an answer the render cache holds for the current data
    revision goes out as it is, with the headers `HttpCache.answer` gives it, made once per
    body; anything else (the first render, a bad option, an unknown exchange, HEAD) goes to
    `endpoint`, a request-response function like any other route's. `key` gives the cache key
    that `endpoint` uses for a GET's path parameters and query string, or None to leave it all
    to `endpoint`.

    Plain ASGI because cached embeds are what front pages load: FastAPI's parameter handling
    cost the widget a third of its speed, and Request, Response and their headers another fifth.
    """

    MAX_KEPT = 256  # bodies whose headers are kept; a new data revision brings new bodies

    def __init__(
        self,
        endpoint: Callable[[Request], Awaitable[Response]],
        key: Callable[[dict[str, str], bytes], Hashable | None],
    ) -> None:
        self.render_and_answer = request_response(endpoint)
        self.key = key
        self._answers: dict[int, _RawAnswers] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self.key(scope["path_params"], scope["query_string"])
        if key is not None and scope["method"] == "GET":
            cache: HttpCache = scope["app"].state.http_cache
            revision = await cache.revision.current()
            rendered = None if revision is None else cache.renders.get(key, revision)
            if rendered is not None:
                metrics.count_cache("http", hit=True)
                answers = self._raw_answers(cache, rendered)
                if etag_matches(_if_none_match(scope), rendered.etag):
                    status, headers, body = 304, answers.not_modified, b""
                else:
                    status, headers, body = 200, answers.ok, rendered.body
                start = {"type": "http.response.start", "status": status, "headers": [*headers]}
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
        await self.render_and_answer(scope, receive, send)

    def _raw_answers(self, cache: HttpCache, rendered: Rendered) -> _RawAnswers:
        answers = self._answers.get(id(rendered))
        if answers is None or answers.rendered is not rendered or answers.cache is not cache:
            if len(self._answers) >= self.MAX_KEPT:
                self._answers.clear()
            revalidating = Request({"type": "http", "headers": [(b"if-none-match", b"*")]})
            answers = _RawAnswers(
                rendered,
                cache,
                ok=cache.answer(Request({"type": "http", "headers": []}), rendered).raw_headers,
                not_modified=cache.answer(revalidating, rendered).raw_headers,
            )
            self._answers[id(rendered)] = answers
        return answers


def _widget_key(path_params: dict[str, str], query_string: bytes) -> Hashable | None:
    options = _cached_options(query_string)
    return None if options is None else ("widget", path_params["slug"], options)


widget_route = Route(
    "/embed/{slug:slug}", CachedEmbed(widget, _widget_key), methods=["GET"], include_in_schema=False
)


def _render_image(
    state: State, slug: str, options: WidgetOptions, size: ImageOptions, image_format: str
) -> Rendered:
    widget = _load_or_422(state, slug, options)
    return embed.render_image(
        state.templates, widget, size, image_format, base_url=_base_url(state)
    )


def _wants_picture(request: Request) -> bool:
    """An <img> asks for images (Accept: image/avif,image/webp,…): it gets its error as a
    picture; scripts and tools keep the JSON error naming the parameter."""
    return "image/" in request.headers.get("accept", "")


def _error_picture(image_format: str, status: int, message: str) -> Response:
    """What an <img> shows instead of a broken image: the reason, as a small picture, with the
    status code the error has anyway."""
    svg = images.render_error_svg(message)
    body = images.rasterise(svg) if image_format == "png" else svg.encode()
    headers = {"cache-control": "no-store", "vary": "Accept", CORS[0]: CORS[1]}
    if image_format == "svg":
        headers["content-security-policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return Response(body, status, headers=headers, media_type=embed.IMAGE_FORMATS[image_format])


async def image(request: Request) -> Response:
    """The tally as a picture for newsletters, AMP and social cards (README, "Embedding"): the
    widget's options, with `w` and `h` in pixels, or `og=1` for 1200 x 630. An unknown exchange
    or a bad option is a small picture saying so (404, 422)."""
    slug: str = request.path_params["slug"]
    image_format: str = request.path_params["format"]
    try:
        options = WidgetOptions.from_query(request.query_params)
        size = ImageOptions.from_query(request.query_params)
    except OptionError as error:
        if not _wants_picture(request):
            raise _invalid(error, request.query_params.get(error.field)) from None
        message = f"Swap Tally: {error.field}: {error}"
        return await run_in_threadpool(_error_picture, image_format, 422, message)
    options = dataclasses.replace(options, view="bar")  # one picture for every view
    state = request.app.state

    async def render() -> Rendered:
        return await run_in_threadpool(_render_image, state, slug, options, size, image_format)

    key = ("image", image_format, slug, options, size)  # as _image_key gives it
    if not _wants_picture(request):
        return await _cache(request).respond(request, key, render)
    try:
        return await _cache(request).respond(request, key, render)
    except HTTPException as error:  # no such exchange
        message = "Swap Tally: no published exchange at this address"
        return await run_in_threadpool(_error_picture, image_format, error.status_code, message)
    except RequestValidationError as error:  # a party the exchange does not have
        message = "Swap Tally: " + "; ".join(str(e.get("msg", "")) for e in error.errors())
        return await run_in_threadpool(_error_picture, image_format, 422, message)


@functools.lru_cache(maxsize=256)
def _cached_image_options(query_string: bytes) -> tuple[WidgetOptions, ImageOptions] | None:
    """An image's options (the widget's, drawn as bars, and its size), None when one is bad."""
    params = QueryParams(query_string)
    try:
        options, size = WidgetOptions.from_query(params), ImageOptions.from_query(params)
    except OptionError:
        return None
    return dataclasses.replace(options, view="bar"), size


def _image_key(path_params: dict[str, str], query_string: bytes) -> Hashable | None:
    found = _cached_image_options(query_string)
    if found is None:
        return None
    options, size = found
    return ("image", path_params["format"], path_params["slug"], options, size)


image_route = Route(
    "/embed/{slug:slug}.{format:image_format}",
    CachedEmbed(image, _image_key),
    methods=["GET"],
    include_in_schema=False,
)
# create_app places these first among the app's routes: no other route is tried before them.
FIRST_ROUTES = (widget_route, image_route)


def not_a_widget(request: Request) -> Response:
    """Any other address under /embed/ (no such slug can exist: capitals, a trailing slash)
    is a missing widget too, in its frame; one that names a picture stays a JSON 404."""
    rest: str = request.path_params["rest"]
    if rest.endswith(tuple(f".{name}" for name in embed.IMAGE_FORMATS)):
        raise HTTPException(status_code=404, detail="Not Found")
    unavailable = embed.Unavailable(slug=rest[:100])
    return _unavailable(request.app.state, request.query_params, unavailable)


# The widget's and the images' routes come first of all (FIRST_ROUTES): this never shadows them.
router.add_route("/embed/{rest:path}", not_a_widget, methods=["GET"], include_in_schema=False)


@functools.cache
def _host_script() -> Rendered:
    body = (PROJECT_ROOT / "static" / "embed.js").read_bytes()
    return Rendered.of(body, "text/javascript; charset=utf-8", [CORS])


@router.get("/embed.js", response_class=Response, include_in_schema=False)
async def host_script(request: Request) -> Response:
    """Our host script: `<div data-swaptally="{slug}">` to iframes, and iframes sized."""
    return _cache(request).answer(request, _host_script())


def _render_oembed(
    state: State, slug: str, options: WidgetOptions, maxwidth: int | None, maxheight: int | None
) -> Rendered:
    try:
        widget = _load(state, slug, options, headers=dict([CORS]))
    except OptionError as error:  # a party the exchange does not have, in the widget's address
        raise _bad_url(f"{error.field}: {error}") from None
    found = embed.oembed_response(
        state.templates,
        widget,
        base_url=_base_url(state),
        cache_age=state.settings.cache_max_age,
        maxwidth=maxwidth,
        maxheight=maxheight,
    )
    body = json.dumps(found, ensure_ascii=False, separators=(",", ":")).encode()
    return Rendered.of(body, "application/json", [CORS])


def _bad_url(message: str) -> HTTPException:
    detail = [{"type": "value_error", "loc": ["query", "url"], "msg": message}]
    return HTTPException(status_code=400, detail=detail, headers=dict([CORS]))


OEMBED_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "`url` is not an absolute http(s) address, or names a bad option"},
    404: {"description": "`url` is not an exchange page or widget of this site"},
    501: {"description": "A `format` other than json (empty is json)"},
}


@router.get("/oembed", responses=OEMBED_ERRORS, response_class=JSONResponse)
async def oembed(
    request: Request,
    url: Annotated[
        str,
        Query(
            description="An exchange page or widget address",
            json_schema_extra={"format": "uri", "pattern": "^https?://[^/?#]"},
        ),
    ],
    response_format: Annotated[str, Query(alias="format", description="json")] = "json",
    maxwidth: Annotated[int | None, Query(ge=1, le=10000)] = None,
    maxheight: Annotated[int | None, Query(ge=1, le=10000)] = None,
) -> Response:
    """oEmbed (oembed.com) for exchange pages and widgets: a `rich` answer whose html is the
    embed code without its script."""
    if response_format not in ("json", ""):  # empty: as if not given
        raise HTTPException(501, detail="Only format=json is available", headers=dict([CORS]))
    state = request.app.state
    try:
        slug, options = embed.embedded_slug(url, _base_url(state))
    except OptionError as error:
        raise _bad_url(f"{error.field}: {error}") from None
    except embed.UnknownUrl:
        detail = "Not an exchange or widget address of this site"
        raise HTTPException(404, detail=detail, headers=dict([CORS])) from None
    except ValueError as error:
        raise _bad_url(str(error)) from None

    async def render() -> Rendered:
        return await run_in_threadpool(_render_oembed, state, slug, options, maxwidth, maxheight)

    key = ("oembed", slug, options, maxwidth, maxheight)
    return await _cache(request).respond(request, key, render)
