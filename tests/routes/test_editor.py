"""The editors' side through HTTP: forms that enter everything the API takes (releases, sources
with their announcers' counts, terms amendments, official totals), errors beside their fields
in the schema's words, the live preview, conflicts, history."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import accounts, forms, importer, writes
from app.models import Revision, Stage
from tests.editing import csrf_token, make_user, post_form, sign_in
from tests.factories import correct_stage, make_exchange, name_parties_in_ukrainian, stage_data
from tests.html import parse, text, texts
from tests.needs import untranslated

TODAY = dt.datetime.now(dt.UTC).date()
SLUG = "istanbul-1000-for-1000"
NEW_STAGE = f"/editor/exchanges/{SLUG}/stages/new"
PREVIEW = f"/editor/exchanges/{SLUG}/stages/preview"
STAGE = {
    "date": "2025-05-23", "published": "1", "same": "1",
    "release_0_released_by": "russia", "release_0_received_by": "ukraine",
    "release_0_kind": "living", "release_0_qualifier": "exact",
    "release_0_military": "270", "release_0_civilian": "120",
    "release_1_released_by": "ukraine", "release_1_received_by": "russia",
    "release_1_kind": "living", "release_1_qualifier": "exact",
    "source_0_url": "https://example.org/report", "source_0_publisher": "Example Wire",
    "source_0_published_at": "2025-05-23", "source_0_claim": "Both sides confirmed",
    "source_0_speaks_for": "ukraine",
}  # fmt: skip
WHOLE_NUMBER = "enter a whole number, or leave it empty if not disclosed"
NOT_A_DATE = "enter a date like 2025-05-23"
HTTP_ONLY = "must be an http:// or https:// address"
TOO_LATE = "cannot be later than tomorrow"
TOO_MANY = "must be at most 100000"  # the API's "Input should be less than or equal to 100000"
SCHEMA_TOO_MANY = "Input should be less than or equal to 100000"
NOT_THE_SUM = "people (400) must equal military + civilian (390)"
TO_ITSELF = "a party cannot release people to itself"
RELEASE = {
    "released_by": "russia", "received_by": "ukraine", "kind": "living", "military": 270,
    "civilian": 120, "people": 390, "remains": None, "qualifier": "exact",
    "outside_deal": False, "categories": {}, "date": None,
}  # fmt: skip


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


def public_people(client: TestClient, slug: str = SLUG) -> list[int | None]:
    body = client.get(f"/api/v1/exchanges/{slug}").json()
    return [party["people"] for party in body["tally"]]


def stored_releases(client: TestClient, slug: str = SLUG) -> list[list[dict[str, Any]]]:
    body = client.get(f"/api/v1/exchanges/{slug}").json()
    return [stage["releases"] for stage in body["stages"]]


def errors_shown(page: Any) -> dict[str, str]:
    return {str(e["id"]).removeprefix("error-"): text(e) for e in page.select("p.error[id]")}


def form_values(page: Any, selector: str, press: str | None = None) -> dict[str, str]:
    """What a browser would send from the form: each field's value, the first option of a
    select where none is chosen, checked boxes only, and the submit button pressed (the button
    named `press`, else the first, as Enter in a field does)."""
    form = page.select_one(selector)
    assert form is not None
    values: dict[str, str] = {}
    buttons = [b for b in form.select("button[type=submit][name]") if press in (None, text(b))]
    if buttons:
        values[str(buttons[0]["name"])] = str(buttons[0].get("value", ""))
    for field in form.select("input"):
        if field.get("type") != "checkbox" or field.has_attr("checked"):
            values[str(field["name"])] = str(field.get("value", ""))
    for menu in form.select("select"):
        chosen = menu.select_one("option[selected]") or menu.select_one("option")
        values[str(menu["name"])] = str(chosen["value"]) if chosen else ""
    values |= {str(t["name"]): t.get_text() for t in form.select("textarea")}
    return values


def stage_page(
    client: TestClient, stage_id: int, press: str | None = None
) -> tuple[str, dict[str, str]]:
    page = parse(client.get(f"/editor/stages/{stage_id}").text)
    return f"/editor/stages/{stage_id}", form_values(page, "#stage-form", press)


# ---- exchanges, then stages --------------------------------------------------------------


def test_create_an_exchange_then_a_stage(editor: TestClient) -> None:
    blank = parse(editor.get("/editor/exchanges/new").text)
    assert [
        (row["data-index"], row.get("class"))
        for row in blank.select("#party-rows > .party-row")
    ] == [
        ("0", ["row", "party-row"]), ("1", ["row", "party-row"]),
        ("2", ["row", "party-row", "spare"]),
    ]  # fmt: skip
    assert [i["value"] for i in blank.select("#party-rows input[name$=_slug]")] == [
        "ukraine", "russia", "",
    ]  # fmt: skip
    created = post_form(
        editor, "/editor/exchanges/new", "/editor/exchanges/new",
        {"slug": SLUG, "title": "Istanbul 1,000 for 1,000", "title_uk": "Стамбул 1000 на 1000",
         "summary": "Agreed in Istanbul.", "status": "in_progress", "agreed_on": "2025-05-16",
         "venue": "Istanbul", "mediators": "Türkiye\nUnited States", "planned_stages": "3",
         "conflict_slug": "russia-ukraine-war", "conflict_name": "Russia-Ukraine war",
         "party_0_slug": "ukraine", "party_0_name": "Ukraine", "party_0_target_people": "1000",
         "party_1_slug": "russia", "party_1_name": "Russia", "party_1_target_people": "1,000",
         "party_0_official_number": "65", "party_1_target_qualifier": "about",
         "source_0_url": "https://example.org/istanbul", "source_0_publisher": "Example Wire",
         "source_0_announcer": "Rustem Umerov", "source_0_speaks_for": "ukraine",
         "source_0_claim": "1,000 for 1,000 agreed", "published": "1"},
    )  # fmt: skip
    assert (created.status_code, created.headers["location"]) == (303, f"/editor/exchanges/{SLUG}")
    body = editor.get(f"/api/v1/exchanges/{SLUG}").json()
    assert (body["title_uk"], body["summary"], body["venue"], body["mediators"]) == (
        "Стамбул 1000 на 1000", "Agreed in Istanbul.", "Istanbul", ["Türkiye", "United States"],
    )  # fmt: skip
    assert body["conflict"] == {"slug": "russia-ukraine-war", "name": "Russia-Ukraine war"}
    assert [(p["slug"], p["name"]) for p in body["parties"]] == [
        ("ukraine", "Ukraine"), ("russia", "Russia"),
    ]  # fmt: skip
    [terms] = body["terms"]
    assert (terms["kind"], terms["effective"], terms["planned_stages"]) == (
        "original", "2025-05-16", 3,
    )  # fmt: skip
    assert [(t["received_by"], t["people"], t["qualifier"]) for t in terms["targets"]] == [
        ("ukraine", 1000, "exact"), ("russia", 1000, "about"),
    ]  # fmt: skip
    assert [p["official_number"] for p in body["parties"]] == [65, None]
    assert [(s["announcer"], s["speaks_for"], s["claim"]) for s in body["sources"]] == [
        ("Rustem Umerov", "ukraine", "1,000 for 1,000 agreed")
    ]
    # Editing keeps its sources on the agreement (shown in the form) unless changed.
    url = f"/editor/exchanges/{SLUG}"
    values = form_values(parse(editor.get(url).text), "form.editor-form")
    assert (values["source_0_url"], values["source_0_speaks_for"]) == (
        "https://example.org/istanbul", "ukraine",
    )  # fmt: skip
    assert editor.post(url, data=values | {"venue": "Istanbul, Dolmabahçe"}).status_code == 200
    body = editor.get(f"/api/v1/exchanges/{SLUG}").json()
    assert (body["venue"], [s["url"] for s in body["sources"]]) == (
        "Istanbul, Dolmabahçe", ["https://example.org/istanbul"],
    )  # fmt: skip
    saved = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE)
    assert saved.status_code == 303
    assert public_people(editor) == [390, 390]
    assert stored_releases(editor) == [
        [RELEASE, RELEASE | {"released_by": "ukraine", "received_by": "russia"}]
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"slug": "Not A Slug"}, "slug", "slug: use lowercase letters, digits and single hyphens"),
        ({"title": " "}, "title", "cannot be empty"),
        ({"party_1_slug": "", "party_1_name": ""}, "parties",
         "an exchange has at least two parties"),
        ({"party_1_slug": "ukraine"}, "parties", "each party once"),
        ({"party_1_target_people": "-3"}, "party_1_target_people",
         "must be at least 0"),
        ({"party_0_target_people": "lots"}, "party_0_target_people", WHOLE_NUMBER),
        ({"planned_stages": "0"}, "planned_stages", "must be more than 0"),
        ({"agreed_on": "16 May"}, "agreed_on", NOT_A_DATE),
        ({"title": "a\x00b"}, "title", "cannot contain NUL characters"),
    ],
)  # fmt: skip
def test_exchange_form_errors_sit_beside_their_field(
    editor: TestClient, change: dict[str, str], field: str, message: str
) -> None:
    form = {"slug": "new-swap", "title": "New swap", "status": "announced", "published": "1"}
    form |= {"party_0_slug": "ukraine", "party_0_name": "Ukraine", "party_0_target_people": "5"}
    form |= {"party_1_slug": "russia", "party_1_name": "Russia"}
    response = post_form(editor, "/editor/exchanges/new", "/editor/exchanges/new", form | change)
    assert response.status_code == 400
    page = parse(response.text)
    assert errors_shown(page) == {field: message}
    assert (
        page.select_one("#f-party_0_target_people")["value"]
        == (form | change)[  # type: ignore[index]
            "party_0_target_people"
        ]
    )
    assert editor.get("/api/v1/exchanges/new-swap").status_code == 404


def test_an_exchange_edit_keeps_its_parties_and_corrects_targets_with_a_reason(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data())
    page = parse(editor.get(f"/editor/exchanges/{SLUG}").text)
    values = form_values(page, "form.editor-form")
    assert (values["title"], values["party_0_target_people"], values["version"]) == (
        "Istanbul 1,000 for 1,000", "1000", "1",
    )  # fmt: skip
    url = f"/editor/exchanges/{SLUG}"
    retitled = editor.post(url, data=values | {"title_uk": "Стамбул"}, follow_redirects=False)
    assert (retitled.status_code, retitled.headers["location"]) == (303, f"{url}?saved=1")
    values = form_values(parse(editor.get(url).text), "form.editor-form")
    assert (values["title_uk"], values["version"]) == ("Стамбул", "2")
    refused = editor.post(url, data=values | {"party_1_target_people": "1200"})
    assert refused.status_code == 400
    assert errors_shown(parse(refused.text)) == {
        "reason": "say why the published figures change; readers see it as a correction"
    }
    corrected = editor.post(
        url, data=values | {"party_1_target_people": "1200", "reason": "misread the deal"}
    )
    assert corrected.status_code == 200
    body = editor.get(f"/api/v1/exchanges/{SLUG}").json()
    assert (body["title_uk"], [t["people"] for t in body["terms"][0]["targets"]]) == (
        "Стамбул", [1000, 1200],
    )  # fmt: skip
    assert [p["slug"] for p in body["parties"]] == ["ukraine", "russia"]


def test_the_stage_form_starts_today_with_both_directions_and_same_numbers(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session)
    before = dt.datetime.now(dt.UTC).date()
    page = parse(editor.get(NEW_STAGE).text)
    values = form_values(page, "#stage-form")
    # Today when the page was made (not when the module was loaded: runs cross midnight).
    assert values["date"] in {before.isoformat(), dt.datetime.now(dt.UTC).date().isoformat()}
    assert values["same"] == "1"
    directions = [
        (values[f"release_{i}_released_by"], values[f"release_{i}_received_by"]) for i in (0, 1, 2)
    ]
    assert directions == [
        ("russia", "ukraine"), ("ukraine", "russia"), ("", ""),
    ]  # fmt: skip
    assert [texts(page, f"#f-release_0_{name} option") for name in ("released_by", "kind")] == [
        ["— choose —", "Ukraine", "Russia"], ["living people", "remains (bodies)"],
    ]  # fmt: skip
    assert page.select_one("#release-1").has_attr("hidden")  # type: ignore[union-attr]
    assert [row.get("class") for row in page.select("#release-rows > fieldset")] == [
        ["row", "release-row"], ["row", "release-row"], ["row", "release-row", "spare"],
    ]  # fmt: skip
    assert texts(page, "#f-source_0_speaks_for option") == [
        "Ukraine", "Russia", "independent (mediator, ICRC)", "press / not known",
    ]  # fmt: skip
    assert page.select_one("#f-status") is None  # status is derived, not typed
    assert texts(page, "#stage-preview li") == [
        "Ukraine: 0 of 1,000 (0.0 %)", "Russia: 0 of 1,000 (0.0 %)",
    ]  # fmt: skip


CATEGORIES_ABOVE = "category 'women' (500) is more than the total (390)"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"release_0_military": "-5"}, "release_0_military",
         "must be at least 0"),
        ({"release_0_civilian": "12.5"}, "release_0_civilian", WHOLE_NUMBER),
        ({"release_0_military": "abc"}, "release_0_military", WHOLE_NUMBER),
        ({"release_0_military": "100001"}, "release_0_military", TOO_MANY),
        ({"release_0_people": "400"}, "release_0_people", NOT_THE_SUM),
        ({"release_0_released_by": "ukraine"}, "release_0_received_by", TO_ITSELF),
        ({"release_0_received_by": ""}, "release_0_received_by", "choose who received them"),
        ({"release_0_remains": "3"}, "release_0_remains",
         "a living row has no remains: give them a row of kind remains"),
        ({"release_0_kind": "remains"}, "release_0_remains",
         "remains are counted in `remains`; living people in a living row"),
        ({"release_0_categories": "women 15"}, "release_0_categories",
         "write them as name=count, separated by commas: women=15, minors=2"),
        ({"release_0_categories": "women=500"}, "release_0_categories", CATEGORIES_ABOVE),
        ({"release_0_date": "tomorrow"}, "release_0_date", NOT_A_DATE),
        ({"date": "2013-12-31"}, "date", "swaps tracked here start in 2014"),
        # Well past tomorrow, whenever in the run (which may cross midnight) it is sent.
        ({"date": str(TODAY + dt.timedelta(days=30))}, "date", TOO_LATE),
        ({"date": "23/05/2025"}, "date", NOT_A_DATE),
        ({"source_0_url": "", "source_0_publisher": "", "source_0_published_at": "",
          "source_0_claim": ""}, "sources", "a published stage needs at least one source"),
        ({"source_0_url": "javascript:alert(1)"}, "source_0_url", HTTP_ONLY),
        ({"source_0_publisher": ""}, "source_0_publisher",
         "cannot be empty"),
        ({"source_0_figure_0_received_by": "ukraine", "source_0_figure_0_military": "2x"},
         "source_0_figure_0_military", WHOLE_NUMBER),
        ({"source_0_figure_0_military": "5"}, "source_0_figure_0_received_by",
         "choose whose count this is"),
        ({"source_0_figure_0_received_by": "ukraine", "source_0_figure_0_people": "9",
          "source_0_figure_0_military": "10"}, "source_0_figure_0_people",
         "people cannot be fewer than the military and civilian counts given"),
        ({"notes": "a\x00b"}, "notes", "cannot contain NUL characters"),
        ({"release_0_received_by": "belarus"}, "release_0_received_by",
         "'belarus' is not a party of this exchange (russia, ukraine)"),
    ],
)  # fmt: skip
def test_hard_errors_block_and_sit_beside_their_field(
    editor: TestClient, session: Session, change: dict[str, str], field: str, message: str
) -> None:
    make_exchange(session)
    response = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | change)
    assert response.status_code == 400
    page = parse(response.text)
    assert errors_shown(page) == {field: message}
    if field != "sources":
        assert page.select_one(f"#f-{field}")["aria-invalid"] == "true"  # type: ignore[index]
    # What was typed is kept, the rest of the form too.
    assert (
        form_values(page, "#stage-form")["release_0_military"]
        == (STAGE | change)["release_0_military"]
    )
    assert form_values(page, "#stage-form")["source_0_claim"] == (STAGE | change)["source_0_claim"]
    assert session.exec(select(Stage)).all() == []


def test_errors_are_in_the_editors_language(editor: TestClient, session: Session) -> None:
    make_exchange(session)
    editor.get("/editor?lang=uk")  # the language is remembered
    bad = STAGE | {"date": "2099-01-01", "release_0_military": "100001", "release_0_civilian": "x"}
    page = parse(post_form(editor, NEW_STAGE, NEW_STAGE, bad).text)
    assert errors_shown(page) == {
        "date": "не може бути пізніше, ніж завтра",
        "release_0_military": "має бути не більше ніж 100000",
        "release_0_civilian": "введіть ціле число або залиште порожнім, якщо не розголошено",
    }


@pytest.mark.parametrize(
    ("text", "msgid", "values"),
    [
        ("Value error, cannot be later than tomorrow", TOO_LATE, {}),
        ("Input should be less than or equal to 100000", "must be at most %(limit)s",
         {"limit": "100000"}),
        ("Input should be greater than 0", "must be more than %(limit)s", {"limit": "0"}),
        ("Input should be greater than or equal to 0", "must be at least %(limit)s",
         {"limit": "0"}),
        ("String should have at least 1 character", "cannot be empty", {}),
        (NOT_THE_SUM, "people (%(people)s) must equal military + civilian (%(parts)s)",
         {"people": "400", "parts": "390"}),
        (CATEGORIES_ABOVE, "category %(name)s (%(count)s) is more than the total (%(total)s)",
         {"name": "'women'", "count": "500", "total": "390"}),
    ],
)  # fmt: skip
def test_schema_messages_are_worded_for_editors_as_the_catalogue_has_them(
    text: str, msgid: str, values: dict[str, str]
) -> None:
    """Our schemas' English as it is; the validation library's in editors' words. Either is
    a message the catalogue translates."""
    message = forms.worded(text)
    assert (message.known, message.msgid, message.values) == (True, msgid, values)
    assert not str(message).startswith(("Input should", "String should", "Value error"))


def test_a_message_the_catalogue_does_not_know_is_shown_as_it_is() -> None:
    message = forms.worded("Value error, <b>something new</b>")
    assert (message.known, str(message)) == (False, "<b>something new</b>")


# ---- one rule for a stage, whoever sends it ---------------------------------------------


@pytest.fixture
def api_token(session: Session) -> str:
    user = accounts.get_user_by_email(session, "ed@example.org")
    assert user is not None
    _, token = accounts.create_token(session, user=user, name="tests")
    session.commit()
    return token


BAD_STAGES = {
    "100,001 military": (
        {"release_0_military": "100001"}, {"military": 100001}, "release_0_military",
        ["body", "releases", 0, "military"], SCHEMA_TOO_MANY,
    ),
    "a date in 2099": (
        {"date": "2099-01-01"}, {}, "date", ["body", "date"], TOO_LATE,
    ),
    "people not military + civilian": (
        {"release_0_people": "400"}, {"people": 400}, "release_0_people",
        ["body", "releases", 0, "people"], NOT_THE_SUM,
    ),
    "a party releasing to itself": (
        {"release_0_released_by": "ukraine"}, {"released_by": "ukraine"},
        "release_0_received_by", ["body", "releases", 0], TO_ITSELF,
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("form_change", "release_change", "form_field", "api_loc", "message"),
    BAD_STAGES.values(),
    ids=BAD_STAGES.keys(),
)
def test_the_form_and_the_api_refuse_the_same_bad_stage_with_the_same_words(
    editor: TestClient,
    session: Session,
    api_token: str,
    form_change: dict[str, str],
    release_change: dict[str, Any],
    form_field: str,
    api_loc: list[Any],
    message: str,
) -> None:
    make_exchange(session)
    page = parse(post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | form_change).text)
    assert errors_shown(page) == {form_field: str(forms.worded(message))}  # in editors' words
    body = {
        "date": form_change.get("date", "2025-05-23"),
        "releases": [
            {"released_by": "russia", "received_by": "ukraine", "military": 270, "civilian": 120}
            | release_change
        ],
        "sources": [{"url": "https://example.org/report", "publisher": "Example Wire"}],
    }
    response = editor.post(
        f"/api/v1/exchanges/{SLUG}/stages",
        json=body,
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert response.status_code == 422
    # The API's messages are pydantic's, which prefixes a rule's own words with "Value error".
    detail = response.json()["detail"]
    assert [(e["loc"], e["msg"].removeprefix("Value error, ")) for e in detail] == [
        (api_loc, message)
    ]
    assert session.exec(select(Stage)).all() == []


CSV_HEADER = "exchange,date,side,military,civilian,people,remains,source_urls,source_publishers"


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        pytest.param({"military": "100001"}, "military", SCHEMA_TOO_MANY, id="100,001 military"),
        pytest.param({"date": "2099-01-01"}, "date", TOO_LATE, id="a date in 2099"),
        pytest.param({"people": "400"}, "people", NOT_THE_SUM, id="people not military + civilian"),
    ],
)  # fmt: skip
def test_the_csv_importer_refuses_the_same_bad_stage_with_the_same_words(
    session: Session, cells: dict[str, str], column: str, message: str
) -> None:
    """Today's side a/b layout, which stays readable; a party cannot release to itself there."""
    make_exchange(session)
    row = {"exchange": SLUG, "date": "2025-05-23", "military": "270", "civilian": "120"}
    row |= {"people": "", "remains": "", "source_urls": "https://example.org/report"}
    row |= {"source_publishers": "Example Wire"} | cells
    lines = [CSV_HEADER] + [
        ",".join((row | {"side": side})[name] for name in CSV_HEADER.split(",")) for side in "ab"
    ]
    report = importer.import_csv(
        session, "\n".join(lines) + "\n", actor="test", user_id=None, dry_run=True
    )
    [entry] = report.entries
    assert (entry.action, entry.field) == ("refused", column)
    assert entry.reason.endswith(f": {message}"), entry.reason
    assert session.exec(select(Stage)).all() == []


