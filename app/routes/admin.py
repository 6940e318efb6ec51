"""Administration, /admin: users, their roles and passwords, and deleted stages to restore."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from app import accounts, crud, writes
from app.deps import CurrentAdmin, RowId, SessionDep, require_admin
from app.forms import SimpleForm
from app.models import Role, Stage, User
from app.routes.editor.common import changed_meanwhile_is_409, form_version
from app.templating import render

router = APIRouter(
    prefix="/admin",
    default_response_class=HTMLResponse,
    dependencies=[Depends(require_admin)],
    tags=["admin"],
)


@router.get("/users")
def users_page(request: Request, session: SessionDep, user: CurrentAdmin) -> Response:
    context = {"user": user, "users": accounts.list_users(session), "form": SimpleForm()}
    return render(request, "admin/users.html", context)


@router.post("/users")
def add_user(
    request: Request,
    session: SessionDep,
    user: CurrentAdmin,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[Role, Form()] = "editor",
) -> Response:
    try:
        accounts.create_user(session, email=email, password=password, role=role)
    except accounts.AccountError as refused:
        session.rollback()
        context = {
            "user": user,
            "users": accounts.list_users(session),
            "form": SimpleForm({"email": email, "role": role}, {refused.field: str(refused)}),
        }
        return render(request, "admin/users.html", context, status_code=400)
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}")
def change_user(
    user_id: RowId,
    session: SessionDep,
    admin: CurrentAdmin,
    role: Annotated[Role | None, Form()] = None,
    active: Annotated[str | None, Form()] = None,
) -> Response:
    """Change a role, or deactivate (signing the user out everywhere at once) or reactivate."""
    target = _user_or_404(session, user_id)
    if target.id == admin.id and (active == "0" or (role and role != "admin")):
        raise HTTPException(status_code=400, detail="You cannot demote or deactivate yourself.")
    if role is not None:
        accounts.set_role(session, user=target, role=role)
    if active == "0":
        accounts.deactivate(session, user=target)
    elif active == "1":
        accounts.reactivate(session, user=target)
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


def _user_or_404(session: SessionDep, user_id: int) -> User:
    target = session.get(User, user_id)
    if target is None:
        raise HTTPException(status_code=404, detail="No such user")
    return target


@router.get("/users/{user_id}/password")
def password_page(
    request: Request, user_id: RowId, session: SessionDep, admin: CurrentAdmin
) -> Response:
    """The form for a new password for someone who forgot theirs (one's own: /editor/password,
    which asks for the current one and keeps this session)."""
    target = _user_or_404(session, user_id)
    if target.id == admin.id:
        return RedirectResponse("/editor/password", status_code=303)
    context = {"user": admin, "person": target, "form": SimpleForm()}
    return render(request, "admin/password.html", context)


@router.post("/users/{user_id}/password")
def set_password(
    request: Request,
    user_id: RowId,
    session: SessionDep,
    admin: CurrentAdmin,
    # No length limit here: accounts words a too-long password beside its field.
    password: Annotated[str, Form()] = "",
) -> Response:
    """Set a user's password, ending every session of theirs and lifting their sign-in limit."""
    target = _user_or_404(session, user_id)
    if target.id == admin.id:
        return RedirectResponse("/editor/password", status_code=303)
    try:
        accounts.set_password(session, user=target, password=password)
    except accounts.AccountError as refused:
        session.rollback()
        form = SimpleForm({}, {refused.field: str(refused)})
        context = {"user": admin, "person": target, "form": form}
        return render(request, "admin/password.html", context, status_code=400)
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/deleted")
def deleted_stages(request: Request, session: SessionDep, user: CurrentAdmin) -> Response:
    context = {"user": user, "stages": crud.deleted_stages(session)}
    return render(request, "admin/deleted.html", context)


@router.post("/stages/{stage_id}/restore")
def restore_stage(
    stage_id: RowId,
    session: SessionDep,
    admin: CurrentAdmin,
    version: Annotated[str, Form()] = "",
) -> Response:
    """Restore the deleted version the admin saw; a stage changed meanwhile is a 409."""
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise HTTPException(status_code=404, detail="No such stage")
    with changed_meanwhile_is_409():
        writes.restore_deleted_stage(
            session,
            stage=stage,
            expected_version=form_version(version),
            actor=admin.email,
            user_id=admin.id,
        )
    session.commit()
    return RedirectResponse("/admin/deleted", status_code=303)
