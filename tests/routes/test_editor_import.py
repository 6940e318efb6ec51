"""The CSV upload page: a dry run per row first, then the import of exactly the checked bytes."""

import base64
import csv
import datetime as dt
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.models import Party, Revision, Stage, StageRelease
from app.routes.editor import MAX_IMPORT_BYTES
from tests.editing import csrf_token, make_user, sign_in
from tests.factories import SOURCE, make_exchange, stage_data
from tests.html import parse, text, texts

PAGE = "/editor/import"


@pytest.fixture
def editor(client: TestClient, session: Session) -> TestClient:
    make_exchange(
        session,
        stage_data(
            a=(270, 120),
            sources=[
                SOURCE | {"claim": "Ukraine: 390 returned"},
                SOURCE | {"url": "https://tass.example/1", "claim": "Russia:\n390 returned"},
            ],
        ),
    )
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    return client


def upload(client: TestClient, body: bytes, name: str = "stages.csv") -> Any:
    return client.post(
        PAGE,
        data={"csrftoken": csrf_token(client, PAGE)},
        files={"file": (name, body, "text/csv")},
    )


def apply_checked(client: TestClient, checked_page: str) -> Any:
    field = parse(checked_page).select_one('input[name="checked"]')
    assert field is not None, "the dry run offers no import button"
    return client.post(
        PAGE, data={"csrftoken": csrf_token(client, PAGE), "checked": field["value"]}
    )


def to_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def actions(page: str) -> list[str]:
    return texts(parse(page), "#import-report td:nth-child(4)")


def at(page: str, selector: str) -> str:
    return text(parse(page).select_one(selector))


def stage_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Stage)) or 0


def test_reimporting_the_export_changes_nothing_and_offers_no_import(
    editor: TestClient, session: Session
) -> None:
    exported = editor.get("/api/v1/stages.csv").content
    revisions = session.scalar(select(func.count()).select_from(Revision))

    response = upload(editor, exported)

    assert response.status_code == 200
    page = response.text
    assert actions(page) == ["unchanged"]
    assert "0 to create, 0 updated" not in page
    assert at(page, "#import-summary") == "0 to create, 0 to update, 1 unchanged, 0 refused."
    assert parse(page).select_one('input[name="checked"]') is None
    assert session.scalar(select(func.count()).select_from(Revision)) == revisions


def test_dry_run_saves_nothing_then_import_applies_the_checked_bytes(
    editor: TestClient, session: Session
) -> None:
    rows = list(csv.DictReader(io.StringIO(editor.get("/api/v1/stages.csv").text)))
    rows[0] |= {"military": "271", "people": "391"}
    rows += [row | {"stage_id": "", "date": "2025-05-24"} for row in rows]
    added = to_csv(rows)

    dry = upload(editor, added.encode())

    page = dry.text
    assert actions(page) == ["update", "create"]
    assert at(page, "#import-summary") == "1 to create, 1 to update, 0 unchanged, 0 refused."
    assert "Import 2 stages" in page
    assert stage_count(session) == 1
    session.expire_all()
    assert (
        session.scalar(
            select(StageRelease.military)
            .join(Party, col(Party.id) == StageRelease.received_by)
            .where(Party.slug == "ukraine")
        )
        == 270
    )

    applied = apply_checked(editor, page)

    assert applied.status_code == 200
    assert "Imported: 1 created, 1 updated, 0 unchanged, 0 refused." in applied.text
    session.expire_all()
    assert stage_count(session) == 2
    latest = session.scalars(select(Revision).order_by(Revision.id.desc())).first()
    assert latest is not None
    assert latest.actor == "ed@example.org"
    # The claim with a line break inside a quoted cell came through unchanged: a second upload of
    # the same file finds nothing to do.
    assert actions(upload(editor, added.encode()).text) == ["unchanged", "unchanged"]


@pytest.mark.parametrize(
    ("cells", "column", "why"),
    [
        ({"military": "-5"}, "military",
         "military (line 2): Input should be greater than or equal to 0"),
        ({"received_by": "belarus"}, "received_by", "received_by (line 2): belarus is not a"
         " party of istanbul-1000-for-1000 (russia, ukraine)"),
        ({"qualifier": "roughly"}, "qualifier", "qualifier (line 2): 'roughly': Input should be"
         " 'exact', 'about' or 'at_least'"),
        ({"outside_deal": "maybe"}, "outside_deal", "outside_deal (line 2): 'maybe': Input"
         " should be a valid boolean, unable to interpret input"),
    ],
)  # fmt: skip
def test_refused_rows_say_which_column_and_why(
    editor: TestClient, cells: dict[str, str], column: str, why: str
) -> None:
    rows = list(csv.DictReader(io.StringIO(editor.get("/api/v1/stages.csv").text)))
    rows[0] |= cells

    page = upload(editor, to_csv(rows).encode()).text

    assert actions(page) == ["refused"]
    cell = parse(page).select_one("#import-report td:nth-child(5)")
    assert cell is not None
    assert (text(cell.select_one("code")), cell.get_text()) == (column, f"{column}: {why}")
    assert parse(page).select_one('input[name="checked"]') is None


