"""Signing in and out of the editors' side."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature
from starlette.responses import Response

from app import accounts
from app.deps import (
    DEVICE_COOKIE,
    CurrentUser,
    SessionDep,
    current_device,
    device_signer,
    session_cookie_name,
    session_signer,
)
from app.templating import render

router = APIRouter(default_response_class=HTMLResponse, tags=["editors"])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/editor"


@router.get("/login")
def login_form(request: Request, user: CurrentUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next": _safe_next(next), "errors": {}, "email": ""})


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    # No length limit on the email: an over-long one is a wrong sign-in, and counted as one.
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/editor",
) -> Response:
    client = request.client.host if request.client else "unknown"
    device = current_device(request)
    result = accounts.sign_in(session, email=email, password=password, client=client, device=device)
    if result.user is None:
        context = {"next": _safe_next(next), "errors": {"password": result.error}, "email": email}
        status = 429 if result.limited else 400
        return render(request, "auth/login.html", context, status_code=status)
    token = accounts.start_session(session, user=result.user)
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        session_cookie_name(request),
        session_signer(request).sign(token).decode(),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        max_age=int(accounts.SESSION_IDLE.total_seconds()),
    )
    if not accounts.device_is_known(device, result.user):
        _remember_device(request, response, accounts.new_device_token(result.user))
    return response


def _remember_device(request: Request, response: Response, device: str) -> None:
    """The device cookie: this browser keeps an allowance of its own for this account, so
    strangers' wrong passwords cannot lock its editor out (it outlives the session on purpose,
    and the logout leaves it)."""
    response.set_cookie(
        request.app.state.settings.cookie_name(DEVICE_COOKIE),
        device_signer(request).sign(device).decode(),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        max_age=int(accounts.DEVICE_LIFETIME.total_seconds()),
    )


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    cookie = request.cookies.get(session_cookie_name(request), "")
    try:
        accounts.end_session(session, session_signer(request).unsign(cookie).decode())
        session.commit()
    except BadSignature:
        pass  # a missing or forged cookie: nothing to end
    response = RedirectResponse("/", status_code=303)
    # With the attributes it was set with: a `__Host-` cookie is only replaced by a Secure one.
    response.delete_cookie(
        session_cookie_name(request),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )
    return response
