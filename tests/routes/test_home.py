"""The home page's table: sort, search, permalinks and bad input, on both databases."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import sample_data
from app.models import Exchange
from tests.factories import make_exchange, name_parties_in_ukrainian, stage_data
from tests.html import parse, text, texts

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"


def three_exchanges(session: Session) -> None:
    make_exchange(
        session,
        stage_data(),
        slug="istanbul",
        title="Istanbul: 1,000 for 1,000",
        title_uk="Стамбул: 1000 на 1000",
        agreed_on=dt.date(2025, 5, 16),
    )
    make_exchange(
        session,
        stage_data(),
        stage_data(date=dt.date(2025, 5, 24)),
        slug="easter",
        title="Easter exchange",
        agreed_on=dt.date(2025, 4, 19),
        status="completed",
    )
    make_exchange(session, slug="abu-dhabi", title="Abu Dhabi talks", agreed_on=dt.date(2025, 8, 1))


def tallies_computed() -> float:
    return REGISTRY.get_sample_value("swaptally_tally_computations_total") or 0.0


def rows(client: TestClient, url: str, **headers: str) -> list[str]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return [row["id"].removeprefix("exchange-") for row in parse(response.text).select("tbody tr")]


def test_the_home_page_says_what_it_is_and_when_it_changed(
    client: TestClient, session: Session
) -> None:
    three_exchanges(session)
    page = parse(client.get("/").text)
    assert "counts the people returned in prisoner exchanges" in text(page.select_one(".intro"))
    assert text(page.select_one(".updated")).startswith("Updated ")
    assert text(page.select_one(".matching")) == "3 exchanges"


def test_columns_sort_both_ways_and_say_so(client: TestClient, session: Session) -> None:
    three_exchanges(session)
    assert rows(client, "/?sort=title") == ["abu-dhabi", "easter", "istanbul"]
    assert rows(client, "/?sort=title&order=desc") == ["istanbul", "easter", "abu-dhabi"]
    assert rows(client, "/?sort=date") == ["abu-dhabi", "istanbul", "easter"]  # newest first
    assert rows(client, "/?sort=date&order=asc") == ["easter", "istanbul", "abu-dhabi"]
    assert rows(client, "/?sort=stages&order=desc")[0] == "easter"
    assert rows(client, "/?sort=status")[-1] == "easter"  # completed last
    page = parse(client.get("/?sort=title").text)
    sorted_header = page.select_one("th[aria-sort]")
    assert sorted_header is not None
    assert sorted_header["aria-sort"] == "ascending"
    assert text(sorted_header) == "Title"
    assert sorted_header.a["href"] == "/?sort=title&order=desc"  # type: ignore[index]


def test_an_exchange_never_agreed_is_dated_and_sorted_by_its_first_stage(
    client: TestClient, session: Session
) -> None:
    three_exchanges(session)
    make_exchange(
        session,
        stage_data(date=dt.date(2025, 6, 9)),
        stage_data(date=dt.date(2025, 6, 20)),
        slug="unannounced",
        title="Unannounced swaps",
        agreed_on=None,
    )
    make_exchange(session, slug="rumoured", title="Rumoured swap", agreed_on=None)
    assert rows(client, "/?sort=date") == [
        "abu-dhabi",
        "unannounced",
        "istanbul",
        "easter",
        "rumoured",
    ]
    page = parse(client.get("/?sort=date").text)
    dates = {row["id"]: text(row.select_one("td")) for row in page.select("tbody tr")}
    assert (dates["exchange-unannounced"], dates["exchange-rumoured"]) == ("9 June 2025", "—")
    assert page.select_one("#exchange-unannounced time")["datetime"] == "2025-06-09"  # type: ignore[index]


def test_search_matches_titles_in_either_language_whatever_the_case(
    client: TestClient, session: Session
) -> None:
    three_exchanges(session)
    assert rows(client, "/?q=ISTANBUL") == ["istanbul"]
    assert rows(client, "/?q=стамбул") == ["istanbul"]  # Cyrillic folded on both databases
    page = parse(client.get("/?q=istanbul").text)
    assert text(page.select_one(".matching")).startswith(
        "1 exchange where the title contains “istanbul”"
    )
    assert page.select_one(".matching a")["href"] == "/"  # type: ignore[index]
    assert rows(client, "/?q=nothing-like-it") == []


def test_ukrainian_readers_see_ukrainian_titles_and_party_names(
    client: TestClient, session: Session
) -> None:
    three_exchanges(session)
    name_parties_in_ukrainian(session, ukraine="Україна")
    page = parse(client.get("/?q=Стамбул&lang=uk").text)
    row = page.select_one("tr#exchange-istanbul")
    assert row is not None
    assert "Стамбул: 1000 на 1000" in text(row)
    assert "Україна" in text(row)


def test_the_latest_stages_are_named_in_the_readers_language(
    client: TestClient, session: Session
) -> None:
    three_exchanges(session)
    name_parties_in_ukrainian(session, ukraine="Україна")
    latest = parse(client.get("/?lang=uk").text).select(".stage-summary")
    titles = {item.a["href"].split("#")[0]: item.a for item in latest}  # type: ignore[index]
    assert text(titles["/exchanges/istanbul"]) == "Стамбул: 1000 на 1000"
    assert titles["/exchanges/istanbul"].get("lang") is None
    # No Ukrainian title: the English one stands in, marked so a screen reader switches voice.
    easter = titles["/exchanges/easter"].select_one("[lang=en]")
    assert easter is not None
    assert text(easter) == "Easter exchange"
    assert all("Україна" in text(item) for item in latest)


def test_empty_parameters_redirect_to_the_clean_permalink(client: TestClient) -> None:
    response = client.get("/?q=&sort=title&order=", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/?sort=title"


def test_a_bad_sort_or_order_is_a_400_that_says_why(client: TestClient, session: Session) -> None:
    three_exchanges(session)
    for url, words in (
        ("/?sort=colour", "cannot be sorted by “colour”"),
        ("/?order=up", "The order must be “asc” or “desc”, not “up”"),
    ):
        response = client.get(url)
        assert response.status_code == 400
        assert words in text(parse(response.text).select_one("#exchange-table .error"))
    assert client.get("/?page=x").status_code == 400


def test_htmx_gets_just_the_table_and_the_clean_address(
    client: TestClient, session: Session
) -> None:
    three_exchanges(session)
    response = client.get("/?sort=title&q=a", headers={"HX-Request": "true"})
    assert response.headers["HX-Push-Url"] == "/?sort=title&q=a"
    page = parse(response.text)
    assert page.select_one("#totals-heading") is None
    assert texts(page, "tbody tr td:nth-of-type(2)") == [
        "Abu Dhabi talks",
        "Easter exchange",
        "Istanbul: 1,000 for 1,000",
    ]


def test_the_database_cuts_the_table_into_pages_and_only_a_page_is_tallied(
    client: TestClient, engine: Engine, session: Session
) -> None:
    """Only the page's exchanges are tallied, so the home page costs the same with 26 exchanges
    as with 2,000; sorted pages follow on from each other; a page past the last shows the last."""
    sample_data.generate(engine, exchanges=120, stages=240)
    tallied = tallies_computed()
    pages = [rows(client, f"/?sort=title&order=desc&page={number}") for number in (1, 2, 3)]
    assert tallies_computed() - tallied == 50 + 50 + 20
    assert [len(page) for page in pages] == [50, 50, 20]
    titles = session.exec(select(Exchange.slug, Exchange.title)).all()
    by_title = [slug for slug, _ in sorted(titles, key=lambda row: row[1].lower(), reverse=True)]
    assert [slug for page in pages for slug in page] == by_title
    last = parse(client.get("/?sort=title&order=desc&page=9").text)
    assert [row["id"].removeprefix("exchange-") for row in last.select("tbody tr")] == pages[2]
    assert "Page 3 of 3" in text(last.select_one(".pager"))


def test_a_page_past_the_databases_integers_shows_the_last(
    client: TestClient, session: Session
) -> None:
    three_exchanges(session)
    for page in ("99999999999999999999", "9223372036854775807", "1000001"):
        assert rows(client, f"/?sort=title&page={page}") == ["abu-dhabi", "easter", "istanbul"]


def test_control_characters_in_a_search_are_dropped(client: TestClient, session: Session) -> None:
    three_exchanges(session)
    assert rows(client, "/?q=%00easter%1f") == ["easter"]
    assert len(rows(client, "/?q=%00")) == 3
