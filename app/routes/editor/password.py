"""A signed-in user's own password: changed with the current one, ending their other sessions."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from itsdangerous import BadSignature
from starlette.responses import Response

from app import accounts
from app.deps import CurrentEditor, SessionDep, session_cookie_name, session_signer
from app.forms import SimpleForm
from app.templating import render

router = APIRouter(default_response_class=HTMLResponse)


def _this_session(request: Request) -> str:
    """The token of the session making the request: the one session the change keeps."""
    try:
        return (
            session_signer(request)
            .unsign(request.cookies.get(session_cookie_name(request), ""))
            .decode()
        )
    except BadSignature:  # the editor dependency has checked it already
        return ""


@router.get("/password")
def password_page(request: Request, user: CurrentEditor) -> Response:
    context = {"user": user, "form": SimpleForm(), "changed": False}
    return render(request, "editor/password.html", context)


@router.post("/password")
def change_password(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    # No length limits here: accounts words a too-long password beside its field.
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    new_password_again: Annotated[str, Form()] = "",
) -> Response:
    try:
        accounts.change_password(
            session,
            user=user,
            current=current_password,
            new=new_password,
            again=new_password_again,
            keep_session=_this_session(request),
        )
    except accounts.AccountError as refused:
        session.rollback()
        context = {"user": user, "form": SimpleForm({}, {refused.field: str(refused)})}
        context["changed"] = False
        return render(request, "editor/password.html", context, status_code=400)
    session.commit()
    context = {"user": user, "form": SimpleForm(), "changed": True}
    return render(request, "editor/password.html", context)
