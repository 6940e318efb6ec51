"""The editors' side through HTTP: forms, errors beside fields, preview, conflicts, history."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Revision, Stage
from tests.editing import csrf_token, make_user, post_form, sign_in
from tests.factories import make_exchange, stage_data
from tests.html import parse, text, texts

TODAY = dt.datetime.now(dt.UTC).date()
STAGE = {
    "date": "2025-05-23", "status": "confirmed", "published": "1", "same": "1",
    "a_military": "270", "a_civilian": "120", "a_remains": "",
    "source_url": "https://example.org/report", "source_publisher": "Example Wire",
    "source_published_at": "2025-05-23", "source_claim": "Both sides confirmed",
}  # fmt: skip
NEW_STAGE = "/editor/exchanges/istanbul-1000-for-1000/stages/new"
WHOLE_NUMBER = "enter a whole number, or leave it empty if not disclosed"
TOO_MANY = "more than 100,000 in one stage is not plausible"
HTTP_ONLY = "must be an http:// or https:// address"
TOO_LATE = "a stage cannot be later than tomorrow"


@pytest.fixture
def editor(client: TestClient, session: Session) -> TestClient:
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    return client


@pytest.fixture
def other_editor(client: TestClient, session: Session) -> Iterator[TestClient]:
    make_user(session, "other@example.org")
    with TestClient(client.app) as other:
        sign_in(other, "other@example.org")
        yield other


def public_people(client: TestClient) -> list[int | None]:
    body = client.get("/api/v1/exchanges/istanbul-1000-for-1000").json()
    return [side["returned"]["people"] for side in body["sides"]]


def test_create_an_exchange_then_a_stage(editor: TestClient) -> None:
    created = post_form(
        editor, "/editor/exchanges/new", "/editor/exchanges/new",
        {"slug": "istanbul-1000-for-1000", "title": "Istanbul 1,000 for 1,000",
         "status": "in_progress", "agreed_on": "2025-05-16", "planned_stages": "3",
         "a_name": "Ukraine", "a_target_people": "1000", "b_name": "Russia",
         "b_target_people": "1,000", "published": "1", "mediators": "Türkiye"},
    )  # fmt: skip
    assert (created.status_code, created.headers["location"]) == (
        303, "/editor/exchanges/istanbul-1000-for-1000",
    )  # fmt: skip
    saved = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE)
    assert saved.status_code == 303
    assert public_people(editor) == [390, 390]


def test_the_stage_form_starts_today_with_both_sides_mirrored(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session)
    page = parse(editor.get(NEW_STAGE).text)
    assert page.select_one("#f-date")["value"] == TODAY.isoformat()  # type: ignore[index]
    assert page.select_one("#f-same").has_attr("checked")  # type: ignore[union-attr]
    assert page.select_one("#side-b").has_attr("hidden")  # type: ignore[union-attr]
    assert texts(page, "#stage-preview li") == [
        "Ukraine: 0 of 1,000 (0.0 %)", "Russia: 0 of 1,000 (0.0 %)",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"a_military": "-5"}, "a_military", "cannot be negative"),
        ({"a_civilian": "12.5"}, "a_civilian", WHOLE_NUMBER),
        ({"a_military": "abc"}, "a_military", WHOLE_NUMBER),
        ({"a_military": "100001"}, "a_military", TOO_MANY),
        ({"date": "2013-12-31"}, "date", "swaps tracked here start in 2014"),
        ({"date": str(TODAY + dt.timedelta(days=2))}, "date", TOO_LATE),
        ({"date": "23/05/2025"}, "date", "enter a date like 2025-05-23"),
        ({"source_url": "", "source_publisher": "", "source_published_at": "", "source_claim": ""},
         "sources", "a published stage needs at least one source"),
        ({"source_url": "javascript:alert(1)"}, "source_0_url", HTTP_ONLY),
        ({"status": "rumoured"}, "status", "choose reported, confirmed or disputed"),
    ],
)  # fmt: skip
def test_hard_errors_block_and_sit_beside_their_field(
    editor: TestClient, session: Session, change: dict[str, str], field: str, message: str
) -> None:
    make_exchange(session)
    response = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | change)
    assert response.status_code == 400
    page = parse(response.text)
    assert text(page.select_one(f"#error-{field}")) == message
    typed = page.select_one("#f-a_military")
    assert typed is not None
    assert typed["value"] == (STAGE | change)["a_military"]  # what was typed is kept
    assert session.exec(select(Stage)).all() == []


def test_preview_is_an_htmx_fragment_with_warnings(editor: TestClient, session: Session) -> None:
    make_exchange(
        session, stage_data(a=(270, 120)), stage_data(a=(307, 0), date=dt.date(2025, 5, 24))
    )
    token = csrf_token(editor, NEW_STAGE)
    response = editor.post(
        "/editor/exchanges/istanbul-1000-for-1000/stages/preview",
        data=STAGE
        | {"a_military": "9000", "a_civilian": "0", "date": "2025-05-01", "csrftoken": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = parse(response.text)
    assert page.select_one("html") is None
    assert texts(page, "#stage-preview li[data-side-name]") == [
        "Ukraine: 9,697 of 1,000 (969.7 %)", "Russia: 9,697 of 1,000 (969.7 %)",
    ]  # fmt: skip
    assert texts(page, ".warning") == [
        "The date is before the exchange was agreed.",
        "After this stage a side is over its target.",
        "A count is far from those of the earlier stages; check for a typo.",
    ]


def test_preview_words_a_partial_split_as_pages_do(editor: TestClient, session: Session) -> None:
    """Only civilians known: "at least N" with its percent; a known 0 alone reads undisclosed,
    without a percent, as on the public pages."""
    make_exchange(session)
    token = csrf_token(editor, NEW_STAGE)
    previews = []
    for civilians in ("12", "0"):
        response = editor.post(
            "/editor/exchanges/istanbul-1000-for-1000/stages/preview",
            data=STAGE | {"a_military": "", "a_civilian": civilians, "csrftoken": token},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        previews.append(texts(parse(response.text), "#stage-preview li[data-side-name]"))
    assert previews == [
        ["Ukraine: at least 12 of 1,000 (1.2 %)", "Russia: at least 12 of 1,000 (1.2 %)"],
        ["Ukraine: undisclosed", "Russia: undisclosed"],
    ]


def test_preview_follows_the_counts_before_a_source_is_filled(
    editor: TestClient, session: Session
) -> None:
    """Editors type the figures first: the preview shows them while the form cannot save yet,
    and shows nothing new while a count itself is unreadable."""
    make_exchange(session)
    token = csrf_token(editor, NEW_STAGE)
    no_source = {"source_url": "", "source_publisher": "", "source_claim": ""}
    previews = []
    for military in ("270", "27O"):
        response = editor.post(
            "/editor/exchanges/istanbul-1000-for-1000/stages/preview",
            data=STAGE | no_source | {"a_military": military, "csrftoken": token},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        previews.append(texts(parse(response.text), "#stage-preview li[data-side-name]"))
    assert previews[0] == ["Ukraine: 390 of 1,000 (39.0 %)", "Russia: 390 of 1,000 (39.0 %)"]
    assert previews[1] == ["Ukraine: 0 of 1,000 (0.0 %)", "Russia: 0 of 1,000 (0.0 %)"]


def test_with_same_numbers_a_typo_is_one_error(editor: TestClient, session: Session) -> None:
    make_exchange(session)
    response = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"a_military": "12o"})
    assert response.status_code == 400
    page = parse(response.text)
    assert text(page.select_one("#stage-preview .error")) == "1 field needs attention."
    assert page.select("#error-b_military") == []
    apart = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"same": "", "b_military": "x"})
    assert text(parse(apart.text).select_one("#error-b_military")) == WHOLE_NUMBER


def test_the_form_keeps_a_spare_source_row_for_editors_without_javascript(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session)
    page = parse(editor.get(NEW_STAGE).text)
    assert [row.get("class") for row in page.select(".source-row")] == [
        ["source-row"], ["source-row", "spare"],
    ]  # fmt: skip
    assert texts(page, ".source-row legend") == ["Source 1", "Source 2"]
    two = STAGE | {"source_url": [STAGE["source_url"], "https://example.org/second"]}
    two |= {"source_publisher": [STAGE["source_publisher"], "Second Wire"]}
    two |= {"source_published_at": ["", ""], "source_claim": ["", ""]}
    assert post_form(editor, NEW_STAGE, NEW_STAGE, two).status_code == 303
    [stage] = session.exec(select(Stage)).all()
    edited = parse(editor.get(f"/editor/stages/{stage.id}").text)
    assert texts(edited, ".source-row legend") == ["Source 1", "Source 2", "Source 3"]


def test_a_new_source_row_is_a_fragment(editor: TestClient) -> None:
    page = parse(editor.get("/editor/sources/row?index=2").text)
    assert text(page.select_one("legend")) == "Source 3"
    assert [i["name"] for i in page.select("input")] == [
        "source_url", "source_publisher", "source_published_at", "source_claim",
    ]  # fmt: skip


def stage_page(client: TestClient, stage_id: int) -> tuple[str, dict[str, Any]]:
    page = parse(client.get(f"/editor/stages/{stage_id}").text)
    form = page.select_one("#stage-form")
    assert form is not None
    values: dict[str, Any] = {}
    for field in form.select("input"):
        if field.get("type") != "checkbox":  # repeated names (source rows) as a browser sends them
            values.setdefault(str(field["name"]), []).append(field.get("value", ""))
    values = {name: found[0] if len(found) == 1 else found for name, found in values.items()}
    values |= {i["name"]: "1" for i in form.select("input[type=checkbox][checked]")}
    values |= {s["name"]: s.select_one("option[selected]")["value"] for s in form.select("select")}  # type: ignore[index]
    values |= {t["name"]: t.get_text() for t in form.select("textarea")}
    return f"/editor/stages/{stage_id}", values


def test_two_editors_saving_the_same_stage(
    editor: TestClient, other_editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 110)))
    url, mine = stage_page(editor, 1)
    _, theirs = stage_page(other_editor, 1)
    first = other_editor.post(url, data=theirs | {"a_civilian": "120", "reason": "MoD figure"})
    assert first.status_code == 200  # redirected to the exchange page
    second = editor.post(url, data=mine | {"a_civilian": "125", "reason": "my figure"})
    assert second.status_code == 409
    page = parse(second.text)
    assert text(page.select_one("#conflict-heading")) == "Someone else saved this first"
    assert '"civilian": 120' in text(page.select_one(".conflict pre"))
    assert page.select_one("#f-a_civilian")["value"] == "125"  # type: ignore[index]
    assert page.select_one('input[name="version"]')["value"] == "2"  # type: ignore[index]
    assert public_people(editor) == [390, 390]


def test_a_published_figure_change_needs_a_reason_and_shows_a_correction(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 110)))
    url, values = stage_page(editor, 1)
    refused = editor.post(url, data=values | {"a_civilian": "120"})
    assert refused.status_code == 400
    assert text(parse(refused.text).select_one("#error-reason")).startswith("say why")
    saved = editor.post(url, data=values | {"a_civilian": "120", "reason": "MoD revised"})
    assert saved.status_code == 200
    public = parse(editor.get("/exchanges/istanbul-1000-for-1000").text)
    assert texts(public, ".correction")[0].endswith("MoD revised")


def test_history_and_restore(editor: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 110)))
    url, values = stage_page(editor, 1)
    editor.post(url, data=values | {"a_civilian": "120", "reason": "wrong"})
    history = parse(editor.get("/editor/stages/1/history").text)
    assert texts(history, ".history li > p strong") == ["update", "create"]
    restore = history.select_one(".history form")
    assert restore is not None
    data = {i["name"]: i["value"] for i in restore.select("input")}
    response = editor.post("/editor/stages/1/restore", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert public_people(editor) == [380, 380]
    actions = session.exec(select(Revision.action).order_by(Revision.id)).all()
    assert actions == ["create", "create", "update", "update"]


def test_soft_delete_then_admin_restore(
    editor: TestClient, session: Session, client: TestClient
) -> None:
    make_exchange(session, stage_data())
    deleted = post_form(editor, "/editor/stages/1", "/editor/stages/1/delete", {"reason": "dup"})
    assert deleted.status_code == 303
    assert public_people(editor) == [0, 0]
    assert editor.get("/editor/stages/1").status_code == 404
    make_user(session, "boss@example.org", role="admin")
    with TestClient(client.app) as admin:
        sign_in(admin, "boss@example.org")
        assert texts(parse(admin.get("/admin/deleted").text), ".editor-stages li")[0].startswith(
            "istanbul-1000-for-1000"
        )
        post_form(admin, "/admin/deleted", "/admin/stages/1/restore", {})
    assert public_people(editor) == [390, 390]


def test_drafts_stay_out_of_public_view(editor: TestClient, session: Session) -> None:
    make_exchange(session)
    post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"published": ""})
    assert public_people(editor) == [0, 0]
    editor_page = parse(editor.get("/editor/exchanges/istanbul-1000-for-1000").text)
    assert "draft" in texts(editor_page, ".editor-stages li")[0]


def test_tokens_are_created_shown_once_and_revoked(editor: TestClient) -> None:
    created = post_form(editor, "/editor/tokens", "/editor/tokens", {"name": "CMS sync"})
    token = text(parse(created.text).select_one("#new-token"))
    assert token.startswith("st_")
    listing = parse(editor.get("/editor/tokens").text)
    assert listing.select_one("#new-token") is None
    assert texts(listing, "tbody th") == ["CMS sync"]
    post_form(editor, "/editor/tokens", "/editor/tokens/1/revoke", {})
    assert "revoked" in texts(parse(editor.get("/editor/tokens").text), "tbody td")


def test_admin_deactivation_signs_the_user_out_at_once(
    editor: TestClient, session: Session, client: TestClient
) -> None:
    assert editor.get("/editor", follow_redirects=False).status_code == 200
    make_user(session, "boss@example.org", role="admin")
    with TestClient(client.app) as admin:
        sign_in(admin, "boss@example.org")
        added = post_form(
            admin, "/admin/users", "/admin/users",
            {"email": "new@example.org", "password": "long enough pass", "role": "editor"},
        )  # fmt: skip
        assert added.status_code == 303
        post_form(admin, "/admin/users", "/admin/users/1", {"active": "0"})
        refused = post_form(
            admin, "/admin/users", "/admin/users", {"email": "bad", "password": "x"}
        )
        assert text(parse(refused.text).select_one("#error-email")) == "enter an email address"
    assert editor.get("/editor", follow_redirects=False).status_code == 303