# ---- what the form can enter -------------------------------------------------------------


def test_sources_with_announcers_and_counts_and_the_derived_status(
    editor: TestClient, session: Session
) -> None:
    """Both sides' announcers give the counts the releases hold: confirmed, as the page then
    says; a third source counting otherwise makes the stage disputed."""
    make_exchange(session)
    both = STAGE | {
        "source_0_announcer": "Russian Defence Ministry", "source_0_speaks_for": "russia",
        "source_0_figure_0_received_by": "ukraine", "source_0_figure_0_military": "270",
        "source_0_figure_0_civilian": "120",
        "source_0_figure_1_received_by": "russia", "source_0_figure_1_people": "390",
        "source_1_url": "https://example.org/kyiv", "source_1_publisher": "Ukrinform",
        "source_1_announcer": "Coordination Headquarters", "source_1_speaks_for": "ukraine",
        "source_1_figure_0_received_by": "ukraine", "source_1_figure_0_people": "390",
        "source_1_figure_0_qualifier": "exact",
        "source_1_figure_3_received_by": "russia", "source_1_figure_3_people": "390",
    }  # fmt: skip
    saved = post_form(editor, NEW_STAGE, NEW_STAGE, both)
    assert saved.status_code == 303
    [stage] = session.exec(select(Stage)).all()
    assert saved.headers["location"] == (
        f"/editor/exchanges/{SLUG}?saved=1&stage={stage.id}#stage-{stage.id}"
    )
    shown = parse(editor.get(saved.headers["location"]).text)
    assert texts(shown, ".notice") == ["Saved.", "The stage of 23 May 2025 is confirmed."]
    [public] = editor.get(f"/api/v1/exchanges/{SLUG}").json()["stages"]
    assert [(s["announcer"], s["figures"]) for s in public["sources"]] == [
        ("Russian Defence Ministry", [
            {"received_by": "ukraine", "kind": "living", "military": 270, "civilian": 120,
             "people": 390, "remains": None, "qualifier": "exact"},
            {"received_by": "russia", "kind": "living", "military": None, "civilian": None,
             "people": 390, "remains": None, "qualifier": "exact"},
        ]),
        ("Coordination Headquarters", [
            {"received_by": "ukraine", "kind": "living", "military": None, "civilian": None,
             "people": 390, "remains": None, "qualifier": "exact"},
            {"received_by": "russia", "kind": "living", "military": None, "civilian": None,
             "people": 390, "remains": None, "qualifier": "exact"},
        ]),
    ]  # fmt: skip
    assert public["status"] == "confirmed"
    url, values = stage_page(editor, stage.id)  # type: ignore[arg-type]
    assert (values["source_1_speaks_for"], values["source_1_figure_1_people"]) == ("ukraine", "390")
    disputed = values | {
        "source_2_url": "https://example.org/tass", "source_2_publisher": "TASS",
        "source_2_figure_0_received_by": "ukraine", "source_2_figure_0_people": "380",
    }  # fmt: skip
    # A figure now disputed is a new warning: publishing it waits for the editor's confirmation.
    asked = editor.post(url, data=disputed, follow_redirects=False)
    assert asked.status_code == 400
    check = parse(asked.text)
    assert texts(check, "#confirm-publish li") == [
        "The sources' counts differ: readers will see this stage as disputed."
    ]
    assert text(check.select_one(".derived-status")) == (
        "Status once saved: disputed — Russian Defence Ministry says 390 to Ukraine;"
        " Coordination Headquarters says 390 to Ukraine; TASS says 380 to Ukraine"
    )
    confirmed = form_values(check, "#stage-form") | {"confirmed": "disputed"}
    assert editor.post(url, data=confirmed, follow_redirects=False).status_code == 303
    edited = parse(editor.get(url).text)
    assert text(edited.select_one("#stage-status")) == "Status now: disputed"


