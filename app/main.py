"""The application factory: database, templates, routers, static files and error bodies."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

from asgi_csrf import asgi_csrf
from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from itsdangerous import Signer
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.caching import HttpCache
from app.db import make_engine
from app.deps import SignInRequired
from app.middleware import SecurityHeaders
from app.ops import register_ops
from app.routes import admin, api, api_write, auth, editor, embed, feeds, public
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
    app.state.http_cache = HttpCache(app.state.engine, settings)
    app.state.session_signer = Signer(settings.signing_secret(), salt="swaptally.session")
    # Browser libraries come from npm (package.json); `make` installs them under node_modules.
    app.mount(
        "/static/vendor/htmx",
        StaticFiles(directory=PROJECT_ROOT / "node_modules/htmx.org/dist", check_dir=False),
        name="htmx",
    )
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")
    app.include_router(api.router)
    app.include_router(api_write.router)
    app.include_router(public.router)
    app.include_router(embed.router)
    app.include_router(feeds.router)
    app.include_router(auth.router)
    app.include_router(editor.router)
    app.include_router(admin.router)
    register_ops(app)  # before the other middleware, so its request metrics see the route
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SignInRequired, _sign_in_first)
    # Double-submit CSRF tokens on every state-changing request from a browser; requests with
    # a Bearer token carry no cookie authority and are exempt (asgi-csrf does that itself).
    app.add_middleware(
        asgi_csrf,
        signing_secret=settings.signing_secret(),
        always_protect={"/login"},
        skip_if_scope=editor.checks_own_csrf,
        cookie_secure=settings.secure_cookies,
        cookie_samesite="Lax",
    )
    app.add_middleware(SecurityHeaders)
    return app


async def _sign_in_first(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


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
