"""Every public page on 200 generated exchanges and 20,000 stages, checked against plain SQL."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text as sql

from app.sample_data import SEARCH_WORD
from tests.html import parse, text, texts

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

COUNTED = "s.published AND s.deleted_at IS NULL AND e.published AND e.deleted_at IS NULL"
# What Ukraine received: its living releases (remains never count as people).
TO_UKRAINE = (
    "sr.kind = 'living' AND sr.outside_deal = false"
    " AND sr.received_by = (SELECT id FROM party WHERE slug = 'ukraine')"
)


def query(client: TestClient, statement: str, **params: Any) -> list[Any]:
    with client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        return list(connection.execute(sql(statement), params))


def test_dashboard_lists_every_exchange_with_all_time_totals(large_client: TestClient) -> None:
    page = parse(large_client.get("/").text)
    assert text(page.select_one("#exchange-table .matching")) == "200 exchanges"
    assert len(page.select("#exchange-table tbody tr")) == 50  # a page of them
    [(floor, unknown)] = query(
        large_client,
        "SELECT SUM(COALESCE(sr.people, COALESCE(sr.military, 0) + COALESCE(sr.civilian, 0))),"
        " SUM(CASE WHEN sr.people IS NULL THEN 1 ELSE 0 END)"
        " FROM stage_release sr JOIN stage s ON s.id = sr.stage_id JOIN exchange e"
        f" ON e.id = s.exchange_id WHERE {TO_UKRAINE} AND {COUNTED}",
    )
    assert unknown > 0
    ukraine = page.select_one('.totals-list li[data-side-name="Ukraine"] .figure')
    assert ukraine is not None
    assert " ".join(ukraine.get_text().split()) == f"at least {floor:,}"


def test_timeline_pages_walk_the_stages_newest_first(large_client: TestClient) -> None:
    expected = [
        f"{day}" if isinstance(day, str) else day.isoformat()
        for (day,) in query(
            large_client,
            "SELECT s.date FROM stage s JOIN exchange e ON e.id = s.exchange_id"
            f" WHERE {COUNTED} ORDER BY s.date DESC, s.id DESC LIMIT 100",
        )
    ]
    first = parse(large_client.get("/timeline").text)
    shown = [li.time["datetime"] for li in first.select(".stage-list .stage-summary")]  # type: ignore[index]
    older = first.select_one('.pager a[rel="next"]')
    assert older is not None
    second = parse(large_client.get(str(older["href"])).text)
    shown += [li.time["datetime"] for li in second.select(".stage-list .stage-summary")]  # type: ignore[index]
    assert shown == expected


def test_filtered_timeline_and_api_agree_with_sql(large_client: TestClient) -> None:
    [(matching,)] = query(
        large_client,
        "SELECT COUNT(*) FROM stage s JOIN exchange e ON e.id = s.exchange_id"
        f" WHERE {COUNTED} AND s.status = 'confirmed' AND LOWER(s.notes) LIKE :word",
        word=f"%{SEARCH_WORD.lower()}%",
    )
    assert matching > 50
    page = parse(large_client.get(f"/timeline?status=confirmed&q={SEARCH_WORD}").text)
    assert texts(page, ".stage-list .badge") == ["confirmed"] * 50
    api = large_client.get(f"/api/v1/stages?status=confirmed&q={SEARCH_WORD}&limit=200").json()
    assert len(api["stages"]) == min(matching, 200)
    assert all(SEARCH_WORD.lower() in stage["notes"].lower() for stage in api["stages"])


def test_busiest_exchange_page_shows_every_stage(large_client: TestClient) -> None:
    [(slug, stages, floor, unknown)] = query(
        large_client,
        "SELECT e.slug, COUNT(DISTINCT s.id),"
        " SUM(COALESCE(sr.people, COALESCE(sr.military, 0) + COALESCE(sr.civilian, 0))),"
        " SUM(CASE WHEN sr.people IS NULL THEN 1 ELSE 0 END)"
        " FROM exchange e JOIN stage s ON s.exchange_id = e.id JOIN stage_release sr"
        f" ON sr.stage_id = s.id AND {TO_UKRAINE} WHERE {COUNTED}"
        " GROUP BY e.slug ORDER BY COUNT(DISTINCT s.id) DESC, e.slug LIMIT 1",
    )
    response = large_client.get(f"/exchanges/{slug}")
    assert response.status_code == 200
    page = parse(response.text)
    assert len(page.select("article.stage")) == stages
    figure = texts(page, ".tally .figure")[0]
    returned = f"at least {floor:,}" if unknown else f"{floor:,}"
    assert figure.startswith(f"{returned} of ") or figure == f"{returned} returned to Ukraine"
    [(releases,)] = query(
        large_client,
        "SELECT COUNT(*) FROM stage_release sr JOIN stage s ON s.id = sr.stage_id"
        f" JOIN exchange e ON e.id = s.exchange_id WHERE e.slug = :slug AND {COUNTED}",
        slug=slug,
    )
    csv_rows = large_client.get(f"/api/v1/exchanges/{slug}/stages.csv").text.strip().split("\r\n")
    assert len(csv_rows) == 1 + releases  # one row per release


def test_ukrainian_dashboard_renders_at_scale(large_client: TestClient) -> None:
    page = parse(large_client.get("/?lang=uk").text)
    assert page.html["lang"] == "uk"  # type: ignore[index]
    assert len(page.select("#exchange-table tbody tr")) == 50
