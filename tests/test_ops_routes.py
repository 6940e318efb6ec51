"""Health, readiness and metrics routes; database errors as 503 in the app's error shapes."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import metrics
from app.main import create_app
from app.migrate import upgrade
from app.settings import Settings
from tests.factories import make_exchange
from tests.html import parse, text


def sample(client: TestClient, name: str, **labels: str) -> float:
    """One figure from /metrics (0 when it has not been counted yet)."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return 0.0


def requests_counted(client: TestClient, route: str, status: str = "200") -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return sample(client, "swaptally_http_requests_total", **labels)


def test_healthz_names_the_process_and_is_never_cached(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "pid": os.getpid()}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.postgresql
def test_readyz_needs_the_schema_at_head(settings: Settings, database_url: str) -> None:
    with TestClient(create_app(settings)) as client:
        behind = client.get("/readyz")
        upgrade(database_url)
        ready = client.get("/readyz")
    assert (behind.status_code, behind.json()) == (
        503,
        {
            "status": "not ready",
            "database": "ok",
            "migrations": "behind: run `swaptally migrate`",
        },
    )
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "database": "ok", "migrations": "head"},
    )
    assert ready.headers["Cache-Control"] == "no-store"


def test_requests_are_counted_by_route_template(client: TestClient) -> None:
    before = {
        "slug": requests_counted(client, "/exchanges/{slug}", "404"),
        "unmatched": requests_counted(client, metrics.UNMATCHED_ROUTE, "404"),
        "static": requests_counted(client, "/static/{path}"),
    }
    for slug in ("one", "two", "three"):
        assert client.get(f"/exchanges/{slug}").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/static/css/app.css").status_code == 200
    assert requests_counted(client, "/exchanges/{slug}", "404") == before["slug"] + 3
    assert requests_counted(client, metrics.UNMATCHED_ROUTE, "404") == before["unmatched"] + 1
    assert requests_counted(client, "/static/{path}") == before["static"] + 1
    text = client.get("/metrics").text
    assert "/exchanges/one" not in text  # raw paths never become label values
    count = "swaptally_http_request_duration_seconds_count"
    assert sample(client, count, method="GET", route="/exchanges/{slug}") >= 3


def test_routes_of_included_starlette_routers_are_counted_by_template(
    settings: Settings,
) -> None:
    """FastAPI keeps an included router as one node, and a plain Starlette route in it does not
    record itself in the scope as FastAPI's routes do (the widget's route is one)."""
    app = create_app(settings)
    plain = APIRouter()
    plain.add_route("/plain/{name}", lambda _request: PlainTextResponse("plain"), ["GET"])
    app.include_router(plain)
    with TestClient(app) as client:
        before = requests_counted(client, "/plain/{name}")
        assert client.get("/plain/one").text == "plain"
        assert client.get("/plain/two").text == "plain"
        assert requests_counted(client, "/plain/{name}") == before + 2


def test_a_cached_widget_is_counted_by_its_route_template(
    client: TestClient, session: Session
) -> None:
    """The widget's route answers a cache hit itself, as plain ASGI: still counted, and by
    its template, with its status."""
    make_exchange(session)
    ok, revalidated = (
        requests_counted(client, "/embed/{slug}"),
        requests_counted(client, "/embed/{slug}", "304"),
    )
    etag = client.get("/embed/istanbul-1000-for-1000").headers["etag"]  # rendered
    assert client.get("/embed/istanbul-1000-for-1000").status_code == 200  # from the cache
    headers = {"If-None-Match": etag}
    assert client.get("/embed/istanbul-1000-for-1000", headers=headers).status_code == 304
    assert requests_counted(client, "/embed/{slug}") == ok + 2
    assert requests_counted(client, "/embed/{slug}", "304") == revalidated + 1


def test_tally_computations_and_cache_lookups_are_counted(
    client: TestClient, session: Session
) -> None:
    make_exchange(session)
    make_exchange(session, slug="second", title="Second")
    before = sample(client, "swaptally_tally_computations_total")
    assert len(client.get("/api/v1/exchanges").json()) == 2
    assert sample(client, "swaptally_tally_computations_total") == before + 2
    # The HTTP cache of embeds and the read API: the first widget renders, the second is kept.
    hits = sample(client, "swaptally_cache_hits_total", kind="http")
    misses = sample(client, "swaptally_cache_misses_total", kind="http")
    assert client.get("/embed/second").status_code == 200
    assert client.get("/embed/second").status_code == 200
    assert sample(client, "swaptally_cache_misses_total", kind="http") == misses + 1
    assert sample(client, "swaptally_cache_hits_total", kind="http") == hits + 1
    hits = sample(client, "swaptally_cache_hits_total", kind="test")
    misses = sample(client, "swaptally_cache_misses_total", kind="test")
    metrics.count_cache("test", hit=True)
    metrics.count_cache("test", hit=False)
    metrics.count_cache("test", hit=False)
    assert sample(client, "swaptally_cache_hits_total", kind="test") == hits + 1
    assert sample(client, "swaptally_cache_misses_total", kind="test") == misses + 2


def outage_detail() -> str:
    return "The database is not reachable right now. Please try again in a minute."


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[TestClient]:
    """An app whose SQLite "file" is a folder: every connection fails, as in an outage."""
    url = f"sqlite:///{tmp_path}"
    settings = Settings(environment="test", database_url=url, secret_key="test-secret")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_an_unreachable_database_is_a_503_json_for_the_api(unreachable: TestClient) -> None:
    response = unreachable.get("/api/v1/exchanges")
    assert response.status_code == 503
    assert response.json() == {"detail": outage_detail()}
    assert response.headers["Retry-After"] == "30"


def test_an_unreachable_database_is_a_503_page_for_people(unreachable: TestClient) -> None:
    response = unreachable.get("/timeline")
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Traceback" not in response.text
    page = parse(response.text)
    assert text(page.select_one("main p")) == outage_detail()
    ukrainian = parse(unreachable.get("/timeline?lang=uk").text)
    assert text(ukrainian.select_one("main h1")) == "Тимчасово недоступно"
    assert text(ukrainian.select_one("main p")).startswith("База даних зараз недоступна.")


def test_readyz_fails_and_healthz_holds_when_the_database_is_unreachable(
    unreachable: TestClient,
) -> None:
    ready = unreachable.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        503,
        {
            "status": "not ready",
            "database": "unreachable (OperationalError)",
            "migrations": "unknown",
        },
    )
    assert unreachable.get("/healthz").status_code == 200


@pytest.mark.postgresql
def test_other_database_errors_stay_server_errors(settings: Settings) -> None:
    app: FastAPI = create_app(settings)

    def broken() -> None:
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/broken").status_code == 500
