"""For operators and load balancers: /healthz (alive), /readyz (database and schema), /metrics."""

import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.migrate import current_revisions, head_revisions

router = APIRouter(tags=["operations"], include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}  # a proxy must never answer these from its cache


@router.get("/healthz")
def healthz() -> JSONResponse:
    """The process is alive. It names its process id, so an operator can tell the workers
    apart; it never touches the database, so an outage does not get the process restarted."""
    return JSONResponse({"status": "ok", "pid": os.getpid()}, headers=NO_STORE)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and its schema is at the latest migration."""
    engine: Engine = request.app.state.engine
    body: dict[str, Any] = {"status": "ready", "database": "ok", "migrations": "head"}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = current_revisions(connection)
    except SQLAlchemyError as error:
        reason = type(getattr(error, "orig", None) or error).__name__
        body |= {"status": "not ready", "database": f"unreachable ({reason})"}
        body["migrations"] = "unknown"
        return JSONResponse(body, status_code=503, headers=NO_STORE)
    if current != head_revisions():
        body |= {"status": "not ready", "migrations": "behind: run `swaptally migrate`"}
        return JSONResponse(body, status_code=503, headers=NO_STORE)
    return JSONResponse(body, headers=NO_STORE)


@router.get("/metrics")
def prometheus_metrics() -> Response:
    """Prometheus text format; keep it off the public proxy (deploy/nginx.conf refuses it)."""
    body, media_type = metrics.exposition()
    return Response(body, media_type=media_type, headers=NO_STORE)