def test_a_source_that_gives_the_figures_above_in_one_tap(
    editor: TestClient, session: Session
) -> None:
    """Both sides' announcers give the releases' counts: one box each, no counts typed, and the
    stage is confirmed; a count typed in such a source is replaced by the releases'."""
    make_exchange(session)
    blank = parse(editor.get(NEW_STAGE).text)
    assert blank.select_one("#f-source_0_gives_releases") is not None
    both = STAGE | {
        "source_0_speaks_for": "ukraine", "source_0_gives_releases": "1",
        "source_0_figure_0_received_by": "ukraine", "source_0_figure_0_people": "5",
        "source_1_url": "https://example.org/mod", "source_1_publisher": "TASS",
        "source_1_announcer": "Russian Defence Ministry", "source_1_speaks_for": "russia",
        "source_1_gives_releases": "1",
    }  # fmt: skip
    assert post_form(editor, NEW_STAGE, NEW_STAGE, both).status_code == 303
    [stage] = editor.get(f"/api/v1/exchanges/{SLUG}").json()["stages"]
    assert stage["status"] == "confirmed"
    given = [(f["received_by"], f["military"], f["civilian"], f["people"]) for f in
             stage["sources"][0]["figures"]]  # fmt: skip
    assert given == [("ukraine", 270, 120, 390), ("russia", 270, 120, 390)]
    assert stage["sources"][1]["figures"] == stage["sources"][0]["figures"]


