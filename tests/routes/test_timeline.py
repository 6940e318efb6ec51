"""The timeline page: filters as permalinks, htmx fragments, the no-JavaScript path, errors."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import (
    SOURCE,
    add_stage,
    confirming_sources,
    make_exchange,
    name_parties_in_ukrainian,
    stage_data,
)
from tests.html import parse, text, texts

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

HTMX = {"HX-Request": "true"}


@pytest.fixture
def stages(session: Session) -> None:
    # Kyiv and Moscow give the same figures for days 1 and 3: those stages are confirmed.
    istanbul = make_exchange(
        session,
        stage_data(a=(270, 120), date=dt.date(2025, 5, 23), sources=confirming_sources((270, 120))),
    )
    add_stage(
        session, istanbul, stage_data(a=(307, 0), date=dt.date(2025, 5, 24), status="reported")
    )
    add_stage(
        session,
        istanbul,
        stage_data(
            a=(303, 0),
            date=dt.date(2025, 5, 25),
            notes="Mariupol",
            sources=confirming_sources((303, 0)),
        ),
    )
    make_exchange(
        session,
        stage_data(
            a=(10, 0),
            b=(None, None),
            date=dt.date(2024, 1, 3),
            status="disputed",
            notes="Обмін під Києвом",
            sources=[SOURCE | {"publisher": "TASS", "claim": "Повернулися до Києва."}],
        ),
        slug="belarus-swap",
        title="Belarus swap",
        sides=[{"key": "a", "name": "Ukraine"}, {"key": "b", "name": "Belarus"}],
    )


def shown(client: TestClient, query: str, headers: dict[str, str] | None = None) -> list[str]:
    response = client.get(f"/timeline?{query}", headers=headers or {})
    assert response.status_code == 200, response.text
    return [li.time["datetime"] for li in parse(response.text).select(".stage-list .stage-summary")]  # type: ignore[index]


@pytest.mark.usefixtures("stages")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["2025-05-25", "2025-05-24", "2025-05-23", "2024-01-03"]),
        ("exchange=belarus-swap", ["2024-01-03"]),
        ("side=Belarus", ["2024-01-03"]),
        ("from=2025-05-24", ["2025-05-25", "2025-05-24"]),
        ("to=2024-12-31", ["2024-01-03"]),
        ("status=disputed", ["2024-01-03"]),
        ("q=MARIUPOL", ["2025-05-25"]),
        ("q=tass", ["2024-01-03"]),
        ("q=ОБМІН", ["2024-01-03"]),  # Cyrillic folds on SQLite as on PostgreSQL
        ("q=києва", ["2024-01-03"]),
        ("q=БЛОКУВАННЯ", []),
        ("side=Russia&status=confirmed&from=2025-05-24&q=mariupol", ["2025-05-25"]),
        ("exchange=belarus-swap&status=confirmed", []),
    ],
)
def test_filters_alone_and_combined(client: TestClient, query: str, expected: list[str]) -> None:
    assert shown(client, query) == expected


@pytest.mark.usefixtures("stages")
def test_htmx_gets_only_the_results_fragment(client: TestClient) -> None:
    fragment = client.get("/timeline?status=reported", headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.headers["vary"].startswith("HX-Request")
    assert "<html" not in fragment.text
    assert parse(fragment.text).select_one("form") is None
    assert shown(client, "status=reported", HTMX) == ["2025-05-24"]
    restore = client.get(
        "/timeline?status=reported", headers=HTMX | {"HX-History-Restore-Request": "true"}
    )
    assert parse(restore.text).select_one("form.filters") is not None


@pytest.mark.usefixtures("stages")
def test_the_page_is_a_permalink_that_keeps_the_form_filled(client: TestClient) -> None:
    page = parse(client.get("/timeline?exchange=belarus-swap&status=disputed&q=tass").text)
    form = page.select_one("form.filters")
    assert form is not None
    assert (form["method"], form["action"]) == ("get", "/timeline")
    assert form["hx-push-url"] == "true"
    assert form.select_one("#filter-exchange option[selected]")["value"] == "belarus-swap"  # type: ignore[index]
    assert form.select_one("#filter-status option[selected]")["value"] == "disputed"  # type: ignore[index]
    assert form.select_one("#filter-q")["value"] == "tass"  # type: ignore[index]
    assert texts(page, ".stage-list .stage-summary") == [
        "3 January 2024 Belarus swap Ukraine 10 · Belarus undisclosed disputed TASS"
    ]


def test_pages_link_to_older_stages(client: TestClient, session: Session) -> None:
    exchange = make_exchange(session, stage_data(date=dt.date(2022, 1, 1)))
    for day in range(1, 55):
        add_stage(session, exchange, stage_data(date=dt.date(2022, 1, 1) + dt.timedelta(days=day)))
    first = parse(client.get("/timeline?status=reported").text)
    assert len(first.select(".stage-list .stage-summary")) == 50
    older = first.select_one('.pager a[rel="next"]')
    assert older is not None
    assert older["href"] == older["hx-get"]
    assert str(older["href"]).startswith("/timeline?status=reported&page=2022-01-06~")
    second = parse(client.get(str(older["href"])).text)
    assert [li.time["datetime"] for li in second.select(".stage-list .stage-summary")] == [  # type: ignore[index]
        "2022-01-05", "2022-01-04", "2022-01-03", "2022-01-02", "2022-01-01",
    ]  # fmt: skip
    assert second.select_one('.pager a[rel="next"]') is None
    assert texts(second, ".pager a") == ["← Newest"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=soon", "from", "use a date like 2025-05-23"),
        ("status=rumoured", "status", "choose one of reported, confirmed, disputed"),
        ("from=2025-05-25&to=2025-05-01", "to", "the end date is before the start date"),
        ("page=xyz", "page", "not a page of this timeline; start from page 1"),
        (
            "page=2025-05-23~9223372036854775808",
            "page",
            "not a page of this timeline; start from page 1",
        ),
        ("page=2025-05-23~" + "9" * 40, "page", "not a page of this timeline; start from page 1"),
        ("page=2025-02-30~1", "page", "not a page of this timeline; start from page 1"),
    ],
)
def test_bad_filter_shows_an_error_beside_the_field(
    client: TestClient, query: str, field: str, message: str
) -> None:
    response = client.get(f"/timeline?{query}")
    assert response.status_code == 400
    page = parse(response.text)
    assert text(page.select_one(f"#error-{field}")) == message
    if field != "page":
        assert page.select_one(f"#filter-{field}")["aria-invalid"] == "true"  # type: ignore[index]


def test_errors_are_translated(client: TestClient) -> None:
    page = parse(client.get("/timeline?from=soon&lang=uk").text)
    assert text(page.select_one("#error-from")) == "вкажіть дату у форматі 2025-05-23"


def test_the_largest_cursor_id_is_a_page(client: TestClient) -> None:
    """18 digits is the most a cursor id may have: it still fits the database's integers."""
    response = client.get("/timeline?page=2025-05-23~" + "9" * 18)
    assert response.status_code == 200


