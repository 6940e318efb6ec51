"""Every route of the app with its full path, through FastAPI's included routers (which, since
FastAPI 0.165, are included lazily: `app.routes` holds the routers, not their routes)."""

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import Route


def app_routes(router: Any, prefix: str = "") -> Iterator[tuple[str, APIRoute | Route]]:
    """(full path, route) of each route; an included router's include context holds the prefix
    it is mounted under."""
    for route in router.routes:
        if isinstance(route, APIRoute | Route):
            yield prefix + route.path, route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from app_routes(included, prefix + route.include_context.prefix)