def test_a_reason_marks_a_stage_disputed_when_the_doubt_is_not_a_number(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session)
    reason = "Kyiv says 12 of them were never held by Russia"
    saved = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"disputed_reason": f"  {reason} "})
    assert saved.status_code == 303
    [public] = editor.get(f"/api/v1/exchanges/{SLUG}").json()["stages"]
    assert (public["status"], public["disputed_reason"]) == ("disputed", reason)


def test_a_three_party_exchange_entered_through_the_forms(editor: TestClient) -> None:
    form = {"slug": "yemen-2023", "title": "Yemen, April 2023", "status": "completed",
            "conflict_slug": "yemen-war", "conflict_name": "Yemen war",
            "conflict_name_uk": "Війна в Ємені", "published": "1",
            "party_0_slug": "yemen-government", "party_0_name": "Yemen government",
            "party_0_target_people": "706",
            "party_1_slug": "houthis", "party_1_name": "Houthis", "party_1_target_people": "181",
            "party_2_slug": "saudi-arabia", "party_2_name": "Saudi Arabia",
            "party_2_target_people": "",
            "party_5_slug": "", "party_5_name": ""}  # fmt: skip
    created = post_form(editor, "/editor/exchanges/new", "/editor/exchanges/new", form)
    assert created.status_code == 303
    new_stage = "/editor/exchanges/yemen-2023/stages/new"
    blank = parse(editor.get(new_stage).text)
    values = form_values(blank, "#stage-form")
    assert "same" not in values
    assert (values["release_0_released_by"], values["release_1_received_by"]) == ("", "")
    stage = {
        "date": "2023-04-14", "published": "1",
        "release_0_released_by": "houthis", "release_0_received_by": "yemen-government",
        "release_0_people": "706",
        "release_1_released_by": "yemen-government", "release_1_received_by": "houthis",
        "release_1_people": "181",
        "release_2_released_by": "houthis", "release_2_received_by": "saudi-arabia",
        "release_2_people": "16", "release_2_date": "2023-04-15",
        "source_0_url": "https://example.org/icrc", "source_0_publisher": "ICRC",
        "source_0_speaks_for": "independent",
    }  # fmt: skip
    assert post_form(editor, new_stage, new_stage, stage).status_code == 303
    plain = {
        "kind": "living", "military": None, "civilian": None, "remains": None,
        "qualifier": "exact", "outside_deal": False, "categories": {}, "date": None,
    }  # fmt: skip
    assert stored_releases(editor, "yemen-2023") == [
        [
            plain | {"released_by": "houthis", "received_by": "yemen-government", "people": 706},
            plain | {"released_by": "yemen-government", "received_by": "houthis", "people": 181},
            plain | {"released_by": "houthis", "received_by": "saudi-arabia", "people": 16,
                     "date": "2023-04-15"},
        ]
    ]  # fmt: skip
    assert public_people(editor, "yemen-2023") == [706, 181, 16]
    [conflict] = editor.get("/api/v1/totals").json()["conflicts"]
    assert (conflict["slug"], conflict["name_uk"]) == ("yemen-war", "Війна в Ємені")