def test_side_names_in_cyrillic_match_in_any_case(client: TestClient, session: Session) -> None:
    make_exchange(
        session,
        stage_data(),
        sides=[{"key": "a", "name": "Україна"}, {"key": "b", "name": "Росія"}],
    )
    assert shown(client, "side=УКРАЇНА") == ["2025-05-23"]
    assert shown(client, "side=білорусь") == []


def htmx_swaps(page_html: str, status: int) -> bool:
    """Whether htmx 2 swaps a response with this status on this page: its first
    `responseHandling` rule whose code matches (an unanchored regex, as in htmx.js) decides."""
    meta = parse(page_html).select_one('meta[name="htmx-config"]')
    assert meta is not None
    rules = json.loads(str(meta["content"]))["responseHandling"]
    rule = next((r for r in rules if re.search(r["code"], str(status))), {"swap": False})
    return bool(rule["swap"])


@pytest.mark.parametrize(
    ("query", "summary"),
    [
        ("from=2025-05-25&to=2025-05-01", ["To: the end date is before the start date"]),
        ("status=rumoured", ["Status: choose one of reported, confirmed, disputed"]),
        ("page=2025-05-23~" + "9" * 30, ["not a page of this timeline; start from page 1"]),
    ],
)
def test_htmx_swaps_a_bad_filter_error_into_the_results(
    client: TestClient, query: str, summary: list[str]
) -> None:
    """With JavaScript on only #timeline-results changes, so the error must be in it, and
    htmx must be told to swap a 400 (by default it swaps no 4xx)."""
    fragment = client.get(f"/timeline?{query}", headers=HTMX)
    assert fragment.status_code == 400
    assert "<html" not in fragment.text
    results = parse(fragment.text)
    shown_errors = [" ".join(p.get_text().split()) for p in results.select(".error-summary .error")]
    assert shown_errors == summary
    assert results.select(".stage-list") == []
    page = client.get("/timeline")
    assert htmx_swaps(page.text, 400)
    assert [htmx_swaps(page.text, code) for code in (200, 204, 403, 404, 422, 500)] == [
        True, False, False, False, False, False,
    ]  # fmt: skip


def test_field_errors_link_from_the_summary_to_the_field(client: TestClient) -> None:
    page = parse(client.get("/timeline?from=soon").text)
    [link] = page.select("#timeline-results .error-summary a")
    assert link["href"] == "#filter-from"
    assert page.select_one("#filter-from") is not None
    assert text(page.select_one("#error-from")) == "use a date like 2025-05-23"


# ---- what one party received, the count, the downloads, clean permalinks ------------------


@pytest.mark.usefixtures("stages")
@pytest.mark.parametrize(
    "query", ["party=russia", "side=Russia", "side=b&exchange=istanbul-1000-for-1000"]
)
def test_a_party_filter_keeps_its_stages_and_only_its_figures(
    client: TestClient, query: str
) -> None:
    page = parse(client.get(f"/timeline?{query}").text)
    assert texts(page, ".stage-summary .stage-counts") == ["Russia 303", "Russia 307", "Russia 390"]
    api = client.get(f"/api/v1/stages?{query}").json()["stages"]
    assert [[r["received_by"] for r in s["releases"]] for s in api] == [["russia"]] * 3
    assert [[side["key"] for side in s["sides"]] for s in api] == [["b"]] * 3


