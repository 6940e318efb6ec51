"""Pages for journalists and readers."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app import crud
from app.deps import SessionDep
from app.templating import render

router = APIRouter(default_response_class=HTMLResponse)


@router.get("/")
def dashboard(request: Request, session: SessionDep) -> Response:
    context = {"exchanges": crud.list_exchanges(session), "totals": crud.totals(session)}
    return render(request, "public/dashboard.html", context)
