"""Running in production: health and metrics routes, request metrics, and database outages as 503.

`register_ops(app)` is called by `create_app` before any other middleware is added, so the
request metrics sit next to the router and see the route it matched.
"""

from fastapi import FastAPI, Request, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import metrics
from app.i18n import N_
from app.routes import ops

RETRY_AFTER_SECONDS = 30
OUTAGE_DETAIL = N_("The database is not reachable right now. Please try again in a minute.")


def register_ops(app: FastAPI) -> None:
    app.include_router(ops.router)
    app.add_middleware(metrics.RequestMetrics, routes=app.router.routes)
    for error in (OperationalError, DBAPIError, PoolTimeout):
        app.add_exception_handler(error, database_unavailable)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """A lost or refused database connection, or an exhausted pool, is a 503 in the app's usual
    error shape (JSON for the API, a page for people); the pool reconnects on its own once the
    database is back (`pool_pre_ping`). Any other database error is a bug, and stays a 500."""
    lost = isinstance(exc, OperationalError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )
    if not lost:
        raise exc
    outage = StarletteHTTPException(
        status_code=503, detail=OUTAGE_DETAIL, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )
    handler = request.app.exception_handlers[StarletteHTTPException]
    response: Response = await handler(request, outage)
    return response