def test_a_remains_only_stage(editor: TestClient, session: Session) -> None:
    make_exchange(session)
    stage = STAGE | {
        "release_0_kind": "remains", "release_0_military": "", "release_0_civilian": "",
        "release_0_remains": "909",
    }  # fmt: skip
    preview = editor.post(
        PREVIEW, data=stage | {"csrftoken": csrf_token(editor, NEW_STAGE)},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert texts(parse(preview.text), "#stage-preview li") == [
        "Ukraine: 909 bodies", "Russia: 909 bodies",
    ]  # fmt: skip
    assert post_form(editor, NEW_STAGE, NEW_STAGE, stage).status_code == 303
    remains = RELEASE | {"kind": "remains", "military": None, "civilian": None, "people": None}
    assert stored_releases(editor) == [
        [
            remains | {"remains": 909},
            remains | {"remains": 909, "released_by": "ukraine", "received_by": "russia"},
        ]
    ]
    tally = editor.get(f"/api/v1/exchanges/{SLUG}").json()["tally"]
    assert [(t["headline"], t["remains"]) for t in tally] == [("remains", 909), ("remains", 909)]


def test_releases_outside_the_deal_and_categories(editor: TestClient, session: Session) -> None:
    """The spare row (release 3) takes the wounded returned outside the exchange."""
    make_exchange(session)
    stage = STAGE | {
        "same": "", "release_1_military": "270", "release_1_civilian": "120",
        "release_0_categories": "women=15, minors=2",
        "release_2_released_by": "russia", "release_2_received_by": "ukraine",
        "release_2_kind": "living", "release_2_people": "31", "release_2_qualifier": "at_least",
        "release_2_outside_deal": "1",
    }  # fmt: skip
    assert post_form(editor, NEW_STAGE, NEW_STAGE, stage).status_code == 303
    [[first, _, outside]] = stored_releases(editor)
    assert first["categories"] == {"women": 15, "minors": 2}
    assert outside == RELEASE | {
        "military": None, "civilian": None, "people": 31, "qualifier": "at_least",
        "outside_deal": True,
    }  # fmt: skip
    [ukraine, russia] = editor.get(f"/api/v1/exchanges/{SLUG}").json()["tally"]
    assert (ukraine["people"], ukraine["qualifier"], ukraine["outside_deal"]) == (
        390, "exact", {"people": 31, "remains": 0},
    )  # fmt: skip
    assert (russia["people"], russia["outside_deal"]) == (390, {"people": 0, "remains": 0})
    edited = parse(editor.get("/editor/stages/1").text)
    assert form_values(edited, "#stage-form")["release_0_categories"] == "women=15, minors=2"
    assert "same" not in form_values(edited, "#stage-form")


def test_an_amendment_through_the_form(editor: TestClient, session: Session) -> None:
    make_exchange(session, stage_data())
    page = parse(editor.get(f"/editor/exchanges/{SLUG}/terms").text)
    values = form_values(page, "form.editor-form")
    assert (values["kind"], values["target_ukraine_people"], values["planned_stages"]) == (
        "amendment", "1000", "3",
    )  # fmt: skip
    amendment = values | {
        "effective": "2025-05-24", "planned_stages": "5", "note": "200 more each way",
        "target_ukraine_people": "1,200", "target_russia_people": "1200",
        "target_russia_qualifier": "about",
        "source_0_url": "https://example.org/extended", "source_0_publisher": "Example Wire",
        "source_0_claim": "Extended by two days",
    }  # fmt: skip
    url = f"/editor/exchanges/{SLUG}/terms"
    refused = post_form(editor, url, url, amendment | {"target_russia_people": "-1"})
    assert refused.status_code == 400
    assert errors_shown(parse(refused.text)) == {"target_russia_people": "must be at least 0"}
    saved = post_form(editor, url, url, amendment)
    assert (saved.status_code, saved.headers["location"]) == (
        303, f"/editor/exchanges/{SLUG}?saved=1#terms",
    )  # fmt: skip
    terms = editor.get(f"/api/v1/exchanges/{SLUG}").json()["terms"]
    assert [(t["kind"], t["effective"], t["planned_stages"], t["note"]) for t in terms] == [
        ("original", "2025-05-16", 3, ""), ("amendment", "2025-05-24", 5, "200 more each way"),
    ]  # fmt: skip
    assert [(t["received_by"], t["people"], t["qualifier"]) for t in terms[1]["targets"]] == [
        ("ukraine", 1200, "exact"), ("russia", 1200, "about"),
    ]  # fmt: skip
    assert [s["claim"] for s in terms[1]["sources"]] == ["Extended by two days"]
    [revision] = session.exec(select(Revision).where(Revision.entity == "terms")).all()
    assert revision.is_correction is False
    listed = texts(parse(editor.get(f"/editor/exchanges/{SLUG}").text), ".editor-terms li")
    assert listed[1].startswith("amendment · in force from 24 May 2025 · 5 stages planned")


def test_an_official_total_through_the_form(editor: TestClient, session: Session) -> None:
    make_exchange(session, stage_data())
    page = "/editor/conflicts/ukraine-russia"
    assert texts(parse(editor.get(page).text), "#f-party option") == ["Russia", "Ukraine"]
    total = {
        "party": "ukraine", "as_of": "2026-03-11", "measure": "people", "figure": "8,050",
        "qualifier": "exact", "note": "all exchanges since 2022",
        "source_url": "https://example.org/koordshtab", "source_publisher": "Ukrinform",
        "source_announcer": "Coordination Headquarters", "source_claim": "8,050 returned home",
    }  # fmt: skip
    url = "/editor/conflicts/ukraine-russia/official-totals"
    refused = post_form(editor, page, url, total | {"figure": "", "source_url": "ftp://x"})
    assert refused.status_code == 400
    assert errors_shown(parse(refused.text)) == {"figure": WHOLE_NUMBER, "source_url": HTTP_ONLY}
    saved = post_form(editor, page, url, total)
    assert (saved.status_code, saved.headers["location"]) == (303, f"{page}?saved=1")
    [conflict] = editor.get("/api/v1/totals").json()["conflicts"]
    official = {party["slug"]: party["official"] for party in conflict["parties"]}
    assert official["russia"] is None
    assert official["ukraine"] == {
        "people": 8050, "measure": "people", "qualifier": "exact", "as_of": "2026-03-11",
        "note": "all exchanges since 2022",
        "source": {"url": "https://example.org/koordshtab", "publisher": "Ukrinform",
                   "announcer": "Coordination Headquarters", "speaks_for": None,
                   "published_at": None, "claim": "8,050 returned home", "figures": []},
    }  # fmt: skip
    listed = texts(parse(editor.get(page).text), ".editor-totals li")
    assert listed == [
        "Ukraine: 8,050 people · as of 11 March 2026 · Coordination Headquarters"
        " · all exchanges since 2022"
    ]


# ---- drafts, and the check before publishing ---------------------------------------------


def test_a_new_stage_is_saved_as_a_draft_or_published_never_by_default(
    editor: TestClient, session: Session
) -> None:
    """No box ticked in advance: the editor presses "Save draft" (what Enter does) or "Publish".
    A draft needs no source yet and counts nowhere."""
    make_exchange(session)
    blank = parse(editor.get(NEW_STAGE).text)
    assert blank.select('input[name="published"]') == []
    assert texts(blank, "#stage-form .actions button") == ["Save draft", "Publish"]
    assert form_values(blank, "#stage-form")["published"] == ""  # Enter saves a draft
    no_source = {"source_0_url": "", "source_0_publisher": "", "source_0_claim": ""}
    draft = STAGE | no_source | {"published": "", "source_0_published_at": ""}
    saved = post_form(editor, NEW_STAGE, NEW_STAGE, draft)
    assert saved.status_code == 303
    assert text(parse(editor.get(saved.headers["location"]).text).select_one("#saved-stage")) == (
        "The stage of 23 May 2025 is saved as a draft: readers do not see it until it is published."
    )
    assert public_people(editor) == [0, 0]
    url, values = stage_page(editor, 1, press="Publish")
    assert values["published"] == "1"
    refused = editor.post(url, data=values)
    assert errors_shown(parse(refused.text)) == {
        "sources": "a published stage needs at least one source"
    }
    sourced = values | {name: value for name, value in STAGE.items() if name.startswith("source_")}
    assert editor.post(url, data=sourced, follow_redirects=False).status_code == 303
    assert public_people(editor) == [390, 390]
    published = parse(editor.get(url).text)
    assert texts(published, "#stage-form .actions button") == ["Publish changes", "Move to drafts"]


def test_publishing_waits_until_the_editor_confirms_each_warning(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session)
    early = STAGE | {"date": "2025-05-01", "source_0_speaks_for": ""}
    asked = post_form(editor, NEW_STAGE, NEW_STAGE, early)
    assert asked.status_code == 400
    check = parse(asked.text)
    assert check.select_one("#confirm-publish[tabindex='-1']") is not None
    assert texts(check, "#confirm-publish li") == [
        "The date is before the exchange was agreed.",
        "No source speaks for a side that received people (Russia, Ukraine): their own"
        " announcement is the one readers trust most.",
    ]
    assert public_people(editor) == [0, 0]  # nothing saved meanwhile
    values = form_values(check, "#stage-form")
    assert values["date"] == "2025-05-01"
    # Publishing again without ticking the box: the box says why.
    unticked = values | {"confirming": "1", "published": "1"}
    again = editor.post(NEW_STAGE, data=unticked)
    assert again.status_code == 400
    assert errors_shown(parse(again.text)) == {
        "confirmed": "tick this to publish with these warnings, or save a draft"
    }
    box = check.select_one("#f-confirmed")
    assert box is not None
    assert box["value"] == "before-agreement,no-receiving-source"
    # Ticked after the editor changed the date: the warning seen no longer applies, the one
    # left is confirmed, and the stage is published.
    later = unticked | {"confirmed": str(box["value"]), "date": "2025-05-23"}
    assert editor.post(NEW_STAGE, data=later, follow_redirects=False).status_code == 303
    assert public_people(editor) == [390, 390]


def test_a_draft_saves_without_confirming_and_a_new_warning_asks_again(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session)
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    draft = STAGE | {"date": tomorrow, "published": ""}
    assert post_form(editor, NEW_STAGE, NEW_STAGE, draft).status_code == 303
    url, values = stage_page(editor, 1, press="Publish")
    asked = editor.post(url, data=values)
    assert asked.status_code == 400
    assert texts(parse(asked.text), "#confirm-publish li") == ["The date is after today."]
    confirmed = values | {"confirmed": "future", "confirming": "1"}
    assert editor.post(url, data=confirmed, follow_redirects=False).status_code == 303
    # Published with that warning: a later edit that adds none asks nothing; one that makes a
    # party go over its target asks about that alone.
    url, values = stage_page(editor, 1)
    assert editor.post(url, data=values | {"notes": "day one"}).status_code == 200
    url, values = stage_page(editor, 1)
    over = values | {"release_0_military": "2000", "reason": "typo", "same": ""}
    asked = editor.post(url, data=over)
    assert asked.status_code == 400
    assert texts(parse(asked.text), "#confirm-publish li") == [
        "After this stage a party is over its target."
    ]
    assert public_people(editor) == [390, 390]


# ---- the live preview --------------------------------------------------------------------


def test_preview_is_an_htmx_fragment_with_warnings(editor: TestClient, session: Session) -> None:
    make_exchange(
        session, stage_data(a=(270, 120)), stage_data(a=(307, 0), date=dt.date(2025, 5, 24))
    )
    token = csrf_token(editor, NEW_STAGE)
    response = editor.post(
        PREVIEW,
        data=STAGE
        | {"release_0_military": "9000", "release_0_civilian": "0", "date": "2025-05-01"}
        | {"csrftoken": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = parse(response.text)
    assert page.select_one("html") is None
    assert texts(page, "#stage-preview li[data-party]") == [
        "Ukraine: 9,697 of 1,000 (969.7 %)", "Russia: 9,697 of 1,000 (969.7 %)",
    ]  # fmt: skip
    assert text(page.select_one(".derived-status")) == "Status once saved: reported"
    assert texts(page, ".warning") == [
        "The date is before the exchange was agreed.",
        "After this stage a party is over its target.",
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
            PREVIEW,
            data=STAGE
            | {"release_0_military": "", "release_0_civilian": civilians, "csrftoken": token},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        previews.append(texts(parse(response.text), "#stage-preview li[data-party]"))
    assert previews == [
        ["Ukraine: at least 12 of 1,000 (1.2 %)", "Russia: at least 12 of 1,000 (1.2 %)"],
        ["Ukraine: undisclosed", "Russia: undisclosed"],
    ]


def test_preview_follows_the_counts_before_a_source_is_filled(
    editor: TestClient, session: Session
) -> None:
    """Editors type the figures first: the preview shows them while the form cannot save yet,
    and shows nothing new while a count itself is unreadable."""
    make_exchange(session, stage_data(a=(100, 0), date=dt.date(2025, 5, 22)))
    token = csrf_token(editor, NEW_STAGE)
    no_source = {"source_0_url": "", "source_0_publisher": "", "source_0_claim": ""}
    previews = []
    for military in ("270", "27O"):
        response = editor.post(
            PREVIEW,
            data=STAGE | no_source | {"release_0_military": military, "csrftoken": token},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        previews.append(texts(parse(response.text), "#stage-preview li[data-party]"))
    assert previews == [
        ["Ukraine: 490 of 1,000 (49.0 %)", "Russia: 490 of 1,000 (49.0 %)"],
        ["Ukraine: 100 of 1,000 (10.0 %)", "Russia: 100 of 1,000 (10.0 %)"],
    ]


def test_preview_of_an_edit_counts_the_stage_once(editor: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    _, values = stage_page(editor, 1)
    response = editor.post(
        f"{PREVIEW}?stage=1",
        data=values | {"release_0_civilian": "130"},
        headers={"HX-Request": "true", "x-csrftoken": values["csrftoken"]},
    )
    assert texts(parse(response.text), "#stage-preview li[data-party]") == [
        "Ukraine: 400 of 1,000 (40.0 %)", "Russia: 400 of 1,000 (40.0 %)",
    ]  # fmt: skip


def test_with_same_numbers_a_typo_is_one_error(editor: TestClient, session: Session) -> None:
    make_exchange(session)
    response = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"release_0_military": "12o"})
    assert response.status_code == 400
    page = parse(response.text)
    assert text(page.select_one("#stage-preview .error")) == "1 field needs attention:"
    assert errors_shown(page) == {"release_0_military": WHOLE_NUMBER}
    assert page.select_one("#release-1").has_attr("hidden")  # type: ignore[union-attr]
    apart = post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"same": "", "release_1_military": "x"})
    assert errors_shown(parse(apart.text)) == {"release_1_military": WHOLE_NUMBER}


# ---- rows: a spare one without JavaScript, fragments with it ---------------------------


def test_the_form_keeps_spare_rows_for_editors_without_javascript(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session)
    page = parse(editor.get(NEW_STAGE).text)
    assert [row.get("class") for row in page.select("#source-rows > .source-row")] == [
        ["row", "source-row"], ["row", "source-row", "spare"],
    ]  # fmt: skip
    assert texts(page, "#source-rows > .source-row > legend") == ["Source 1", "Source 2"]
    assert texts(page, "#figure-rows-0 legend") == ["Count 1"]
    two = STAGE | {"source_1_url": "https://example.org/second", "source_1_publisher": "Second"}
    # Rows removed in the browser leave gaps in the numbers; empty rows are left out.
    two |= {"source_7_url": "", "source_7_publisher": "", "release_9_military": ""}
    assert post_form(editor, NEW_STAGE, NEW_STAGE, two).status_code == 303
    edited = parse(editor.get("/editor/stages/1").text)
    assert texts(edited, "#source-rows > .source-row > legend") == [
        "Source 1", "Source 2", "Source 3",
    ]  # fmt: skip
    assert len(edited.select("#release-rows > .release-row")) == 3


@pytest.mark.parametrize(
    ("url", "legend", "names"),
    [
        ("/editor/sources/row?index=2", "Source 3",
         ["source_2_url", "source_2_publisher", "source_2_announcer", "source_2_speaks_for",
          "source_2_published_at", "source_2_claim"]),
        (f"/editor/sources/row?index=1&exchange={SLUG}", "Source 2",
         ["source_1_url", "source_1_publisher", "source_1_announcer", "source_1_speaks_for",
          "source_1_published_at", "source_1_claim", "source_1_gives_releases"]),
        (f"/editor/exchanges/{SLUG}/stages/release-row?index=3", "Release 4",
         [f"release_3_{n}" for n in ("received_by", "released_by", "military", "civilian",
          "people", "remains", "qualifier", "kind", "categories", "date", "outside_deal")]),
        (f"/editor/exchanges/{SLUG}/stages/figure-row?source=1&index=2", "Count 3",
         [f"source_1_figure_2_{n}" for n in ("received_by", "qualifier", "military", "civilian",
          "people", "remains")]),
        ("/editor/parties/row?index=2", "Party 3",
         [f"party_2_{n}" for n in ("slug", "name", "name_uk", "official_number", "target_people",
          "target_military", "target_civilian", "target_remains", "target_qualifier")]),
    ],
)  # fmt: skip
def test_a_new_row_is_a_fragment(
    editor: TestClient, session: Session, url: str, legend: str, names: list[str]
) -> None:
    make_exchange(session)
    page = parse(editor.get(url).text)
    assert page.select_one("html") is None
    assert text(page.select_one("legend")) == legend
    row = page.select_one("fieldset")
    assert row is not None
    assert "spare" not in row["class"]
    # A source's own fields (its counts are another test's).
    own = [str(f["name"]) for f in row.select("input, select")]
    assert [name for name in own if "_figure_" not in name or "figure-row" in url] == names


def test_a_new_source_row_for_a_stage_has_counts_and_parties(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session)
    page = parse(editor.get(f"/editor/sources/row?index=1&exchange={SLUG}").text)
    assert texts(page, "#f-source_1_speaks_for option") == [
        "Ukraine", "Russia", "independent (mediator, ICRC)", "press / not known",
    ]  # fmt: skip
    assert page.select("#figure-rows-1 > fieldset") == []  # added with a script: no spare row
    assert page.select_one("button.add-row")["hx-get"] == (  # type: ignore[index]
        f"/editor/exchanges/{SLUG}/stages/figure-row?source=1"
    )


# ---- changes: reasons, corrections, conflicts, history -----------------------------------


def test_a_notes_edit_of_a_published_stage_is_no_correction(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 110)))
    url, values = stage_page(editor, 1)
    saved = editor.post(url, data=values | {"notes": "Mariupol defenders among them"})
    assert saved.status_code == 200  # no reason asked for
    revisions = session.exec(select(Revision).where(Revision.entity == "stage")).all()
    assert [(r.action, r.is_correction, r.reason) for r in revisions] == [
        ("create", False, None), ("update", False, None),
    ]  # fmt: skip
    public = parse(editor.get(f"/exchanges/{SLUG}").text)
    assert texts(public, ".stage .notes") == ["Mariupol defenders among them"]
    assert public.select(".correction") == []
    assert "Correction" not in text(public.select_one(".stages"))


