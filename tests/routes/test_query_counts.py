"""Pages cost a fixed number of SQL queries, whatever the number of exchanges and stages.

A query per exchange or per stage (N+1) would pass every other test on small data and then take
a front page down on real data; this counts statements on 3 and on 30 exchanges, and pins each
count, so that a statement more on any page is a decision someone makes, not a drift.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from app import sample_data
from app.db import metadata
from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

# The statements of each page and API read, uncached (each checks the data revision first).
STATEMENTS = {
    "/": 25,
    "/?sort=title&order=desc&q=sample": 25,
    "/exchanges/sample-0001": 13,
    "/timeline": 14,
    "/timeline?status=confirmed&q=azovstal": 14,
    "/api/v1/exchanges": 10,
    "/api/v1/exchanges/sample-0001": 13,
    "/api/v1/stages": 7,
}
PAGES = tuple(STATEMENTS)


def queries_per_page(settings: Settings, engine: Engine, *, exchanges: int) -> dict[str, int]:
    """SQL statements each page runs, on `exchanges` exchanges of `exchanges` stages each."""
    metadata.drop_all(engine)
    metadata.create_all(engine)
    sample_data.generate(engine, exchanges=exchanges, stages=exchanges * exchanges)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    counts = {}
    with TestClient(create_app(settings)) as client:
        event.listen(client.app.state.engine, "before_cursor_execute", count)  # type: ignore[attr-defined]
        for path in PAGES:
            statements.clear()
            response = client.get(path)
            assert response.status_code == 200, path
            counts[path] = len(statements)
    return counts


def test_pages_run_as_many_queries_on_30_exchanges_as_on_3(
    settings: Settings, engine: Engine
) -> None:
    few = queries_per_page(settings, engine, exchanges=3)
    many = queries_per_page(settings, engine, exchanges=30)
    assert many == few == STATEMENTS


def test_the_exchange_page_costs_no_more_than_its_api_twin() -> None:
    """The page shows what the API gives, its corrections and an embed builder: read once each
    (the builder takes the exchange and its history the page has read)."""
    assert STATEMENTS["/exchanges/sample-0001"] <= STATEMENTS["/api/v1/exchanges/sample-0001"]
