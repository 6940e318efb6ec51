"""CSRF: synchronizer tokens bound to the browser's session, and an Origin check, on every unsafe
browser request. Pure ASGI; it reads cookies and form bodies only in ways that cannot raise.

A token is an HMAC of the session cookie (or, before sign-in, of a random pre-session cookie), so
it needs no server state across workers, and one browser's token is worthless in another's: an
attacker who plants their own cookie and token pair beside an editor's session gets a 403.
"""

import hashlib
import hmac
import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from fastapi import HTTPException
from starlette.datastructures import FormData, Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FIELD = "csrftoken"  # the forms' hidden field
HEADER = "x-csrftoken"  # what htmx sends (hx-headers on every editor page's body)
SCOPE_KEY = "csrftoken"  # templates call request.scope.csrftoken()
GUARD_KEY = "swaptally.csrf"
PRE_SESSION_COOKIE = "swaptally_csrf"  # `__Host-swaptally_csrf` behind https
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The JSON API authenticates with a Bearer token and never a cookie: nothing for a page to forge.
EXEMPT_PREFIXES = ("/api/",)
# Embeds are framed by other sites: they show no form and read no session, so a safe request
# there has no token to give or check, and skips even the cookie parsing (a cached widget is
# answered in tens of microseconds). An unsafe one is checked as anywhere else.
TOKENLESS_PREFIXES = ("/embed/", "/embed.js")
# Checked with no cookie too: a forged sign-in would put the editor in the attacker's account.
ALWAYS_PROTECTED = frozenset({"/login"})
# Multipart forms whose route compares the field itself, once it has parsed the form (`check_form`).
ROUTE_CHECKED_FORMS = frozenset({"/editor/import"})
MISSING = "The form's CSRF token is missing or stale: reload the page and try again."
CROSS_SITE = "This request came from another site, so it was refused."
URLSAFE = frozenset(string.ascii_letters + string.digits + "-_")

ErrorResponder = Callable[[Request, int, str], Response]


class TokenSigner:
    """Derives a binding's token with a key of its own, apart from the session cookie's."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"swaptally.csrf\x00" + secret.encode()).digest()

    def token(self, kind: str, value: str) -> str:
        message = f"{kind}\x00{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def _is_pre_session_value(value: str) -> bool:
    """One of ours (secrets.token_urlsafe); anything else is replaced by a new one."""
    return 32 <= len(value) <= 64 and set(value) <= URLSAFE


@dataclass
class RequestTokens:
    """One request's token: bound to its session cookie, else to its pre-session cookie, else
    (once a page asks for one) to a new pre-session cookie sent with the response."""

    signer: TokenSigner
    session: str
    pre_session: str
    checked: bool = False
    new_pre_session: str = ""

    def expected(self) -> str:
        if self.session:
            return self.signer.token("session", self.session)
        if self.pre_session:
            return self.signer.token("browser", self.pre_session)
        return ""

    def token(self) -> str:
        if not self.session and not self.pre_session:
            self.pre_session = self.new_pre_session = secrets.token_urlsafe(32)
        return self.expected()

    def matches(self, sent: object) -> bool:
        expected = self.expected()
        if not expected or not isinstance(sent, str):
            return False
        return hmac.compare_digest(sent.encode(), expected.encode())


def check_form(request: Request, form: FormData) -> None:
    """For a route in ROUTE_CHECKED_FORMS: the token of the multipart form it parsed itself,
    unless the middleware already checked the header."""
    guard: RequestTokens = request.scope[GUARD_KEY]
    if not guard.checked and not guard.matches(form.get(FIELD)):
        raise HTTPException(status_code=403, detail=MISSING)


def _origin(url: str) -> str | None:
    """scheme://host[:port] of a URL, lowercased; None when it has none or cannot be read."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class CsrfProtection:
    """Refuses an unsafe request with 403 unless it comes from our origin and carries its
    browser's token, in the X-CSRFToken header or a urlencoded form's `csrftoken` field.

    Requests with no cookie at all carry no authority to forge and pass (but /login), as do the
    API's paths; an Authorization header changes nothing. The body limit sits outside, so the
    form read here is bounded.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: str,
        session_cookie: str,
        pre_session_cookie: str,
        secure: bool,
        base_url: str,
        error_response: ErrorResponder,
    ) -> None:
        self.app = app
        self.signer = TokenSigner(secret)
        self.session_cookie = session_cookie
        self.pre_session_cookie = pre_session_cookie
        self.cookie_attributes = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        self.base_origin = _origin(base_url)
        self.error_response = error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] in SAFE_METHODS and scope["path"].startswith(TOKENLESS_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)  # latin-1: any bytes decode
        cookies = cookie_parser(headers.get("cookie", ""))
        pre_session = cookies.get(self.pre_session_cookie, "")
        guard = RequestTokens(
            self.signer,
            session=cookies.get(self.session_cookie, ""),
            pre_session=pre_session if _is_pre_session_value(pre_session) else "",
        )
        scope = {**scope, SCOPE_KEY: guard.token, GUARD_KEY: guard}
        send = self._sending_new_cookie(send, guard)
        if not self._needs_check(scope, headers):
            await self.app(scope, receive, send)
            return
        refusal, receive = await self._check(scope, receive, headers, guard)
        if refusal:
            response = self.error_response(Request(scope, receive), 403, refusal)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _needs_check(self, scope: Scope, headers: Headers) -> bool:
        path: str = scope["path"]
        if scope["method"] in SAFE_METHODS or path.startswith(EXEMPT_PREFIXES):
            return False
        return "cookie" in headers or path in ALWAYS_PROTECTED

    async def _check(
        self, scope: Scope, receive: Receive, headers: Headers, guard: RequestTokens
    ) -> tuple[str, Receive]:
        """Why the request is refused ("" when it is not), and the receive that replays what
        was read of its body."""
        if not self._same_origin(scope, headers):
            return CROSS_SITE, receive
        if HEADER in headers:
            guard.checked = guard.matches(headers[HEADER])
            return ("" if guard.checked else MISSING), receive
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type == "multipart/form-data" and scope["path"] in ROUTE_CHECKED_FORMS:
            return "", receive  # the route's check_form compares the parsed form's field
        if content_type != "application/x-www-form-urlencoded":
            return MISSING, receive
        body, replay = await _read_body(receive)
        fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        sent = next((value for name, value in fields if name == FIELD), None)
        guard.checked = guard.matches(sent)
        return ("" if guard.checked else MISSING), replay

    def _same_origin(self, scope: Scope, headers: Headers) -> bool:
        """The Origin (else the Referer's) is BASE_URL's or the request's own host, if either is
        sent: some browsers and privacy tools send neither, and the token still decides."""
        if "origin" in headers:
            sent = _origin(headers["origin"])  # "null" from sandboxes and data: pages: None
        elif "referer" in headers:
            sent = _origin(headers["referer"])
        else:
            return True
        own = f"{scope['scheme']}://{headers.get('host', '')}".lower()
        return sent is not None and sent in {own, self.base_origin}

    def _sending_new_cookie(self, send: Send, guard: RequestTokens) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and guard.new_pre_session:
                cookie = f"{self.pre_session_cookie}={guard.new_pre_session}"
                header = (b"set-cookie", (cookie + self.cookie_attributes).encode("latin-1"))
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        return sending


async def _read_body(receive: Receive) -> tuple[bytes, Callable[[], Awaitable[Message]]]:
    """The whole body (bounded by the body limit outside), and a receive that replays it."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return body, replay
