"""Pure ASGI middleware: security headers, request ids with an access log and the 500 answer,
and a limit on request bodies. Pure ASGI, and no work a request does not need, because a
cached widget is answered in tens of microseconds and every layer adds to it (`make bench`).
The CSRF check is app/csrf.py."""

import logging
import time
from collections.abc import Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import logs

# The error body for a request: a page in the reader's language, or JSON for machines.
ErrorResponder = Callable[[Request, int, str], Response]

FRAMEABLE_PREFIXES = ("/embed/", "/embed.js")
# Pages for one signed-in person (a new API token, CSRF tokens, unpublished drafts) or for signing
# in: no browser history, proxy or CDN may keep them, whatever the answer.
PRIVATE_PATHS = ("/editor", "/admin", "/login", "/logout")
# Scripts, styles and everything else from our origin only; no plugins, no <base> tricks.
# A route that needs more (the embed widget's hashes, the API docs) sets its own policy.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)
HSTS = "max-age=31536000"

error_log = logging.getLogger("swaptally.error")


def _header(name: str, value: str) -> tuple[bytes, bytes]:
    return name.lower().encode("latin-1"), value.encode("latin-1")


def _request_header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (`name` in lower case, as ASGI servers give it)."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def is_private_path(path: str) -> bool:
    return any(path == private or path.startswith(private + "/") for private in PRIVATE_PATHS)


class SecurityHeaders:
    """Adds each header the response does not set itself: only embeds may be framed, by anyone;
    private pages may not be stored."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        common = [
            _header("X-Content-Type-Options", "nosniff"),
            _header("Referrer-Policy", "strict-origin-when-cross-origin"),
        ]
        if hsts:
            common.append(_header("Strict-Transport-Security", HSTS))
        self.framed = [*common, _header("Content-Security-Policy", CSP.format(ancestors="*"))]
        self.unframed = [
            *common,
            _header("X-Frame-Options", "DENY"),
            _header("Content-Security-Policy", CSP.format(ancestors="'none'")),
        ]
        self.private = [*self.unframed, _header("Cache-Control", "no-store")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(FRAMEABLE_PREFIXES):
            defaults = self.framed
        else:
            defaults = self.private if is_private_path(path) else self.unframed

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [header for header in defaults if header[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestContext:
    """Gives each request an id (a sane X-Request-ID from the proxy, else a new one), echoes it,
    writes one access log line, and answers an unhandled error with a 500 that shows the id.

    Starlette's own 500 handler sits outside every middleware, so its answer would miss the
    security headers and the id: the error is caught here instead, logged, and not re-raised.
    """

    def __init__(self, app: ASGIApp, *, error_response: ErrorResponder) -> None:
        self.app = app
        self.error_response = error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = logs.incoming_or_new_id(_request_header(scope, b"x-request-id"))
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        token = logs.request_id.set(request_id)
        started_at = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                # A new list: a cached answer's headers are shared by every request.
                headers = [h for h in message.get("headers", ()) if h[0] != b"x-request-id"]
                message["headers"] = [*headers, id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception(
                "Unhandled error", extra={"method": scope["method"], "path": scope["path"]}
            )
            if not response_started:
                response = self._error_response(Request(scope, receive))
                await response(scope, receive, send_with_id)
        finally:
            duration_ms = round((time.perf_counter() - started_at) * 1000, 1)
            logs.log_access(scope["method"], scope["path"], status, duration_ms)
            logs.request_id.reset(token)

    def _error_response(self, request: Request) -> Response:
        try:
            return self.error_response(request, 500, "Internal Server Error")
        except Exception:  # the error page itself failed: say so plainly
            error_log.exception("The error page failed")
            request_id = logs.request_id.get()
            return PlainTextResponse(f"Internal Server Error (request id {request_id})", 500)


class RequestBodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit:,} bytes")


class BodySizeLimit:
    """Refuses a request body over the limit with 413: at once by its Content-Length, else by
    counting the bytes as they stream in (a chunked upload declares no length).

    It must sit outside the CSRF check, which may read a form's whole body to find its token.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        allowances: Mapping[str, int],
        error_response: ErrorResponder,
    ) -> None:
        self.app = app
        self.limit = limit
        self.allowances = dict(allowances)
        self.error_response = error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = "", False
        for key, value in scope["headers"]:
            if key == b"content-length" and not declared:
                declared = value.decode("latin-1")
            elif key == b"transfer-encoding":
                chunked = True
        if not chunked and declared in ("", "0"):
            # No Content-Length and no Transfer-Encoding: no body (RFC 9112, 6.3), nothing to
            # count. Every GET of a widget comes this way.
            await self.app(scope, receive, send)
            return
        limit = self.allowances.get(scope["path"], self.limit)
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        too_large = refused = started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise RequestBodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            # Once the body went over, whatever a parser made of our error, the answer is 413.
            nonlocal refused, started
            if too_large:
                if not started and not refused:
                    refused = True
                    await self._refuse(scope, receive, send, limit)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except RequestBodyTooLarge:
            if started:
                raise
            if not refused:
                await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = RequestBodyTooLarge(limit)
        response = self.error_response(Request(scope, receive), error.status_code, error.detail)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
