"""The application factory: database, templates, routers, static files and error bodies."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db import make_engine
from app.routes import api, feeds, public
from app.settings import PROJECT_ROOT, Settings
from app.templating import make_templates, render

# Errors here keep FastAPI's JSON body; everywhere else a person gets a page.
MACHINE_PREFIXES = ("/api/", "/static/", "/oembed", "/healthz", "/readyz", "/metrics")
MACHINE_SUFFIXES = (".atom", ".csv", ".json", ".svg", ".png", ".js")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="Swap Tally",
        summary="Prisoner exchanges, stage by stage, with a running tally against the target.",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.templates = make_templates()
    # Browser libraries come from npm (package.json); `make` installs them under node_modules.
    app.mount(
        "/static/vendor/htmx",
        StaticFiles(directory=PROJECT_ROOT / "node_modules/htmx.org/dist", check_dir=False),
        name="htmx",
    )
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")
    app.include_router(api.router)
    app.include_router(public.router)
    app.include_router(feeds.router)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    """Readers get an error page in their language; the API and feeds keep their JSON body."""
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    if path.startswith(MACHINE_PREFIXES) or path.endswith(MACHINE_SUFFIXES):
        return await http_exception_handler(request, exc)
    context = {"status_code": exc.status_code, "detail": exc.detail}
    response = render(request, "error.html", context, status_code=exc.status_code)
    response.headers.update(exc.headers or {})
    return response