@pytest.mark.usefixtures("stages")
def test_search_finds_exchange_titles_and_announcers(client: TestClient) -> None:
    assert shown(client, "q=istanbul") == ["2025-05-25", "2025-05-24", "2025-05-23"]
    assert shown(client, "q=belarus%20SWAP") == ["2024-01-03"]


@pytest.mark.usefixtures("stages")
def test_the_count_says_each_filter_and_each_can_be_removed(client: TestClient) -> None:
    page = parse(client.get("/timeline?party=russia&status=confirmed&from=2025-05-24").text)
    assert text(page.select_one("#result-count")) == "1 stage where"
    assert texts(page, ".active-filters li > span") == [
        "Received by: Russia", "From: 24 May 2025", "Status: confirmed",
    ]  # fmt: skip
    links = [str(a["href"]) for a in page.select(".active-filters a")]
    assert links == [
        "/timeline?from=2025-05-24&status=confirmed",
        "/timeline?party=russia&status=confirmed",
        "/timeline?party=russia&from=2025-05-24",
    ]
    everything = parse(client.get("/timeline").text)
    assert text(everything.select_one("#result-count")) == "4 stages"
    assert everything.select(".active-filters") == []
    uk = parse(client.get("/timeline?party=russia&lang=uk").text)
    assert text(uk.select_one("#result-count")).startswith("3 етапи")


@pytest.mark.usefixtures("stages")
def test_the_downloads_hold_exactly_the_stages_and_figures_shown(client: TestClient) -> None:
    page = parse(client.get("/timeline?party=russia&from=2025-05-24").text)
    csv_link, json_link = (str(a["href"]) for a in page.select(".downloads a"))
    assert csv_link == "/api/v1/stages.csv?party=russia&from=2025-05-24"
    rows = list(csv.DictReader(io.StringIO(client.get(csv_link).text)))
    assert [(r["date"], r["received_by"]) for r in rows] == [
        ("2025-05-25", "russia"), ("2025-05-24", "russia"),
    ]  # fmt: skip
    shown_dates = [li.time["datetime"] for li in page.select(".stage-list .stage-summary")]  # type: ignore[index]
    assert [s["date"] for s in client.get(json_link).json()["stages"]] == shown_dates


@pytest.mark.usefixtures("stages")
def test_a_permalink_has_no_empty_parameters(client: TestClient) -> None:
    sent = client.get(
        "/timeline?exchange=&party=&from=&status=disputed&q=&lang=en", follow_redirects=False
    )
    assert (sent.status_code, sent.headers["location"]) == (
        303,
        "/timeline?status=disputed&lang=en",
    )
    fragment = client.get("/timeline?exchange=&status=disputed", headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.headers["HX-Push-Url"] == "/timeline?status=disputed"


def test_ukrainian_readers_see_ukrainian_titles_and_party_names(
    client: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(), title_uk="Стамбул: 1000 на 1000")
    name_parties_in_ukrainian(session, ukraine="Україна", russia="Росія")
    page = parse(client.get("/timeline?lang=uk&party=russia").text)
    assert texts(page, ".stage-list .stage-summary a") == ["Стамбул: 1000 на 1000"]
    assert texts(page, ".stage-list .stage-summary .stage-counts") == ["Росія 390"]
    assert texts(page, ".active-filters li > span") == ["Отримала: Росія"]
    assert "Стамбул: 1000 на 1000" in texts(page, "#filter-exchange option")
    english = parse(client.get("/timeline?lang=en").text)
    assert texts(english, ".stage-list .stage-summary a") == ["Istanbul 1,000 for 1,000"]


def test_a_disputed_stage_says_who_said_what_beside_its_figures(
    client: TestClient, session: Session
) -> None:
    sources = confirming_sources((270, 120))
    moscow = sources[1]
    moscow["figures"] = [
        {"received_by": "ukraine", "military": 270, "civilian": 120},
        {"received_by": "russia", "military": 246, "civilian": 120},
    ]
    make_exchange(session, stage_data(a=(270, 120), sources=sources))
    page = parse(client.get("/timeline").text)
    assert texts(page, ".stage-summary .stage-claims") == [
        "Who said what: Russia 270 soldiers + 120 civilians (Ukraine's Coordination Headquarters)"
        " or 246 soldiers + 120 civilians (Russian Defence Ministry)"
    ]  # what both gave Ukraine agrees, so only Russia's figure is in question
    assert texts(page, ".stage-summary .badge") == ["disputed"]
    assert texts(parse(client.get("/timeline?party=ukraine").text), ".stage-claims") == []
    name_parties_in_ukrainian(session, ukraine="Україна", russia="Росія")
    uk = parse(client.get("/timeline?lang=uk&party=russia").text)
    assert texts(uk, ".stage-claims")[0].startswith("Хто що заявив: Росія 270 ")
    assert " або 246 " in texts(uk, ".stage-claims")[0]
