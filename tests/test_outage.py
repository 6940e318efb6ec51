"""A database outage: PostgreSQL stops, requests get a 503 (JSON or a page, never a traceback)
and /readyz fails; it starts again, and the same app answers as before, without a restart."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.ops import OUTAGE_DETAIL
from app.settings import Settings
from tests.factories import make_exchange, stage_data
from tests.html import parse
from tests.html import text as text_of
from tests.needs import unavailable
from tests.pg import PostgresServer, PostgresUnavailable, running_server

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

SLUG = "istanbul-1000-for-1000"


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A server of this module's own, since the test stops it."""
    try:
        with running_server() as server:
            yield server
    except PostgresUnavailable as exc:
        unavailable("PostgreSQL", exc)


@pytest.fixture
def app_on_own_server(own_server: PostgresServer) -> Iterator[TestClient]:
    with own_server.new_database("outage") as url:
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            make_exchange(session, stage_data())
        engine.dispose()
        settings = Settings(environment="test", database_url=url, secret_key="test-secret")
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield client


def test_requests_get_503_while_postgresql_is_down_and_recover_after(
    own_server: PostgresServer, app_on_own_server: TestClient
) -> None:
    client = app_on_own_server
    # The app keeps answers it has rendered (app/caching.py) and may serve them for a moment
    # without asking the database: during the outage, ask for what it has not rendered yet.
    assert client.get("/readyz").status_code == 200  # the pool holds live connections now

    own_server.stop("fast")  # PostgreSQL stops; what it had committed stays
    try:
        api = client.get(f"/api/v1/exchanges/{SLUG}")
        page = client.get(f"/exchanges/{SLUG}")
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    finally:
        own_server.start()

    assert (api.status_code, api.json()) == (503, {"detail": OUTAGE_DETAIL})
    assert api.headers["Retry-After"] == "30"
    assert page.status_code == 503
    assert page.headers["Content-Type"].startswith("text/html")
    assert text_of(parse(page.text).select_one("main p")) == OUTAGE_DETAIL
    assert (ready.status_code, ready.json()["database"]) == (503, "unreachable (OperationalError)")
    assert alive.status_code == 200

    recovered = client.get(f"/api/v1/exchanges/{SLUG}")
    assert (recovered.status_code, recovered.json()["stages_count"]) == (200, 1)
    assert client.get(f"/exchanges/{SLUG}").status_code == 200
    assert client.get("/readyz").status_code == 200
