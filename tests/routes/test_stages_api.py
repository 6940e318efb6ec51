"""The stage timeline API and CSV exports: filters, keyset pages, and spreadsheet-safe cells."""

import csv
import datetime as dt
import io

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.main import create_app
from app.routes import api
from app.settings import Settings
from tests.factories import SOURCE, add_stage, confirming_sources, make_exchange, stage_data

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"


@pytest.fixture
def two_exchanges(session: Session) -> None:
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
            notes="Day 3, Mariupol defenders",
            sources=confirming_sources((303, 0)),
        ),
    )
    make_exchange(
        session,
        stage_data(
            a=(10, 0),
            date=dt.date(2024, 1, 3),
            status="disputed",
            sources=[SOURCE | {"publisher": "TASS", "claim": "Russian MoD figure"}],
        ),
        slug="belarus-swap",
        sides=[{"key": "a", "name": "Ukraine"}, {"key": "b", "name": "Belarus"}],
    )


def dates(client: TestClient, query: str) -> list[str]:
    response = client.get(f"/api/v1/stages?{query}")
    assert response.status_code == 200, response.text
    return [stage["date"] for stage in response.json()["stages"]]


@pytest.mark.usefixtures("two_exchanges")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["2025-05-25", "2025-05-24", "2025-05-23", "2024-01-03"]),
        ("exchange=belarus-swap", ["2024-01-03"]),
        ("side=Russia", ["2025-05-25", "2025-05-24", "2025-05-23"]),
        ("side=belarus", ["2024-01-03"]),
        ("party=belarus", ["2024-01-03"]),
        ("party=russia", ["2025-05-25", "2025-05-24", "2025-05-23"]),
        ("party=Russia", ["2025-05-25", "2025-05-24", "2025-05-23"]),
        ("party=nobody", []),
        ("from=2025-05-24", ["2025-05-25", "2025-05-24"]),
        ("to=2025-05-23", ["2025-05-23", "2024-01-03"]),
        ("status=reported", ["2025-05-24"]),
        ("q=mariupol", ["2025-05-25"]),
        ("q=tass", ["2024-01-03"]),
        ("exchange=istanbul-1000-for-1000&from=2025-05-24&status=confirmed", ["2025-05-25"]),
        ("side=Ukraine&to=2025-05-24&q=example", ["2025-05-24", "2025-05-23", "2024-01-03"]),
        ("from=&to=&status=", ["2025-05-25", "2025-05-24", "2025-05-23", "2024-01-03"]),
    ],
)
def test_filters_alone_and_combined(client: TestClient, query: str, expected: list[str]) -> None:
    assert dates(client, query) == expected


@pytest.mark.usefixtures("two_exchanges")
def test_pages_follow_next_links_without_gaps(client: TestClient) -> None:
    first = client.get("/api/v1/stages?limit=3").json()
    assert [s["date"] for s in first["stages"]] == ["2025-05-25", "2025-05-24", "2025-05-23"]
    assert first["next"] is not None
    second = client.get(first["next"]).json()
    assert [s["date"] for s in second["stages"]] == ["2024-01-03"]
    assert second["next"] is None


@pytest.mark.usefixtures("two_exchanges")
@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://swaptally.example/", "https://swaptally.example/api/v1/stages?limit=3&page="),
        ("", "/api/v1/stages?limit=3&page="),
    ],
)
def test_next_link_comes_from_base_url_never_the_host_header(
    database_url: str, base_url: str, expected: str
) -> None:
    settings = Settings(
        environment="test", database_url=database_url, secret_key="test", base_url=base_url
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/stages?limit=3", headers={"Host": "evil.example"})
        next_url = response.json()["next"]
        assert next_url == expected + "2025-05-23~1"
        second = client.get(next_url.removeprefix("https://swaptally.example")).json()
    assert [s["date"] for s in second["stages"]] == ["2024-01-03"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=yesterday", "from"), ("to=2025-13-01", "to"), ("status=rumoured", "status"),
     ("page=abc", "page"), ("from=2025-05-25&to=2025-05-01", "to"), ("limit=0", "limit"),
     ("page=2025-05-23~9223372036854775808", "page"), ("page=2025-05-23~" + "9" * 40, "page")],
)  # fmt: skip
def test_bad_filter_is_a_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/stages?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


