"""HTTP caching for what newsrooms embed and scripts poll: bodies rendered once per data revision
and kept in process, strong ETags, Cache-Control with stale-while-revalidate, and 304s.

A body is kept under the data revision read *before* rendering it (app/data_revision.py), so
it is never older than its key says; any write moves the revision and every worker renders
afresh. A process trusts the revision it read for at most REVISION_HOLD_SECONDS (never longer than
CACHE_MAX_AGE; not at all in tests), so an editor's change shows everywhere within max-age plus
that second plus one widget poll. The ETag is a hash of the body: it survives edits to other
exchanges and changes with a deploy that changes the markup.
"""

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from sqlalchemy import Engine, event
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app import data_revision, deps, i18n, metrics, templating
from app.settings import Settings

REVISION_HOLD_SECONDS = 1.0
# Bodies kept per worker: widgets (8 KB each) and API answers; readers' pages (40 KB each). A
# worker's whole budget is 150 MB at 20,000 stages, 110 of them the code (make bench prints it).
MAX_CACHED_BYTES = 16 * 1024 * 1024
MAX_CACHED_PAGE_BYTES = 8 * 1024 * 1024
MAX_CACHED_BODY = 1024 * 1024  # larger bodies (whole CSV exports) are answered, not kept
KEPT_ON_304 = {"access-control-allow-origin", "vary"}  # a cross-origin poll revalidates too
# A signed-in editor's page, an error, a redirect: for nobody else, kept by nobody.
NOT_STORED = "private, no-store"
# Sets this browser's language cookie: its own browser may keep it, no shared cache may.
THIS_BROWSER_ONLY = "private, no-cache"


@dataclass(frozen=True)
class Rendered:
    """A 200 answer as it will be sent again: body, headers (content type first) and ETag."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str

    @classmethod
    def of(
        cls, body: bytes, content_type: str, headers: Iterable[tuple[str, str]] = ()
    ) -> "Rendered":
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(
            body=body, headers=(("content-type", content_type), *headers), etag=f'"{digest}"'
        )


class RevisionReader:
    """The data revision, read with one primary-key query and then trusted for `hold` seconds."""

    def __init__(
        self, engine: Engine, *, hold: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self.hold = hold
        self.clock = clock
        self._value: int | None = None
        self._read_at: float | None = None

    def read(self) -> int | None:
        with self.engine.connect() as connection:
            value = data_revision.read(connection)
        self._value, self._read_at = value, self.clock()
        return value

    def forget(self) -> None:
        """Read afresh next time: this process has just written."""
        self._read_at = None

    async def current(self) -> int | None:
        if self._read_at is not None and self.clock() - self._read_at < self.hold:
            return self._value
        return await run_in_threadpool(self.read)


class RenderCache:
    """Rendered bodies by key, each with the revision it was rendered at; least recently used
    entries go first once the bodies pass `max_bytes`."""

    def __init__(self, max_bytes: int = MAX_CACHED_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[int, Rendered]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, revision: int) -> Rendered | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != revision:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, revision: int, rendered: Rendered) -> None:
        if len(rendered.body) > MAX_CACHED_BODY:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1].body)
            self._entries[key] = (revision, rendered)
            self._bytes += len(rendered.body)
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)

    def __len__(self) -> int:
        return len(self._entries)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match's weak comparison: any listed tag, W/ or not, or `*`."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


class HttpCache:
    """What a route needs to answer from the cache: `await app.state.http_cache.respond(...)`."""

    def __init__(
        self, engine: Engine, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        # Tests write through engines of their own, and must see each write at once.
        hold = 0.0 if settings.environment == "test" else REVISION_HOLD_SECONDS
        hold = min(hold, float(settings.cache_max_age))
        self.revision = RevisionReader(engine, hold=hold, clock=clock)
        # A writer sees its own change at once; other processes within `hold`.
        event.listen(engine, "commit", lambda _connection: self.revision.forget())
        self.renders = RenderCache()
        # Readers' pages apart: a crawl of timeline searches must not push hot widgets out.
        self.pages = RenderCache(MAX_CACHED_PAGE_BYTES)
        self._rendering: dict[Hashable, asyncio.Future[Rendered | None]] = {}
        self.cache_control = (
            f"public, max-age={settings.cache_max_age}, "
            f"stale-while-revalidate={settings.cache_stale_while_revalidate}"
        )

    async def respond(
        self,
        request: Request,
        key: Hashable,
        render: Callable[[], Awaitable[Rendered | Response]],
        *,
        store: RenderCache | None = None,
    ) -> Response:
        """The cached body for `key` if it was rendered at the current revision, else `render()`'s.

        `render` may return a Response instead (an error, or anything not to keep): it is sent
        as it is. Exceptions from it propagate (404s and 422s become error answers). Bodies are
        kept in `store`, by default `renders`.
        """
        store = self.renders if store is None else store
        revision = await self.revision.current()
        rendered = None if revision is None else store.get(key, revision)
        metrics.count_cache("http", hit=rendered is not None)
        if rendered is None:
            produced = await (
                render() if revision is None else self._render_once(key, revision, render)
            )
            if isinstance(produced, Response):
                return produced
            rendered = produced
            if revision is not None:
                store.put(key, revision, rendered)
        return self.answer(request, rendered)

    async def _render_once(
        self, key: Hashable, revision: int, render: Callable[[], Awaitable[Rendered | Response]]
    ) -> Rendered | Response:
        """One render per key and revision at a time: requests that come while it runs wait
        for its body instead of rendering it again (after an edit, a hot page would otherwise
        be rendered by every request in flight). An error, or an answer not to keep, is each
        request's own: the waiting ones then render for themselves."""
        flight = (key, revision)
        pending = self._rendering.get(flight)
        if pending is not None:
            shared = await asyncio.shield(pending)
            return shared if shared is not None else await render()
        future: asyncio.Future[Rendered | None] = asyncio.get_running_loop().create_future()
        self._rendering[flight] = future
        try:
            produced = await render()
        except BaseException:
            future.set_result(None)
            raise
        else:
            future.set_result(produced if isinstance(produced, Rendered) else None)
            return produced
        finally:
            del self._rendering[flight]

    def answer(self, request: Request, rendered: Rendered) -> Response:
        """200 with the body, or 304 when the client holds it already; both with ETag and
        Cache-Control (and the body's own headers, such as CORS)."""
        if etag_matches(request.headers.get("if-none-match"), rendered.etag):
            headers = {n: v for n, v in rendered.headers if n in KEPT_ON_304}
            headers |= {"etag": rendered.etag, "cache-control": self.cache_control}
            return Response(status_code=304, headers=headers)
        headers = dict(rendered.headers)
        headers |= {"etag": rendered.etag, "cache-control": self.cache_control}
        return Response(rendered.body, headers=headers)


