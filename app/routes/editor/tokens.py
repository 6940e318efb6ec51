"""Personal API tokens: created (shown once), listed, revoked."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from app import accounts
from app.deps import CurrentEditor, RowId, SessionDep
from app.templating import render

router = APIRouter(default_response_class=HTMLResponse)


@router.get("/tokens")
def tokens_page(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    context = {"user": user, "tokens": accounts.list_tokens(session, user=user), "new_token": None}
    return render(request, "editor/tokens.html", context)


@router.post("/tokens")
def create_token(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    errors: dict[str, str] = {}
    plain = None
    try:
        _, plain = accounts.create_token(session, user=user, name=name)
        session.commit()
    except accounts.AccountError as refused:
        errors[refused.field] = str(refused)
    context = {
        "user": user,
        "tokens": accounts.list_tokens(session, user=user),
        "new_token": plain,
        "errors": errors,
        "name": name,
    }
    return render(request, "editor/tokens.html", context, status_code=400 if errors else 200)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: RowId, session: SessionDep, user: CurrentEditor) -> Response:
    accounts.revoke_token(session, user=user, token_id=token_id)
    session.commit()
    return RedirectResponse("/editor/tokens", status_code=303)
