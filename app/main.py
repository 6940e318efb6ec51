"""The application factory: logging, database, templates, routers, static files, middleware and
error bodies."""

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from itsdangerous import Signer
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import logs
from app.caching import HttpCache
from app.csrf import PRE_SESSION_COOKIE, CsrfProtection
from app.db import make_engine
from app.deps import SESSION_COOKIE, SignInRequired
from app.middleware import BodySizeLimit, RequestContext, SecurityHeaders
from app.ops import register_ops
from app.routes import admin, api, api_write, auth, editor, embed, feeds, icons, public
from app.settings import PROJECT_ROOT, Settings
from app.templating import make_templates, render

# Errors here keep FastAPI's JSON body; everywhere else a person gets a page.
MACHINE_PREFIXES = ("/api/", "/static/", "/oembed", "/healthz", "/readyz", "/metrics")
MACHINE_SUFFIXES = (".atom", ".csv", ".json", ".svg", ".png", ".js")
MAX_BODY_BYTES = 1024 * 1024
# Paths that take larger bodies: the CSV upload of the import page, with room for the form
# around a file just too big, so that its editor reads why beside the field rather than a 413.
BODY_ALLOWANCES = {"/editor/import": editor.MAX_IMPORT_BODY_BYTES}
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
# Handlers running at once in a worker's threads (anyio's default: 40). Renders hold the GIL, so
# more at once add no speed, only memory: 16 clients rendering pages of 20,000 stages took a
# worker to 236 MB with 40 threads, 193 MB with 8 (the same requests per second). Below the
# database pool's 15 connections, so a handler never waits for one.
WORKER_THREADS = 8


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    logs.configure()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="Swap Tally",
        summary="Prisoner exchanges, stage by stage, with a running tally against the target.",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # served below, with its own Content-Security-Policy
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.templates = make_templates()
    app.state.http_cache = HttpCache(app.state.engine, settings)
    app.state.session_signer = Signer(settings.signing_secret(), salt="swaptally.session")
    # Cached embeds are what front pages load: their routes are tried before any other.
    app.router.routes[:0] = embed.FIRST_ROUTES
    # Browser libraries come from npm (package.json); `make` installs them under node_modules.
    app.mount(
        "/static/vendor/htmx",
        StaticFiles(directory=PROJECT_ROOT / "node_modules/htmx.org/dist", check_dir=False),
        name="htmx",
    )
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")
    app.add_api_route("/docs", _api_docs, include_in_schema=False)
    app.include_router(api.router)
    app.include_router(api_write.router)
    app.include_router(public.router)
    app.include_router(embed.router)
    app.include_router(feeds.router)
    app.include_router(icons.router)
    app.include_router(auth.router)
    app.include_router(editor.router)
    app.include_router(admin.router)
    register_ops(app)  # before the other middleware, so its request metrics see the route
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(SignInRequired, _sign_in_first)
    # Outermost last. The body limit comes before the CSRF check, which reads a form's body.
    app.add_middleware(
        CsrfProtection,
        secret=settings.signing_secret(),
        session_cookie=settings.cookie_name(SESSION_COOKIE),
        pre_session_cookie=settings.cookie_name(PRE_SESSION_COOKIE),
        secure=settings.secure_cookies,
        base_url=settings.base_url,
        error_response=error_response,
    )
    app.add_middleware(
        BodySizeLimit,
        limit=MAX_BODY_BYTES,
        allowances=BODY_ALLOWANCES,
        error_response=error_response,
    )
    app.add_middleware(RequestContext, error_response=error_response)
    app.add_middleware(SecurityHeaders, hsts=settings.base_url.startswith("https://"))
    return app


def is_machine_path(path: str) -> bool:
    return path.startswith(MACHINE_PREFIXES) or path.endswith(MACHINE_SUFFIXES)


def error_response(request: Request, status_code: int, detail: Any) -> Response:
    """An error as JSON for machines, as a page in the reader's language for people. A 5xx
    shows its request id and nothing else: never the exception, never a setting."""
    request_id = logs.request_id.get() if status_code >= 500 else None
    if is_machine_path(request.url.path):
        body = {"detail": detail} | ({"request_id": request_id} if request_id else {})
        return JSONResponse(body, status_code=status_code)
    context = {"status_code": status_code, "detail": detail, "request_id": request_id}
    return render(request, "error.html", context, status_code=status_code)


async def _sign_in_first(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Readers get an error page in their language; the API and feeds keep their JSON body."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        exc = StarletteHTTPException(405, exc.detail, {"Allow": _allowed_methods(request, exc)})
    if is_machine_path(request.url.path):
        return await http_exception_handler(request, exc)
    response = error_response(request, exc.status_code, exc.detail)
    response.headers.update(exc.headers or {})
    return response


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, naming each field, for any input: a body may hold what JSON cannot say
    back (1e309 reads as infinity, NaN, lone surrogates that UTF-8 cannot encode), so such an
    error echoes its input as JSON text, escaped, rather than failing to render. A page whose
    path names no row there can be (an id past the database's integers) is a 404 page."""
    assert isinstance(exc, RequestValidationError)
    in_path = any(error["loc"][:1] == ("path",) for error in exc.errors())
    if in_path and not is_machine_path(request.url.path):
        return error_response(request, 404, "Not Found")
    return JSONResponse({"detail": [_renderable(error) for error in exc.errors()]}, 422)


def _renderable(error: Any) -> Any:
    error = jsonable_encoder(error)
    try:
        json.dumps(error, ensure_ascii=False, allow_nan=False).encode()
    except (ValueError, UnicodeEncodeError):
        return {
            "type": error["type"],
            "loc": [_escaped(part) for part in error["loc"]],
            "msg": _escaped(error["msg"]),
            "input": json.dumps(error.get("input"), default=str),  # ASCII: escapes surrogates
        }
    return error


def _escaped(value: Any) -> Any:
    return value.encode(errors="backslashreplace").decode() if isinstance(value, str) else value


def _allowed_methods(request: Request, exc: StarletteHTTPException) -> str:
    """The methods of every operation on this path in the OpenAPI document: the router's 405
    names those of one route only, and the public API (GET) and the editors' (PATCH) share
    paths."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    for template, operations in paths.items():
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}/]+\}", template))
        if re.fullmatch(pattern, request.url.path):
            methods = {method.upper() for method in operations}
            return ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
    return (exc.headers or {}).get("Allow", "")


def _api_docs(request: Request) -> Response:
    """FastAPI's Swagger UI, with a policy that lets in its assets from the CDN and its one
    inline script (by hash), nothing else; like every page but embeds, it cannot be framed."""
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="Swap Tally API",
        swagger_js_url=f"{SWAGGER_UI}swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}swagger-ui.css",
        swagger_favicon_url="data:,",
    )
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in re.findall(rb"<script>(.*?)</script>", page.body, flags=re.DOTALL)
    )
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {SWAGGER_UI}swagger-ui-bundle.js {hashes}; "
        f"style-src {SWAGGER_UI}swagger-ui.css 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return page