@pytest.mark.postgresql
def test_saving_an_unchanged_stage_writes_nothing(editor: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 110), notes="as announced"))
    url, values = stage_page(editor, 1)
    assert editor.post(url, data=values, follow_redirects=False).status_code == 303
    stage = session.get(Stage, 1)
    assert stage is not None
    session.refresh(stage)
    assert stage.version == 1
    assert len(session.exec(select(Revision).where(Revision.entity == "stage")).all()) == 1


@pytest.mark.postgresql
def test_a_refused_edit_loses_nothing(editor: TestClient, session: Session) -> None:
    """What is stored stays as it was; what was typed stays in the form."""
    make_exchange(session, stage_data(a=(270, 110)))
    url, values = stage_page(editor, 1)
    typed = values | {"notes": "new note", "release_0_military": "100001", "reason": "typo"}
    refused = editor.post(url, data=typed)
    assert refused.status_code == 400
    page = parse(refused.text)
    assert errors_shown(page) == {"release_0_military": TOO_MANY}
    shown = form_values(page, "#stage-form")
    assert (shown["notes"], shown["release_0_military"], shown["reason"]) == (
        "new note", "100001", "typo",
    )  # fmt: skip
    stage = session.get(Stage, 1)
    assert stage is not None
    session.refresh(stage)
    assert (stage.version, stage.notes) == (1, "")
    assert public_people(editor) == [380, 380]


@pytest.mark.postgresql
def test_two_editors_changing_one_figure_the_second_chooses_between_both_in_words(
    editor: TestClient, other_editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 110)))
    url, mine = stage_page(editor, 1)
    _, theirs = stage_page(other_editor, 1)
    first = other_editor.post(
        url, data=theirs | {"release_0_civilian": "120", "reason": "MoD figure"}
    )
    assert first.status_code == 200  # redirected to the exchange page
    typed = mine | {"release_0_civilian": "125", "notes": "mine", "reason": "my figure"}
    second = editor.post(url, data=typed)
    assert second.status_code == 409
    page = parse(second.text)
    assert text(page.select_one("#conflict-heading")) == "Someone else saved this first"
    assert page.select(".conflict pre") == []  # never the record as data
    [clash] = page.select(".clash")
    assert text(clash.select_one("legend")) == "Released"
    yours, saved = (text(value) for value in clash.select(".clash-value"))
    assert "270 military, 125 civilians" in yours
    assert "270 military, 120 civilians" in saved
    assert "Russia to Ukraine" in saved
    shown = form_values(page, "#stage-form")
    assert (shown["release_0_civilian"], shown["notes"], shown["version"]) == ("125", "mine", "2")
    assert public_people(editor) == [390, 390]

    # Saving again without choosing shows the choice again; nothing is overwritten unseen.
    again = editor.post(url, data=shown | {"clash": "releases"})
    assert again.status_code == 409
    assert public_people(editor) == [390, 390]
    kept = editor.post(url, data=shown | {"clash": "releases", "keep_releases": "theirs"})
    assert kept.status_code == 200
    assert public_people(editor) == [390, 390]
    assert session.get(Stage, 1) is not None
    assert writes_snapshot(session)["notes"] == "mine"  # their figure, and my notes