def rendered_from(response: Response) -> Rendered | Response:
    """A route's 200 answer as Rendered; any other answer stays a Response (never cached)."""
    body = getattr(response, "body", None)
    if (
        response.status_code != 200
        or not isinstance(body, bytes)
        or "set-cookie" in response.headers
    ):
        return response
    skipped = {"content-type", "content-length", "etag", "cache-control"}
    extra = [(name, value) for name, value in response.headers.items() if name not in skipped]
    return Rendered.of(body, response.headers.get("content-type", "application/json"), extra)


class CachedRoute(APIRoute):
    """Read routes whose answers depend only on the data and the URL: cached per revision under
    the full URL (the host too: `next` links are absolute), with ETag and 304."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            cache: HttpCache = request.app.state.http_cache

            async def render() -> Rendered | Response:
                return rendered_from(await handler(request))

            return await cache.respond(request, ("route", str(request.url)), render)

        return route_handler


def _without_language_cookie(response: Response) -> Response:
    """The response without the language cookie it sets (the page route sets it per request,
    cached or not); any other cookie stays, and keeps the response out of the cache."""
    cookies = response.headers.getlist("set-cookie")
    del response.headers["set-cookie"]
    for cookie in cookies:
        if not cookie.startswith(f"{i18n.LANG_COOKIE}="):
            response.headers.append("set-cookie", cookie)
    return response


def is_signed_in(request: Request) -> bool:
    """Whether the browser sends a session cookie (valid or not: a proxy can tell only that)."""
    return bool(request.cookies.get(deps.session_cookie_name(request)))


def page_key(request: Request) -> Hashable:
    """All a public page depends on besides the data: its address, its language, whether htmx
    asks (for a partial, or a history restore), and the day (tallies count up to today;
    citations say when they were accessed)."""
    today = request.app.dependency_overrides.get(deps.today, deps.today)()
    locale, _ = i18n.negotiate(request)
    htmx = tuple(request.headers.get(name) == "true" for name in templating.HTMX_HEADERS)
    return ("page", str(request.url), locale, htmx, today)


class CachedPageRoute(APIRoute):
    """Pages for readers: an anonymous reader's GET is answered from the cache per data revision
    (as CachedRoute's, keyed by page_key) with `Cache-Control: public`, so that a proxy or CDN
    may keep it too; a signed-in browser's, an error and a redirect are rendered for it alone
    and marked so no one keeps them. The Vary header (templating.VARY) names the request
    headers the page depends on; deploy/nginx.conf keys on the same, normalized."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def not_stored(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as error:  # its error page is answered with these headers
                error.headers = {**(error.headers or {}), "cache-control": NOT_STORED}
                raise
            response.headers["cache-control"] = NOT_STORED
            return response

        async def route_handler(request: Request) -> Response:
            if request.method != "GET" or is_signed_in(request):
                return await not_stored(request)
            cache: HttpCache = request.app.state.http_cache

            async def render() -> Rendered | Response:
                return rendered_from(_without_language_cookie(await not_stored(request)))

            response = await cache.respond(request, page_key(request), render, store=cache.pages)
            shared = response.headers.get("cache-control", "").startswith("public")
            if templating.remember_language(request, response) and shared:
                response.headers["cache-control"] = THIS_BROWSER_ONLY
            return response

        return route_handler