@pytest.mark.usefixtures("two_exchanges")
def test_csv_has_one_row_per_stage_and_side(client: TestClient) -> None:
    response = client.get("/api/v1/exchanges/istanbul-1000-for-1000/stages.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["date"], r["side_name"], r["people"]) for r in rows] == [
        ("2025-05-23", "Ukraine", "390"), ("2025-05-23", "Russia", "390"),
        ("2025-05-24", "Ukraine", "307"), ("2025-05-24", "Russia", "307"),
        ("2025-05-25", "Ukraine", "303"), ("2025-05-25", "Russia", "303"),
    ]  # fmt: skip
    assert rows[0]["remains"] == ""
    assert rows[0]["source_urls"] == "https://example.org/ukraine https://example.org/russia"


def test_csv_defuses_formulas(client: TestClient, session: Session) -> None:
    make_exchange(
        session,
        stage_data(
            notes='=HYPERLINK("http://evil.example","x")',
            sources=[SOURCE | {"publisher": "@SUM(A1)"}],
        ),
        sides=[{"key": "a", "name": "-Ukraine"}, {"key": "b", "name": "+Russia"}],
    )
    rows = list(csv.reader(io.StringIO(client.get("/api/v1/stages.csv?side=a").text)))
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:3] == ["exchange", "stage_id", "date"]
    assert first["notes"] == '\'=HYPERLINK("http://evil.example","x")'
    assert (first["side_name"], first["source_publishers"]) == ("'-Ukraine", "'@SUM(A1)")
    assert (first["military"], first["people"]) == ("270", "390")


def test_csv_for_unknown_exchange_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/exchanges/nope/stages.csv").status_code == 404


@pytest.mark.usefixtures("two_exchanges")
@pytest.mark.parametrize(
    ("query", "expected"),
    [("q=%25", []), ("q=_", []), ("q=mari%00upol", ["2025-05-25"]), ("exchange=a%00b", [])],
)
def test_search_text_is_literal_and_control_characters_are_dropped(
    client: TestClient, query: str, expected: list[str]
) -> None:
    assert dates(client, query) == expected


@pytest.mark.parametrize("slug", ["nul%00byte", "UPPER", "a b", "x" * 300])
def test_impossible_slug_is_a_404_not_an_error(client: TestClient, slug: str) -> None:
    assert client.get(f"/api/v1/exchanges/{slug}").status_code == 404
    assert client.get(f"/exchanges/{slug}").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=20250524", "from"),  # date.fromisoformat reads it; the documented form is not it
        ("to=2025-W21-6", "to"),
        ("to=%03", "to"),
        ("page=%03", "page"),
        ("page=%202025-05-24~1", "page"),
        ("status=%00confirmed", "status"),
    ],
)
def test_a_documented_filter_is_taken_as_written_or_refused(
    client: TestClient, query: str, field: str
) -> None:
    """Schemathesis's negative_data_rejection found filters the schema refuses being taken:
    control characters and spaces were dropped from days and page tokens, as from free text."""
    for path in ("/api/v1/stages", "/api/v1/stages.csv"):
        answer = client.get(f"{path}?{query}")
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["query", field]


def test_as_of_is_a_day_as_documented_not_a_unix_time(client: TestClient) -> None:
    """pydantic reads `0` as 1 January 1970; the schema says YYYY-MM-DD (format date)."""
    answer = client.get("/api/v1/exchanges/any?as_of=0")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "as_of"]


def test_empty_filters_are_documented_as_none(client: TestClient) -> None:
    """A form sends a field left empty; the schema says so (a date, or empty)."""
    assert client.get("/api/v1/stages?from=&to=&page=&status=").status_code == 200
    parameters = client.get("/openapi.json").json()["paths"]["/api/v1/stages"]["get"]
    schemas = {p["name"]: p["schema"] for p in parameters["parameters"]}
    assert {"type": "string", "maxLength": 0} in schemas["from"]["anyOf"]
    assert {"type": "string", "format": "date"} in schemas["from"]["anyOf"]
    assert "" in schemas["status"]["enum"]


@pytest.mark.usefixtures("two_exchanges")
def test_the_csv_export_streams_a_page_of_stages_at_a_time_and_says_the_same(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of two stages: one header, every stage once, each exchange named on each of its
    rows (also on pages after the one that first read its names), as the whole export says."""
    whole = client.get("/api/v1/stages.csv").text
    monkeypatch.setattr(api, "EXPORT_PAGE_SIZE", 2)
    with client.stream("GET", "/api/v1/stages.csv") as response:
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        chunks = [chunk for chunk in response.iter_text() if chunk]
    assert len(chunks) >= 3  # the header, then pages
    assert "".join(chunks) == whole
    rows = list(csv.DictReader(io.StringIO(whole)))
    assert len({row["stage_id"] for row in rows}) == 4
    assert all(row["exchange_title"] and row["conflict"] for row in rows)
