"""Hardening II, input rules: every bad input through the form, the JSON API and the CSV
importer is a 4xx naming the field (never a 500), on SQLite and PostgreSQL, and nothing stored
is lost. One test per finding of the outside review."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import accounts, importer
from app.models import ApiToken, Stage
from tests.editing import csrf_token, make_user, post_form, sign_in
from tests.factories import make_exchange
from tests.html import parse
from tests.routes.test_editor import NEW_STAGE, SLUG, STAGE
from tests.routes.test_editor import errors_shown as editor_errors

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

STAGES_API = f"/api/v1/exchanges/{SLUG}/stages"
RELEASE = {"released_by": "russia", "received_by": "ukraine", "military": 1}
SOURCE = {"url": "https://example.org/report", "publisher": "Example Wire"}


@pytest.fixture
def editor(client: TestClient, session: Session) -> TestClient:
    make_user(session, "ed@example.org", role="admin")
    make_exchange(session)
    sign_in(client, "ed@example.org")
    return client


@pytest.fixture
def api(client: TestClient, session: Session) -> TestClient:
    user = make_user(session, "api@example.org")
    make_exchange(session)
    _, token = accounts.create_token(session, user=user, name="test")
    session.commit()
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def errors_shown(response: Any) -> dict[str, str]:
    return editor_errors(parse(response.text))


def stage_body(**changes: Any) -> dict[str, Any]:
    return {"date": "2025-05-23", "releases": [RELEASE], "sources": [SOURCE]} | changes


def posted(client: TestClient, body: str) -> Any:
    headers = {"Content-Type": "application/json"}
    return client.post(STAGES_API, content=body, headers=headers)


def locs(response: Any) -> list[list[Any]]:
    return [error["loc"] for error in response.json()["detail"]]


# ---- 1. NUL and other control characters ----------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"notes": "a\x00b"}, "notes"),
        ({"notes": "a\x1bb"}, "notes"),
        ({"source_0_publisher": "Wire\x00"}, "source_0_publisher"),
        ({"source_0_url": "https://example.org/\x07"}, "source_0_url"),
    ],
)
def test_nul_and_control_characters_in_forms_are_refused_beside_the_field(
    editor: TestClient, session: Session, change: dict[str, str], field: str
) -> None:
    response = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | change)
    assert response.status_code == 400
    assert list(errors_shown(response)) == [field]
    assert session.exec(select(Stage)).all() == []


def test_notes_keep_tabs_and_line_breaks(editor: TestClient, session: Session) -> None:
    response = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"notes": "one\ttwo\r\nthree"})
    assert response.status_code == 303
    assert [stage.notes for stage in session.exec(select(Stage))] == ["one\ttwo\r\nthree"]


def test_nul_in_the_exchange_title_through_the_api_is_422_naming_it(api: TestClient) -> None:
    body = {"slug": "new-one", "title": "a\x00b", "sides": [{"key": "a", "name": "U\x01"},
            {"key": "b", "name": "R"}]}  # fmt: skip
    response = api.post("/api/v1/exchanges", json=body)
    assert response.status_code == 422
    assert locs(response) == [["body", "title"], ["body", "sides", 0, "name"]]


def test_nul_in_sign_in_is_a_wrong_email_or_password(client: TestClient) -> None:
    token = csrf_token(client, "/login")
    form = {"email": "ed\x00@example.org", "password": "x\x00", "csrftoken": token}
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 400
    assert "wrong email or password" in response.text


def test_nul_in_a_token_name_is_refused_beside_the_field(
    editor: TestClient, session: Session
) -> None:
    response = post_form(editor, "/editor/tokens", "/editor/tokens", {"name": "laptop\x00"})
    assert response.status_code == 400
    assert session.exec(select(ApiToken)).all() == []


# ---- 2. counts parsed strictly --------------------------------------------------------------


@pytest.mark.parametrize("typed", ["--5", "\u00b2", "\u0663", "1e3", "5_0"])
def test_counts_like_double_minus_or_superscripts_are_refused_beside_the_field(
    editor: TestClient, typed: str
) -> None:
    response = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"release_0_military": typed})
    assert response.status_code == 400
    assert errors_shown(response) == {
        "release_0_military": "enter a whole number, or leave it empty if not disclosed"
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [({"planned_stages": "99999999999"}, "planned_stages"),
     ({"planned_stages": "\u00b2"}, "planned_stages"),
     ({"party_0_official_number": "99999999999"}, "party_0_official_number")],
)  # fmt: skip
def test_exchange_form_counts_past_any_column_are_refused_beside_the_field(
    editor: TestClient, change: dict[str, str], field: str
) -> None:
    form = {
        "slug": "another", "title": "Another", "status": "announced", "published": "",
        "conflict_slug": "russia-ukraine-war", "conflict_name": "Russia-Ukraine war",
        "party_0_slug": "ukraine", "party_1_slug": "russia",
    } | change  # fmt: skip
    page = "/editor/exchanges/new"
    response = post_form(editor, page, page, form)
    assert response.status_code == 400
    assert list(errors_shown(response)) == [field]


# ---- 3. numbers JSON cannot say back ----------------------------------------------------------


@pytest.mark.parametrize("number", ["1e309", "NaN", "-Infinity", "true", "1.5"])
def test_non_finite_and_non_integer_numbers_in_the_api_are_422_naming_the_field(
    api: TestClient, session: Session, number: str
) -> None:
    body = json.dumps(stage_body()).replace('"military": 1', f'"military": {number}')
    response = posted(api, body)
    assert response.status_code == 422
    assert locs(response) == [["body", "releases", 0, "military"]]
    assert session.exec(select(Stage)).all() == []


# ---- 4. ids past the database's integers ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/editor/stages/99999999999999999999"), ("GET", "/editor/stages/3000000000"),
     ("GET", "/editor/stages/3000000000/history"),
     ("POST", "/editor/stages/99999999999999999999/delete"),
     ("POST", "/admin/stages/99999999999999999999/restore"),
     ("POST", "/admin/stages/3000000000/restore"),
     ("POST", "/admin/users/99999999999999999999"),
     ("POST", "/editor/tokens/3000000000/revoke")],
)  # fmt: skip
def test_ids_beyond_the_database_in_editor_and_admin_urls_are_404(
    editor: TestClient, method: str, path: str
) -> None:
    data = {"csrftoken": csrf_token(editor, "/editor/tokens")} if method == "POST" else None
    response = editor.request(method, path, data=data, follow_redirects=False)
    assert response.status_code == 404


def test_ids_beyond_the_database_in_the_api_are_404(api: TestClient) -> None:
    assert api.get("/api/v1/stages/99999999999999999999").status_code == 404
    assert api.get("/api/v1/stages/3000000000").status_code == 404


# ---- 5. export then import loses nothing ------------------------------------------------------


def test_source_urls_with_whitespace_are_refused(api: TestClient) -> None:
    source = SOURCE | {"url": "https://example.org/a b"}
    response = api.post(STAGES_API, json=stage_body(sources=[source]))
    assert response.status_code == 422
    assert locs(response) == [["body", "sources", 0, "url"]]


def test_publishers_holding_the_export_separator_are_refused(api: TestClient) -> None:
    source = SOURCE | {"publisher": "Wire; Agency"}
    response = api.post(STAGES_API, json=stage_body(sources=[source, SOURCE]))
    assert response.status_code == 422
    assert locs(response) == [["body", "sources", 0, "publisher"]]


@pytest.mark.parametrize(
    ("body", "loc"),
    [(stage_body(date="0001-01-01"), ["body", "date"]),
     (stage_body(date="9999-12-31"), ["body", "date"]),
     (stage_body(sources=[SOURCE | {"published_at": "0001-01-01"}]),
      ["body", "sources", 0, "published_at"])],
)  # fmt: skip
def test_stage_and_source_dates_outside_a_plausible_range_are_refused(
    api: TestClient, body: dict[str, Any], loc: list[Any]
) -> None:
    response = api.post(STAGES_API, json=body)
    assert response.status_code == 422
    assert locs(response) == [loc]


def test_every_date_of_an_exchange_has_a_plausible_range(api: TestClient) -> None:
    body = {
        "slug": "dated", "title": "Dated", "agreed_on": "0001-01-01",
        "conflict": {"slug": "russia-ukraine-war", "name": "Russia-Ukraine war"},
        "parties": [{"slug": "ukraine"}, {"slug": "russia"}],
        "terms": [{"effective": "9999-12-31"}],
    }  # fmt: skip
    response = api.post("/api/v1/exchanges", json=body)
    assert response.status_code == 422
    assert locs(response) == [["body", "agreed_on"], ["body", "terms", 0, "effective"]]
    total = {"party": "ukraine", "as_of": "0001-01-01", "people": 5, "source": SOURCE}
    response = api.post("/api/v1/conflicts/russia-ukraine-war/official-totals", json=total)
    assert (response.status_code, locs(response)) == (422, [["body", "as_of"]])


def test_a_boolean_count_is_refused_not_stored_as_one(api: TestClient) -> None:
    response = api.post(STAGES_API, json=stage_body(releases=[RELEASE | {"military": True}]))
    assert response.status_code == 422
    assert locs(response) == [["body", "releases", 0, "military"]]


@pytest.mark.parametrize(
    ("changes", "loc"),
    [({"mediators": ["x" * 900_000]}, ["body", "mediators", 0]),
     ({"mediators": ["Türkiye"] * 20_000}, ["body", "mediators"])],
)  # fmt: skip
def test_huge_mediators_and_lists_are_refused(
    api: TestClient, changes: dict[str, Any], loc: list[Any]
) -> None:
    body = {"slug": "huge", "title": "Huge"} | changes
    response = api.post("/api/v1/exchanges", json=body)
    assert response.status_code == 422
    assert locs(response) == [loc]


def test_many_releases_sources_and_categories_are_refused(api: TestClient) -> None:
    many = {f"c{n}": 0 for n in range(21)}
    body = stage_body(releases=[RELEASE] * 51, sources=[SOURCE] * 51)
    response = api.post(STAGES_API, json=body)
    assert (response.status_code, locs(response)) == (
        422, [["body", "releases"], ["body", "sources"]],
    )  # fmt: skip
    response = api.post(STAGES_API, json=stage_body(releases=[RELEASE | {"categories": many}]))
    assert (response.status_code, locs(response)) == (
        422, [["body", "releases", 0, "categories"]],
    )  # fmt: skip


def test_the_form_refuses_long_notes_beside_the_field_keeping_them(
    editor: TestClient, session: Session
) -> None:
    notes = "n" * 25_000  # past what the form used to keep (20,000), so it was cut short
    response = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"notes": notes})
    assert response.status_code == 400
    assert errors_shown(response) == {"notes": "is too long: at most 10000 characters"}
    assert parse(response.text).select_one("#f-notes").get_text() == notes  # type: ignore[union-attr]
    assert session.exec(select(Stage)).all() == []


def test_a_csv_header_ending_in_an_empty_column_imports(session: Session) -> None:
    make_exchange(session)
    header = "exchange,date,released_by,received_by,military,civilian,people,remains,"
    header += "source_urls,source_publishers,"
    row = f"{SLUG},2025-05-23,russia,ukraine,1,,,,https://example.org/r,Wire,"
    report = importer.import_csv(
        session, f"{header}\r\n{row}\r\n", actor="t", user_id=None, dry_run=True
    )
    assert [(entry.action, entry.reason) for entry in report.entries] == [("create", "new stage")]


def test_a_csv_header_with_an_unnamed_column_is_refused_for_the_file(session: Session) -> None:
    header = "exchange,,date,released_by,received_by,military,civilian,people,remains,"
    header += "source_urls,source_publishers"
    report = importer.import_csv(session, header + "\r\n", actor="t", user_id=None, dry_run=True)
    assert [entry.reason for entry in report.entries] == [
        "column(s) without a name in the header, numbered from 1: 2; nothing imported"
    ]


# ---- 6. the OpenAPI document says what the API does --------------------------------------


def test_an_empty_oembed_format_is_json(client: TestClient) -> None:
    absent = client.get("/oembed", params={"url": "https://example.org/"})
    empty = client.get("/oembed", params={"url": "https://example.org/", "format": ""})
    assert (empty.status_code, empty.json()) == (absent.status_code, absent.json())
    assert empty.status_code != 501