def test_a_clash_over_sources_says_who_speaks_for_whom_and_the_counts_they_gave(
    editor: TestClient, other_editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 110)))
    url, mine = stage_page(editor, 1)
    _, theirs = stage_page(other_editor, 1)
    given = {"source_0_speaks_for": "ukraine", "source_0_gives_releases": "1"}
    assert other_editor.post(url, data=theirs | given).status_code == 200
    second = editor.post(url, data=mine | {"source_0_claim": "Kyiv's count"})
    assert second.status_code == 409
    [clash] = parse(second.text).select(".clash")
    assert text(clash.select_one("legend")) == "Sources"
    yours, saved = (text(value) for value in clash.select(".clash-value"))
    assert "Kyiv's count" in yours
    assert "gave" not in yours
    assert ", for Ukraine" in saved
    assert (
        "gave Ukraine 270 military, 110 civilians, 380 people in all; Russia 270 military" in saved
    )


def test_choices_between_two_versions_survive_a_save_refused_for_another_reason(
    editor: TestClient, other_editor: TestClient, session: Session
) -> None:
    """Found in review: a missing reason dropped the choices, and the next save put the
    editor's own notes over the ones they had chosen to keep."""
    make_exchange(session, stage_data(a=(270, 110), notes="as announced"))
    url, mine = stage_page(editor, 1)
    _, theirs = stage_page(other_editor, 1)
    changed = {"release_0_civilian": "120", "notes": "theirs", "reason": "MoD figure"}
    assert other_editor.post(url, data=theirs | changed).status_code == 200
    typed = mine | {"release_0_civilian": "125", "notes": "mine", "reason": "my figure"}
    shown = form_values(parse(editor.post(url, data=typed).text), "#stage-form")
    choices = {"clash": ["notes", "releases"], "keep_notes": "theirs", "keep_releases": "mine"}
    refused = editor.post(url, data=shown | choices | {"reason": ""})
    assert refused.status_code == 400  # the figure changes: a reason is needed
    page = parse(refused.text)
    carried = {
        (str(field["name"]), str(field["value"]))
        for field in page.select("#stage-form input[type=hidden]")
        if str(field["name"]).startswith(("clash", "keep_"))
    }
    assert carried == {
        ("clash", "notes"), ("clash", "releases"), ("keep_notes", "theirs"),
        ("keep_releases", "mine"),
    }  # fmt: skip
    again = form_values(page, "#stage-form") | choices
    saved = editor.post(url, data=again | {"reason": "Kyiv's figure"})
    assert saved.status_code == 200
    stored = writes_snapshot(session)
    assert (stored["notes"], stored["releases"][0]["civilian"]) == ("theirs", 125)


@pytest.mark.postgresql
def test_two_editors_changing_different_fields_both_keep_their_change(
    editor: TestClient, other_editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 110), notes="as announced"))
    url, mine = stage_page(editor, 1)
    _, theirs = stage_page(other_editor, 1)
    first = other_editor.post(
        url, data=theirs | {"release_0_civilian": "120", "reason": "MoD figure"}
    )
    assert first.status_code == 200
    second = editor.post(url, data=mine | {"notes": "Kyiv confirmed"}, follow_redirects=False)
    assert second.status_code == 303
    assert "kept=releases" in second.headers["location"]
    notice = parse(editor.get(second.headers["location"]).text).select_one("#merged")
    assert "Released" in text(notice)
    stored = writes_snapshot(session)
    assert (stored["notes"], stored["releases"][0]["civilian"]) == ("Kyiv confirmed", 120)
    assert public_people(editor) == [390, 390]


def writes_snapshot(session: Session) -> dict[str, Any]:
    session.expire_all()
    stage = session.get(Stage, 1)
    assert stage is not None
    return writes.stage_snapshot(session, stage, with_sides=False)


def test_a_published_figure_change_needs_a_reason_and_shows_a_correction(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 110)))
    url, values = stage_page(editor, 1)
    refused = editor.post(url, data=values | {"release_0_civilian": "120"})
    assert refused.status_code == 400
    assert errors_shown(parse(refused.text)) == {
        "reason": "say why the published figures change; readers see it as a correction"
    }
    saved = editor.post(url, data=values | {"release_0_civilian": "120", "reason": "MoD revised"})
    assert saved.status_code == 200
    public = parse(editor.get(f"/exchanges/{SLUG}").text)
    assert texts(public, ".correction")[0].endswith("MoD revised")
    revisions = session.exec(select(Revision).where(Revision.entity == "stage")).all()
    assert [r.is_correction for r in revisions] == [False, True]


def test_history_and_restore(editor: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 110)))
    url, values = stage_page(editor, 1)
    editor.post(url, data=values | {"release_0_civilian": "120", "reason": "wrong"})
    history = parse(editor.get("/editor/stages/1/history").text)
    assert texts(history, ".history li > p strong") == ["Corrected", "Created"]
    restore = history.select_one(".history form")
    assert restore is not None
    data = {i["name"]: i["value"] for i in restore.select("input")}
    response = editor.post("/editor/stages/1/restore", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert public_people(editor) == [380, 380]
    actions = session.exec(select(Revision.action).order_by(Revision.id)).all()
    assert actions == ["create", "create", "update", "update"]


HISTORY_WORDING = untranslated(
    "Corrected", "Reason", "Before:", "After:", "The stored record, before and after (JSON)"
)


def stage_created_at(session: Session, when: dt.datetime) -> None:
    created = session.exec(select(Revision).where(Revision.entity == "stage")).one()
    created.at = when
    session.add(created)
    session.commit()


def history_entries(client: TestClient, url: str, lang: str = "en") -> list[dict[str, Any]]:
    """Each revision as the history page says it: its head line, correction, and fields."""
    response = client.get(url, headers={"Accept-Language": lang})
    assert response.status_code == 200
    return [
        {
            "head": text(item.select_one(".revision-head")),
            "correction": texts(item, ".correction[role=note]"),
            "fields": dict(
                zip(texts(item, ".changes dt"), texts(item, ".changes dd"), strict=True)
            ),
            # The stored record only behind its own summary, never as the entry itself.
            "raw": [
                text(pre.find_parent("details").select_one("summary")) for pre in item.select("pre")
            ],
        }
        for item in parse(response.text).select(".history > li")
    ]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            [
                {
                    "head": "Corrected · 2 December 2026, 09:30 UTC · editor@example.org",
                    "correction": ["Russia received 1,261, not 246."],
                    "fields": {
                        "Reason": "15 wounded were returned too",
                        "Date": "23 May 2025 → 24 May 2025",
                        "Released": "Before: Russia to Ukraine: 270 military, 120 civilians, 390"
                        " people in all Ukraine to Russia: 200 military, 46 civilians, 246 people"
                        " in all After: Russia to Ukraine: 270 military, 120 civilians, 390 people"
                        " in all Ukraine to Russia: 1,215 military, 46 civilians, 1,261 people in"
                        " all",
                        "Notes": "(empty) → Kyiv confirmed",
                    },
                    "raw": ["The stored record, before and after (JSON)"] * 2,
                },
                {
                    "head": "Created · 24 May 2025, 08:00 UTC · test",
                    "correction": [],
                    "fields": {},
                    "raw": ["The stored record, before and after (JSON)"] * 2,
                },
            ],
        ),
        pytest.param(
            "uk",
            [
                {
                    "head": "Виправлено · 2 грудня 2026 р., 09:30 UTC · editor@example.org",
                    "correction": ["Росія: отримано 1 261, а не 246."],
                    "fields": {
                        "Причина": "15 wounded were returned too",
                        "Дата": "23 травня 2025 р. → 24 травня 2025 р.",
                        "Передано": "Було: Росія → Україна: 270 військові, 120 цивільні, 390"
                        " усього людей Україна → Росія: 200 військові, 46 цивільні, 246 усього"
                        " людей Стало: Росія → Україна: 270 військові, 120 цивільні, 390 усього"
                        " людей Україна → Росія: 1 215 військові, 46 цивільні, 1 261 усього людей",
                        "Примітки": "(порожньо) → Kyiv confirmed",
                    },
                    "raw": ["Збережений запис до і після (JSON)"] * 2,
                },
                {
                    "head": "Створено · 24 травня 2025 р., 08:00 UTC · test",
                    "correction": [],
                    "fields": {},
                    "raw": ["Збережений запис до і після (JSON)"] * 2,
                },
            ],
            marks=HISTORY_WORDING,
        ),
    ],
)
def test_the_history_says_each_revision_in_words(
    editor: TestClient, session: Session, lang: str, expected: list[dict[str, Any]]
) -> None:
    make_exchange(session, stage_data(a=(270, 120), b=(200, 46)))
    name_parties_in_ukrainian(session, ukraine="Україна", russia="Росія")
    stage_created_at(session, dt.datetime(2025, 5, 24, 8, tzinfo=dt.UTC))
    corrected = stage_data(
        a=(270, 120), b=(1215, 46), date=dt.date(2025, 5, 24), notes="Kyiv confirmed"
    )
    at = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)
    correct_stage(session, 1, corrected, reason="15 wounded were returned too", at=at)
    assert history_entries(editor, "/editor/stages/1/history", lang) == expected


