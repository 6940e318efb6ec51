"""CSV import: a dry run of an uploaded file first, then the import of exactly what it checked."""

import base64
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from app import csrf, importer
from app.deps import CurrentEditor, SessionDep
from app.i18n import N_
from app.templating import render

router = APIRouter(default_response_class=HTMLResponse)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
# The confirmation sends the checked file back base64-encoded, a third larger, in a form field.
MAX_CHECKED_FIELD_BYTES = (MAX_IMPORT_BYTES + 2) // 3 * 4 + 1024
# Either post, with room for the rest of the form: the body limit of this route, here and in
# the shipped nginx config (deploy/nginx.conf, which tests/test_nginx.py checks against it).
MAX_IMPORT_BODY_BYTES = 8 * 1024 * 1024


@router.get("/import")
def import_page(request: Request, user: CurrentEditor) -> Response:
    return render(request, "editor/import.html", {"user": user})


async def _uploaded(request: Request) -> AsyncIterator[FormData]:
    """The posted form, its uploaded file closed once the import is done."""
    async with request.form(max_part_size=MAX_CHECKED_FIELD_BYTES) as form:
        yield form


@router.post("/import")
def import_upload(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    form: Annotated[FormData, Depends(_uploaded)],
) -> Response:
    """A dry run of an uploaded file, or, with `checked`, the import of the exact bytes a dry run
    checked (sent back base64-encoded: form encoding would turn the newlines inside quoted cells
    into CRLF and make the import differ from its check). A plain `def`: a 5 MB import runs off
    the event loop."""
    csrf.check_form(request, form)  # in app.csrf.ROUTE_CHECKED_FORMS: the middleware defers
    upload, checked = form.get("file"), form.get("checked")
    apply = isinstance(checked, str) and bool(checked)
    context: dict[str, Any] = {"user": user}
    try:
        if apply:
            data = _unbase64(str(checked))
        elif upload is not None and not isinstance(upload, str):
            data = upload.file.read(MAX_IMPORT_BYTES + 1)
        else:
            data = b""
        text = importer.decode(_import_checked(data))
        report = importer.import_csv(
            session, text, actor=user.email, user_id=user.id, dry_run=not apply
        )
    except importer.UnreadableFile as error:
        context["errors"] = {"file": str(error)}
        return render(request, "editor/import.html", context, status_code=400)
    except importer.ImportConflict:
        conflict = N_("someone saved a stage while the import ran; nothing was imported, try again")
        context["errors"] = {"file": conflict}
        return render(request, "editor/import.html", context, status_code=409)
    checked_bytes = base64.b64encode(data).decode() if not apply else ""
    context.update(report=report, checked=checked_bytes, applied=apply)
    return render(request, "editor/import.html", context)


def _unbase64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise importer.UnreadableFile(N_("the checked file was damaged; upload it again")) from None


def _import_checked(data: bytes) -> bytes:
    if not data:
        raise importer.UnreadableFile(N_("choose a CSV file to import"))
    if len(data) > MAX_IMPORT_BYTES:
        raise importer.UnreadableFile(N_("the file is larger than 5 MB; split it into several"))
    return data