def test_a_file_in_the_first_apis_layout_still_imports(editor: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(editor.get("/api/v1/stages.csv").text)))
    first_api = ["exchange", "stage_id", "date", "status", "side", "side_name", "military",
                 "civilian", "people", "remains", "notes", "source_urls", "source_publishers",
                 "exchange_title", "source_published_at", "source_claims"]  # fmt: skip
    sides = [{name: row[name] for name in first_api} for row in rows]
    sides[1] |= {"military": "271", "people": "391"}

    page = upload(editor, to_csv(sides).encode()).text

    assert [(row["side"], row["received_by"]) for row in rows] == [
        ("a", "ukraine"),
        ("b", "russia"),
    ]
    assert actions(page) == ["update"]
    assert at(page, "#import-report td:nth-child(5)") == "stage 1: releases changed"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "choose a CSV file to import"),
        (b"exchange,date\n\xff\xfe", "not UTF-8 text"),
        (b"x" * (MAX_IMPORT_BYTES + 1), "larger than 5 MB"),
    ],
    ids=["empty", "not-utf8", "too-big"],
)
def test_a_bad_file_gets_an_error_beside_the_field(
    editor: TestClient, session: Session, body: bytes, message: str
) -> None:
    response = upload(editor, body)

    assert response.status_code == 400
    page = response.text
    assert message in at(page, "#error-file")
    field = parse(page).select_one("#f-file")
    assert field is not None
    assert field["aria-invalid"] == "true"
    assert stage_count(session) == 1


def test_a_damaged_checked_file_is_refused(editor: TestClient) -> None:
    response = editor.post(
        PAGE, data={"csrftoken": csrf_token(editor, PAGE), "checked": "not base64!"}
    )

    assert response.status_code == 400
    assert "damaged" in at(response.text, "#error-file")


def test_an_upload_without_a_csrf_token_is_refused(editor: TestClient, session: Session) -> None:
    body = base64.b64encode(editor.get("/api/v1/stages.csv").content).decode()

    response = editor.post(PAGE, data={"checked": body})

    assert response.status_code == 403
    assert stage_count(session) == 1


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_file_upload_without_the_csrf_token_is_refused(
    editor: TestClient, session: Session, token: str | None
) -> None:
    exported = editor.get("/api/v1/stages.csv").text.replace(",270,120,390,", ",1,1,2,")
    data = {} if token is None else {"csrftoken": token}

    response = editor.post(PAGE, data=data, files={"file": ("s.csv", exported, "text/csv")})

    assert response.status_code == 403
    session.expire_all()
    assert (
        session.scalar(
            select(StageRelease.military)
            .join(Party, col(Party.id) == StageRelease.received_by)
            .where(Party.slug == "ukraine")
        )
        == 270
    )


def test_a_file_of_the_largest_size_allowed_is_checked_then_imported(
    editor: TestClient, session: Session
) -> None:
    # Found by the attack review: past about 780 KB the dry run passed and its "Import"
    # confirmation, the same bytes base64-encoded, was refused as a field over 1024 KB.
    # Few stages, each row padded by a column the importer does not read, to stay quick.
    stage = list(csv.DictReader(io.StringIO(editor.get("/api/v1/stages.csv").text)))
    rows: list[dict[str, str]] = []
    day = dt.date(2015, 1, 1)
    while len(to_csv([*rows, *stage]).encode()) < MAX_IMPORT_BYTES - 250_000:
        day += dt.timedelta(days=1)
        filler = {"stage_id": "", "date": day.isoformat(), "remark": "x" * 100_000}
        rows += [r | filler for r in stage]
    body = to_csv(rows).encode()
    assert MAX_IMPORT_BYTES - 500_000 < len(body) <= MAX_IMPORT_BYTES

    checked = upload(editor, body)
    assert checked.status_code == 200
    assert set(actions(checked.text)) == {"create"}
    imported = apply_checked(editor, checked.text)

    assert imported.status_code == 200
    assert "Field exceeded" not in imported.text
    assert stage_count(session) == 1 + len(rows) // 2