def test_the_history_of_a_figure_first_disclosed_outside_the_deal(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 120), b=(None, None)))
    stage_created_at(session, dt.datetime(2025, 5, 24, 8, tzinfo=dt.UTC))
    outside = {"released_by": "ukraine", "received_by": "russia", "kind": "living", "people": 15}
    corrected = stage_data(
        sides=None,
        releases=[
            {"released_by": "russia", "received_by": "ukraine", "military": 270, "civilian": 120},
            {"released_by": "ukraine", "received_by": "russia", "people": 246},
            outside | {"outside_deal": True},
        ],
    )
    correct_stage(session, 1, corrected, reason="MoD", at=dt.datetime(2026, 12, 2, tzinfo=dt.UTC))
    [correction, _] = history_entries(editor, "/editor/stages/1/history")
    assert correction["correction"] == [
        "Russia received 246 (previously undisclosed). Outside the exchange, Russia also"
        " received 15."
    ]
    assert correction["fields"]["Released"].endswith(
        "After: Russia to Ukraine: 270 military, 120 civilians, 390 people in all Ukraine to"
        " Russia: 246 people in all Ukraine to Russia: 15 people in all · outside the deal"
    )


def test_deleting_and_restoring_a_stage_are_in_its_history(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data())
    stage = session.get(Stage, 1)
    assert stage is not None
    writes.delete_stage(
        session, stage=stage, expected_version=1, actor="ed@example.org", user_id=None,
        reason="entered twice",
    )  # fmt: skip
    writes.restore_deleted_stage(
        session, stage=stage, expected_version=stage.version, actor="admin@example.org",
        user_id=None,
    )  # fmt: skip
    writes.update_stage(
        session, stage=stage, data=stage_data(published=False), expected_version=stage.version,
        actor="ed@example.org",
    )  # fmt: skip
    session.commit()
    entries = history_entries(editor, "/editor/stages/1/history")
    # Numbered from the count of revisions: left to Chromium, 2 revisions with lists of their
    # own were numbered from 4.
    listing = parse(editor.get("/editor/stages/1/history").text).select_one("ol.history")
    assert listing is not None
    assert (listing.get("reversed"), listing.get("start")) == ("", "4")
    assert [entry["head"].split(" · ")[::2] for entry in entries] == [
        ["Edited", "ed@example.org"], ["Restored", "admin@example.org"],
        ["Deleted", "ed@example.org"], ["Created", "test"],
    ]  # fmt: skip
    assert [entry["fields"] for entry in entries] == [
        {"Published": "Published → Draft"}, {"Reason": "restored after deletion"},
        {"Reason": "entered twice"}, {},
    ]  # fmt: skip


def test_the_history_of_an_exchange_says_its_fields_in_words(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data())
    url = f"/editor/exchanges/{SLUG}"
    values = form_values(parse(editor.get(url).text), "form.editor-form")
    changed = {"title_uk": "Стамбул", "status": "completed", "party_1_target_people": "1200"}
    saved = editor.post(url, data=values | changed | {"reason": "misread the deal"})
    assert saved.status_code == 200
    [edit, created] = history_entries(editor, f"{url}/history")
    assert edit["head"].split(" · ")[0] == "Corrected"
    assert edit["fields"] == {
        "Reason": "misread the deal",
        "Title (Ukrainian)": "(empty) → Стамбул",
        "Status": "in progress → completed",
        "Parties": "Before: Ukraine: 1,000 people in all Russia: 1,000 people in all"
        " After: Ukraine: 1,000 people in all Russia: 1,200 people in all",
    }
    assert created["head"].split(" · ")[0] == "Created"


def test_soft_delete_then_admin_restore(
    editor: TestClient, session: Session, client: TestClient
) -> None:
    make_exchange(session, stage_data())
    form = parse(editor.get("/editor/stages/1").text).select_one("form.danger-zone")
    assert form is not None
    version = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}["version"]
    deleted = post_form(
        editor, "/editor/stages/1", "/editor/stages/1/delete", {"reason": "dup", "version": version}
    )
    assert deleted.status_code == 303
    assert public_people(editor) == [0, 0]
    assert editor.get("/editor/stages/1").status_code == 404
    make_user(session, "boss@example.org", role="admin")
    with TestClient(client.app) as admin:
        sign_in(admin, "boss@example.org")
        assert texts(parse(admin.get("/admin/deleted").text), ".editor-stages li")[0].startswith(
            SLUG
        )
        restore = parse(admin.get("/admin/deleted").text).select_one(".editor-stages form")
        assert restore is not None
        fields = {i["name"]: i["value"] for i in restore.select("input[type=hidden]")}
        assert fields["version"] == "2"
        post_form(admin, "/admin/deleted", "/admin/stages/1/restore", {"version": "2"})
    assert public_people(editor) == [390, 390]


@pytest.mark.postgresql
def test_deleting_a_stage_another_editor_just_corrected_is_refused(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data())
    seen = "1"  # the version on the delete form this editor opened
    stage = session.get(Stage, 1)
    assert stage is not None
    corrected = stage_data((271, 120), (270, 120))
    writes.update_stage(
        session, stage=stage, data=corrected, expected_version=1, actor="other@example.org",
        reason="Kyiv's corrected figure",
    )  # fmt: skip
    session.commit()

    refused = post_form(
        editor, "/editor/stages/1", "/editor/stages/1/delete", {"reason": "dup", "version": seen}
    )

    assert refused.status_code == 409
    assert "reload" in refused.text
    session.expire_all()
    stored = session.get(Stage, 1)
    assert stored is not None
    assert (stored.deleted_at, stored.version) == (None, 2)
    assert public_people(editor) == [391, 390]


@pytest.mark.postgresql
def test_restoring_a_stage_changed_since_the_admin_saw_it_is_refused(
    editor: TestClient, session: Session, client: TestClient
) -> None:
    make_exchange(session, stage_data())
    post_form(editor, "/editor/stages/1", "/editor/stages/1/delete", {"version": "1"})
    make_user(session, "boss@example.org", role="admin")
    with TestClient(client.app) as admin:
        sign_in(admin, "boss@example.org")
        stale = post_form(admin, "/admin/deleted", "/admin/stages/1/restore", {"version": "1"})
        missing = post_form(admin, "/admin/deleted", "/admin/stages/1/restore", {})

    assert (stale.status_code, missing.status_code) == (409, 400)
    assert public_people(editor) == [0, 0]


def test_drafts_stay_out_of_public_view(editor: TestClient, session: Session) -> None:
    make_exchange(session)
    post_form(editor, NEW_STAGE, NEW_STAGE, STAGE | {"published": ""})
    assert public_people(editor) == [0, 0]
    editor_page = parse(editor.get(f"/editor/exchanges/{SLUG}").text)
    assert texts(editor_page, ".editor-stages li") == [
        "23 May 2025 · reported · draft · v1 · History"
    ]


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


def test_a_refused_save_lists_each_error_at_the_top_linking_to_its_field(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 110)))
    url, values = stage_page(editor, 1)
    typed = values | {"release_0_military": "12o", "source_0_url": "not a url", "reason": "x"}
    page = parse(editor.post(url, data=typed).text)
    summary = page.select_one("#error-summary")
    assert summary is not None
    assert summary["role"] == "alert"
    links = {a["href"]: text(a) for a in summary.select("a")}
    assert links["#f-release_0_military"].startswith("Release 1 · Military: ")
    assert links["#f-source_0_url"].startswith("Source 1 · Address (http or https): ")
    for href in links:  # each link leads to a control on the page
        assert page.select_one(str(href)) is not None
    preview = [text(a) for a in page.select("#stage-preview .preview-errors a")]
    assert "Release 1 · Military" in preview
