"""Prometheus metrics: requests and latencies by route template, cache hits, tally computations.

The metrics are module-level, as prometheus-client expects, so any module can count with
`count_cache(...)` or `count_tallies(...)`. With several workers (`swaptally serve --workers N`),
the command points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers start; each
worker then writes its figures there and /metrics adds them up, whichever worker answers.
"""

import os
import time
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import REGISTRY
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "<unmatched>"  # every path no route serves counts as one label value
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "swaptally_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "swaptally_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
)
CACHE_HITS = Counter("swaptally_cache_hits", "Answers served from the app's cache.", ["kind"])
CACHE_MISSES = Counter("swaptally_cache_misses", "Answers the app's cache did not have.", ["kind"])
TALLY_COMPUTATIONS = Counter(
    "swaptally_tally_computations", "Exchange tallies computed from the stages."
)


# Each label set's child, looked up once: `labels()` checks and locks on every call, which was
# a tenth of a cached widget's time. Label values are few (route templates, fixed kinds).
_cache_counters: dict[tuple[str, bool], Counter] = {}


def count_cache(kind: str, *, hit: bool) -> None:
    """Count one look-up in an in-app cache; `kind` names the cache (a few fixed values)."""
    counter = _cache_counters.get((kind, hit))
    if counter is None:
        counter = (CACHE_HITS if hit else CACHE_MISSES).labels(kind=kind)
        _cache_counters[(kind, hit)] = counter
    counter.inc()


def count_tallies(computed: int = 1) -> None:
    TALLY_COMPUTATIONS.inc(computed)


def exposition() -> tuple[bytes, str]:
    """The text /metrics serves: this process's figures, or every worker's added up."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class RouteTemplates:
    """The path template of the route that served a request (`/exchanges/{slug}`), never the
    raw path, so the number of label values stays bounded whatever clients ask for."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self.routes = routes
        self._leaves: list[BaseRoute] | None = None
        self._by_endpoint: dict[int, str] = {}

    def of(self, scope: Scope, request: Callable[[], Scope]) -> str:
        """`scope` after the app has answered, `request()` as it came in."""
        template = getattr(scope.get("route"), "path_format", None)  # FastAPI's own routes
        if isinstance(template, str):
            return template
        leaves = self._routes()
        endpoint = scope.get("endpoint")  # Starlette's routes and mounts leave their endpoint
        if endpoint is not None and id(endpoint) in self._by_endpoint:
            return self._by_endpoint[id(endpoint)]
        # Not recorded where this middleware can see it (or nothing matched): match again.
        asked = request()
        route = next((r for r in leaves if r.matches(asked)[0] == Match.FULL), None)
        template = getattr(route, "path_format", None)
        return template if isinstance(template, str) else UNMATCHED_ROUTE

    def _routes(self) -> list[BaseRoute]:
        """Every route that answers requests itself, read once the app is complete (FastAPI
        keeps each included router as one node that holds its routes)."""
        if self._leaves is None:
            self._leaves = _leaves(self.routes)
            for route in reversed(self._leaves):  # the first of equal endpoints wins
                endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
                template = getattr(route, "path_format", None)
                if endpoint is not None and isinstance(template, str):
                    self._by_endpoint[id(endpoint)] = template
        return self._leaves


def _leaves(routes: Iterable[BaseRoute]) -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for route in routes:
        router = getattr(route, "original_router", None)
        found += _leaves(router.routes) if router is not None else [route]
    return found


class RequestMetrics:
    """ASGI middleware counting each HTTP request and its latency by route template."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.templates = RouteTemplates(routes)
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def _count(self, method: str, route: str, status: int, seconds: float) -> None:
        children = self._children.get((method, route, status))
        if children is None:
            children = (
                REQUESTS.labels(method=method, route=route, status=str(status)),
                LATENCY.labels(method=method, route=route),
            )
            self._children[(method, route, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app starts a response
        recorded = False
        # As it came in: routing changes the scope (a mount's root path).
        path, method, root_path = scope["path"], scope["method"], scope.get("root_path", "")

        def request() -> Scope:
            return {"type": "http", "path": path, "method": method, "root_path": root_path}

        def record() -> None:
            nonlocal recorded
            recorded = True
            route = self.templates.of(scope, request)
            counted = method if method in METHODS else "other"
            self._count(counted, route, status, time.perf_counter() - started)

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()  # before the client has it all, so /metrics never lags behind it
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            if not recorded:  # the app failed, or the client left, before the last byte
                record()
