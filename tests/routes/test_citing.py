"""The exchange page as a journalist cites it: stage permalinks, footnotes, running totals, Cite."""

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import deps
from tests.factories import SOURCE, add_stage, make_exchange, release, stage_data
from tests.html import parse, text, texts

PAGE = "/exchanges/istanbul-1000-for-1000"
BASE = "http://127.0.0.1:8000"


@pytest.fixture
def cited(client: TestClient, session: Session) -> Iterator[TestClient]:
    """Istanbul's first two days; Ukraine's figures on day 1 from the Coordination HQ alone."""
    hq = {
        "url": "https://example.org/hq",
        "publisher": "Example Wire",
        "announcer": "Coordination HQ",
        "claim": "Ukraine's figures.",
        "figures": [{"received_by": "ukraine", "military": 270, "civilian": 120}],
    }
    exchange = make_exchange(session, stage_data(a=(270, 120), sources=[SOURCE, hq]))
    day_2 = [
        release("ukraine", people=307),
        release("russia", people=307),
        release("russia", people=15, outside_deal=True),
    ]
    add_stage(session, exchange, stage_data(sides=None, releases=day_2, date=dt.date(2025, 5, 24)))
    client.app.dependency_overrides[deps.today] = lambda: dt.date(2026, 12, 2)  # type: ignore[attr-defined]
    yield client
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_each_stage_gives_each_partys_running_total(cited: TestClient) -> None:
    page = parse(cited.get(PAGE).text)
    assert [texts(stage, ".running-totals li") for stage in page.select(".stage")] == [
        ["Ukraine: 390 in all after this stage", "Russia: 390 in all after this stage"],
        ["Ukraine: 697 in all after this stage", "Russia: 697 in all after this stage"],
    ]
    assert texts(page, ".tally .figure") == [
        "697 of 1,000 returned to Ukraine (69.7 %)",
        "697 of 1,000 returned to Russia (69.7 %)",
    ]


def test_each_stage_heading_is_its_permalink(cited: TestClient) -> None:
    page = parse(cited.get(PAGE).text)
    for stage in page.select(".stage"):
        link = stage.select_one("h3 a.permalink")
        assert link is not None
        assert link["href"] == f"#{stage['id']}"
        button = stage.select_one(".stage-tools button[data-copy-text]")
        assert button is not None
        assert button["data-copy-text"] == f"{BASE}{PAGE}#{stage['id']}"
        assert text(button) == "Copy link"


def test_footnote_markers_lead_to_the_sources_that_gave_the_figures(cited: TestClient) -> None:
    page = parse(cited.get(PAGE).text)
    first, second = page.select(".stage")
    assert (
        [
            [(a["href"], a["aria-label"]) for a in row.select(".markers a")]
            for row in first.select("tbody tr")
        ]
        == [
            [(f"#source-{first['id'][6:]}-2", "source 2")],  # the HQ gave Ukraine's figures
            [(f"#source-{first['id'][6:]}-1", "source 1")],  # the wire the stage as a whole
        ]
    )
    assert texts(second, "tbody tr") == [
        "Ukraine [1] — — 307 —",
        "Russia [1] — — 307 —",
        "Russia (outside the exchange) [1] — — 15 —",
    ]
    for marker in page.select(".markers a"):
        target = page.select_one(str(marker["href"]))
        assert target is not None, marker["href"]
        assert target.name == "li"
        assert target.parent is not None
        assert target.parent.name == "ol"


def test_a_stage_is_cited_with_figure_source_permalink_and_access_day(cited: TestClient) -> None:
    page = parse(cited.get(PAGE).text)
    first = page.select(".stage")[0]
    stage = first["id"]
    citation = (
        "Swap Tally, “Istanbul 1,000 for 1,000”, 390 returned to Ukraine; 390 returned to Russia"
        " on 23 May 2025 (source: Coordination HQ, https://example.org/hq),"
        f" {BASE}{PAGE}#{stage}, accessed 2 December 2026."
    )
    assert text(first.select_one("details.cite summary")) == "Cite this stage"
    assert text(first.select_one("details.cite textarea[id$='-text']")) == citation
    link = first.select_one(".cite-link a")
    assert link is not None
    assert (link["href"], text(link)) == (f"{BASE}{PAGE}#{stage}", citation)
    code = first.select_one("details.cite textarea[id$='-html']")
    assert parse(code.get_text()).a["href"] == f"{BASE}{PAGE}#{stage}"  # type: ignore[union-attr,index]


def test_the_page_is_cited_with_the_latest_totals(cited: TestClient) -> None:
    page = parse(cited.get(PAGE).text)
    assert text(page.select_one("#cite-page-text")) == (
        "Swap Tally, “Istanbul 1,000 for 1,000”, 697 returned to Ukraine; 697 returned to Russia"
        f" by 24 May 2025, {BASE}{PAGE}, accessed 2 December 2026."
    )


def test_a_ukrainian_page_cites_in_ukrainian(cited: TestClient) -> None:
    page = parse(cited.get(PAGE, params={"lang": "uk"}).text)
    first = page.select(".stage")[0]
    assert text(first.select_one("details.cite summary")) == "Цитувати цей етап"
    assert text(first.select_one("details.cite textarea")) == (
        "Swap Tally, «Istanbul 1,000 for 1,000», Ukraine: повернуто 390; Russia: повернуто 390"
        " (23 травня 2025 р.) (джерело: Coordination HQ, https://example.org/hq),"
        f" {BASE}{PAGE}#{first['id']}, дата звернення: 2 грудня 2026 р."
    )
    assert texts(first, ".markers a") == ["[2]", "[1]"]
    assert [a["aria-label"] for a in first.select(".markers a")] == ["джерело 2", "джерело 1"]


def test_an_exchange_without_stages_is_cited_without_figures(
    client: TestClient, session: Session
) -> None:
    make_exchange(session)
    client.app.dependency_overrides[deps.today] = lambda: dt.date(2026, 12, 2)  # type: ignore[attr-defined]
    page = parse(client.get(PAGE).text)
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert text(page.select_one("#cite-page-text")) == (
        f"Swap Tally, “Istanbul 1,000 for 1,000”, {BASE}{PAGE}, accessed 2 December 2026."
    )
